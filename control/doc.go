// Package control is the local control socket of a running tidings server.
// While `tidings serve` holds the database, an admin command such as
// `tidings team add` cannot open it; instead it connects to the unix socket
// in the data directory and asks the server to run the very same command
// against its open store. The server streams the command's output and
// progress back and ends with its exit code.
//
// The protocol is JSON lines. The client sends one Request; the server
// answers with frames, each one JSON object on its own line: {"stdout":…},
// {"stderr":…}, {"progress":{…}}, and finally {"exit":N}. The client closing
// its end cancels the command.
package control
