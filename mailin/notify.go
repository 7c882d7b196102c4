package mailin

import "github.com/tidings/tidings/store"

// Notifier sends the mail that arrival of a message causes at once: the
// copies for members in immediate mode and for urgent messages, and the
// short automatic answers the pipeline gives (a thread setting confirmed,
// how to reply to a digest). The pipeline calls it inside the transaction
// that stores the message, so what it queues in the outbox commits with the
// message or not at all: a crash never loses a notification of acknowledged
// mail, and never sends one twice.
//
// Its methods may run more than once for the same message when the group
// commit re-runs a transaction; they must only write through tx and queue
// under stable Message-IDs.
type Notifier interface {
	// Posted is called for each message stored into a thread (kinds
	// message, forward and reaction; never auto-replies, bounces or our
	// own looped mail), with its Thread and Parent set.
	Posted(tx *store.Tx, m *store.Message) error
	// Answer queues one automatic answer. The pipeline has already checked
	// that the mail answered may be answered (RFC 3834: not automatic,
	// not bulk, not ours) and applied its rate limits.
	Answer(tx *store.Tx, a Answer) error
}

// Kinds of Answer.
const (
	AnswerMuted      = "muted"       // the member muted the thread by mail
	AnswerUnmuted    = "unmuted"     // … unmuted it
	AnswerFollowed   = "followed"    // … followed it
	AnswerDigestHelp = "digest-help" // a reply to a whole digest that named no one thread
	// AnswerUnsubscribed confirms "unsubscribe" sent to a digest address
	// (the List-Unsubscribe mailto): the member's digest teams are off.
	AnswerUnsubscribed = "unsubscribed"
)

// Answer is one automatic answer to a member's mail.
type Answer struct {
	Kind   string
	Team   store.Team
	Member store.Member
	// Thread is the thread a setting changed for (zero for
	// AnswerDigestHelp).
	Thread store.Thread
	// InReplyTo, References and Subject are the answered mail's, so that
	// the answer threads under it in the member's client.
	InReplyTo  string
	References []string
	Subject    string
}
