// Package mailin brings mail in: the SMTP server, MIME parsing, sender
// checks, threading and the import readers. Every message, however it
// arrives, goes through one Pipeline into the store.
package mailin
