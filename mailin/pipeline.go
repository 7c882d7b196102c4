package mailin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/store"
)

// Rejection is a permanent refusal of a message, with the SMTP reply that
// says why. The SMTP server answers it as is; import logs and skips.
type Rejection struct {
	Code     int    // 550, 552, 554
	Enhanced [3]int // e.g. {5, 7, 1}
	Reason   string // one sentence for the sender
}

func (r *Rejection) Error() string {
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, r.Enhanced[0], r.Enhanced[1], r.Enhanced[2], r.Reason)
}

// ErrUnknownRecipient is returned by Recipient for addresses that are not a
// team's.
var ErrUnknownRecipient = errors.New("mailin: no such team address")

// PipelineOptions configure a Pipeline. The zero value is usable: domain
// "localhost", a discarding logger, time.Now, default limits.
type PipelineOptions struct {
	Domain string
	Logger *slog.Logger
	Now    func() time.Time
	Limits Limits
	// Notifier, when set, is told of each message posted to a thread and
	// asked for automatic answers, inside the storing transaction.
	Notifier Notifier
	// Queued, when set, is called after a transaction in which the
	// Notifier was called has committed: the mail it queued may leave
	// now (the deliverer's Notify). It must not block.
	Queued func()
	// ReactionWords are the acknowledgements that make a reply a reaction;
	// nil means DefaultReactionWords.
	ReactionWords []string
}

// Pipeline is the one path by which mail enters the store: parse, check the
// sender, dedupe, thread, store.
type Pipeline struct {
	st       *store.Store
	domain   string
	log      *slog.Logger
	now      func() time.Time
	limits   Limits
	notifier Notifier
	queued   func()
	words    []string
}

// NewPipeline returns a pipeline writing to st.
func NewPipeline(st *store.Store, opts PipelineOptions) *Pipeline {
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Pipeline{st: st, domain: opts.Domain, log: opts.Logger.With("component", "mailin"), now: opts.Now,
		limits: opts.Limits, notifier: opts.Notifier, queued: opts.Queued, words: opts.ReactionWords}
}

// Delivery is one message for one or more teams.
type Delivery struct {
	Teams []string // team names, from the recipients
	// Tokens are the reply-address tokens the mail was sent to, by team
	// name (SMTP: "eng+TOKEN@example.com" gives "eng" → "TOKEN"). Such
	// mail posts as the member the token was made for, to its thread, or
	// is refused.
	Tokens map[string]string
	// FromMailbox marks mail fetched from a team's mailbox (IMAP): with
	// no Tokens, the reply-address tokens are read from the envelope
	// recipients the delivering MTA recorded (Delivered-To, X-Original-To)
	// or, without those, from To and Cc.
	FromMailbox     bool
	EnvelopeFrom    string // MAIL FROM, "" for the null sender
	Raw             []byte
	SkipSenderCheck bool // import: an administrator's act
	// Record, when set, runs inside the transaction that decides the
	// message — stored, a duplicate, or refused by the sender check — after
	// that decision, so that a source can note its position (the IMAP
	// poller's last UID) atomically with the message. Its error aborts the
	// transaction, which makes delivery fail temporarily. It is not called
	// for mail that cannot be parsed at all, and the transaction may run
	// it more than once (the group commit re-runs a batch after a sibling
	// failed), so it must only write what the attempt decides.
	Record func(tx *store.Tx, o Outcome, refused error) error
}

// Outcome says what Deliver did with a message.
type Outcome struct {
	MessageID  string
	Stored     []uint64 // store sequence numbers, one per team it was new to
	Duplicates []string // teams that already had it
	Auto       string   // the message was an auto-reply or bounce, kept unthreaded

	notified bool // the Notifier was called for it
}

// Rcpt is a recipient address resolved: its team, and for a reply address
// ("eng+TOKEN@example.com") the token, checked only once the message's
// From is known.
type Rcpt struct {
	Team  store.Team
	Token string
}

// Recipient resolves an RCPT TO address: a team's address, or a reply
// address of one.
func (p *Pipeline) Recipient(addr string) (Rcpt, error) {
	var r Rcpt
	err := p.st.View(func(tx *store.Tx) error {
		var err error
		r.Team, err = tx.TeamByAddress(addr)
		if errors.Is(err, store.ErrNotFound) {
			if base, token, ok := links.SplitAddress(addr); ok && token != "" {
				r.Team, err = tx.TeamByAddress(base)
				r.Token = token
			}
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Rcpt{}, ErrUnknownRecipient
	}
	return r, err
}

// Deliver parses, checks, threads and stores one message and returns once it
// is on disk. A *Rejection error is permanent; any other error is temporary.
func (p *Pipeline) Deliver(ctx context.Context, d Delivery) (Outcome, error) {
	outs, errs := p.DeliverBatch(ctx, []Delivery{d})
	return outs[0], errs[0]
}

// DeliverBatch is Deliver for many messages at once, sharing transactions:
// the import path. outs[i] and errs[i] answer ds[i].
func (p *Pipeline) DeliverBatch(ctx context.Context, ds []Delivery) (outs []Outcome, errs []error) {
	return p.deliverBatch(ctx, ds)
}
