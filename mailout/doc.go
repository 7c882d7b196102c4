// Package mailout sends mail: it composes outgoing messages with the headers
// a digest needs (RFC 2369 list fields, RFC 8058 one-click unsubscribe,
// RFC 3834 Auto-Submitted), queues them in the store's durable outbox, and
// delivers them from there.
//
// A mail's bytes, its Message-ID included, are fixed when it is queued:
// every attempt sends the same mail, so a retry after a crash can repeat a
// mail but never make a second one. The default delivery is a Maildir
// (<data_dir>/outbox); a mail reaches its new/ directory exactly once, even
// across a crash between the file's rename and the store's record of it
// (see Deliverer). The other delivery is a Relay: an SMTP relay reached
// with STARTTLS or implicit TLS and AUTH PLAIN, signing with DKIM at
// delivery time, so that the stored bytes stay unsigned and a key change
// applies to mail already queued. A relay's temporary failures are retried
// with backoff until the mail's lifetime ends; its refusals are recorded
// per recipient at once.
package mailout
