package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/digest"
	"github.com/tidings/tidings/mailout"
	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

// newNotifier builds the Notifier serve's pipeline calls for each message
// posted (copies for members in mode immediate, urgent mail for those at
// work) and for the automatic answers. It queues its mail in the outbox
// inside the pipeline's transaction, and calls wake (the deliverer's
// Notify) once that transaction has committed, so that the mail leaves
// within moments rather than at the deliverer's next round.
func newNotifier(st *store.Store, cfg *config.Config, r *templates.Renderer, log *slog.Logger, wake func()) *digest.Notifier {
	var queued func()
	if wake != nil {
		queued = (&commitWaker{st: st, wake: wake}).trigger
	}
	return &digest.Notifier{
		Renderer: r,
		Domain:   cfg.Domain,
		BaseURL:  cfg.HTTP.BaseURL,
		Defaults: digestDefaults(cfg),
		Queue:    queueNotice(cfg.Domain, queued),
		Logger:   log,
	}
}

// queueNotice returns the Notifier's queue: a notification goes out like a
// digest, as list mail of its team (List-Id), with the team's address as
// envelope sender; an answer as it is composed. It runs inside the
// pipeline's transaction and depends only on what it is given, so a
// transaction run again queues the same bytes under the same Message-ID.
// queued, when set, is told of each mail queued (inside the transaction).
func queueNotice(domain string, queued func()) digest.NotifyQueueFunc {
	return func(tx *store.Tx, n digest.Notice) (uint64, error) {
		m := n.Mail
		if n.Kind == digest.NoticeNotify {
			m.ListID, m.ListName = listID(n.Team.Name, domain), n.Team.Name
		}
		id, err := mailout.Queue(tx, m, n.Kind, n.Member.Address, n.EnvelopeFrom, m.Date)
		if err == nil && queued != nil {
			queued()
		}
		return id, err
	}
}

// commitWaker calls wake once the transaction running when trigger was
// called is over. The pipeline's transaction is the store's, so the one
// way to know that it committed is to wait for the store's next commit: an
// empty Update queued behind it returns only after the transaction in
// flight is on disk (or rolled back). One goroutine at a time waits; a
// trigger that comes while it does makes it wait once more, so no
// committed mail is left for the deliverer's next round, and a busy
// pipeline costs one empty commit per batch at most.
type commitWaker struct {
	st   *store.Store
	wake func()

	mu      sync.Mutex
	waiting bool // a goroutine is waiting for a commit
	again   bool // triggered since that wait began
}

func (c *commitWaker) trigger() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting {
		c.again = true
		return
	}
	c.waiting = true
	go c.wait()
}

func (c *commitWaker) wait() {
	for {
		// After Close the store answers ErrClosed at once: nothing is
		// left to deliver then.
		c.st.Update(context.Background(), func(*store.Tx) error { return nil })
		c.wake()
		c.mu.Lock()
		if !c.again {
			c.waiting = false
			c.mu.Unlock()
			return
		}
		c.again = false
		c.mu.Unlock()
	}
}
