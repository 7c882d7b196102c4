// Package mailin brings mail in: the SMTP server, the IMAP poller, MIME
// parsing, sender checks, threading, reply addresses, quote and signature
// stripping (SplitReply), forwards (DetectForward), reactions and mail
// commands, and the import readers. Every message, however it arrives,
// goes through one Pipeline into the store; what arrival causes at once
// (notifications, automatic answers) it hands to a Notifier inside the
// same transaction.
//
// Parse reads mail with go-message and the standard library; the comment
// at the top of parse_mime.go says where our own code remains, and why.
package mailin
