package main

import (
	"log/slog"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/digest"
	"github.com/tidings/tidings/mailout"
	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

// newNotifier builds the Notifier serve's pipeline calls for each message
// posted (copies for members in mode immediate, urgent mail for those at
// work) and for the automatic answers. It queues its mail in the outbox
// inside the pipeline's transaction; the pipeline's Queued wakes the
// deliverer once that transaction has committed.
func newNotifier(cfg *config.Config, r *templates.Renderer, log *slog.Logger) *digest.Notifier {
	return &digest.Notifier{
		Renderer: r,
		Domain:   cfg.Domain,
		BaseURL:  cfg.HTTP.BaseURL,
		Defaults: digestDefaults(cfg),
		Queue:    queueNotice(cfg.Domain),
		Logger:   log,
	}
}

// queueNotice returns the Notifier's queue: a notification goes out like a
// digest, as list mail of its team (List-Id), with the team's address as
// envelope sender; an answer as it is composed. It runs inside the
// pipeline's transaction and depends only on what it is given, so a
// transaction run again queues the same bytes under the same Message-ID.
func queueNotice(domain string) digest.NotifyQueueFunc {
	return func(tx *store.Tx, n digest.Notice) (uint64, error) {
		m := n.Mail
		if n.Kind == digest.NoticeNotify {
			m.ListID, m.ListName = listID(n.Team.Name, domain), n.Team.Name
		}
		return mailout.Queue(tx, m, n.Kind, n.Member.Address, n.EnvelopeFrom, m.Date)
	}
}
