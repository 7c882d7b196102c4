// Package control is the local control socket of the tidings process that
// holds the database. Only one process can hold it: `tidings serve`, or an
// admin command run while no server is up. Any other admin command, such
// as `tidings team add`, cannot open it; instead it connects to the unix
// socket in the data directory and asks the holder to run the very same
// command against its open store. The holder streams the command's output
// and progress back and ends with its exit code.
//
// The protocol is JSON lines. The client sends one Request; the server
// answers with frames, each one JSON object on its own line: first
// {"started":true}, then {"stdout":…}, {"stderr":…}, {"progress":{…}}, and
// finally {"exit":N}. A connection that ends before any frame ran nothing,
// so the client may run the command elsewhere. The client closing its end
// cancels the command. A request with "who" set is answered with the
// holder's Info instead.
//
// The socket is created with mode 0600 and without a moment of wider
// access, and connections from other users (except root) are refused by
// their peer credentials.
package control
