// Command tidings is the one binary of tidings: `tidings serve` runs the
// service (SMTP in, threading, storage), and the other subcommands manage
// teams and members, look at threads, import archives and back up the
// database.
//
// Every subcommand is one file here, built from the table in commands.go.
// Commands that need the database run in one of two ways with the same code:
// when a server is running, the command line is sent over the control socket
// and the server runs it against its open store; otherwise the command opens
// the database itself.
package main
