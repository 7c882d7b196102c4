// Package mailin brings mail in: the SMTP server, MIME parsing, sender
// checks, threading and the import readers. Every message, however it
// arrives, goes through one Pipeline into the store.
//
// Parse reads mail with go-message and the standard library; the comment
// at the top of parse_mime.go says where our own code remains, and why.
package mailin
