package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings/tidings/mailin"
	"github.com/tidings/tidings/store"
)

// testCrashEnv names a point at which serve stops in its tracks, for the
// crash tests: "imap-after-store" holds each IMAP poller after it has
// stored a batch and before it tells the server, until the test kills the
// process. Nothing else reads it.
const testCrashEnv = "TIDINGS_TEST_CRASH"

// startIMAP starts one poller per [[imap]] block in g, each running until
// ctx ends; serve waits for g before it closes the store. A poller never
// gives up on its own: a wrong password or a missing mailbox is logged and
// counted, and the rest of the service runs on.
func startIMAP(ctx context.Context, g *sync.WaitGroup, e *env, st *store.Store, pipe *mailin.Pipeline, reg prometheus.Registerer, log *slog.Logger) error {
	cfg := e.cfg
	if len(cfg.IMAP) == 0 {
		return nil
	}
	metrics, err := mailin.NewIMAPMetrics(reg)
	if err != nil {
		return err
	}
	var afterStore func(context.Context) error
	if os.Getenv(testCrashEnv) == "imap-after-store" {
		afterStore = func(ctx context.Context) error {
			log.Warn("test hook: holding after storing, before marking", "component", "imap", "env", testCrashEnv)
			<-ctx.Done()
			return ctx.Err()
		}
	}
	pollers := make([]*mailin.IMAPPoller, len(cfg.IMAP))
	for i, b := range cfg.IMAP {
		p, err := mailin.NewIMAPPoller(pipe, mailin.IMAPOptions{
			Address:         b.Address,
			TLS:             b.TLS,
			Username:        b.Username,
			PasswordFile:    e.abs(b.PasswordFile),
			Mailbox:         b.Mailbox,
			Team:            b.Team,
			After:           b.After,
			PollInterval:    b.PollInterval,
			MaxMessageBytes: int64(cfg.SMTP.MaxMessageBytes),
			Logger:          log,
			Metrics:         metrics,
			AfterStore:      afterStore,
		})
		if err != nil {
			return fmt.Errorf("imap[%d]: %w", i, err)
		}
		pollers[i] = p
		if err := st.View(func(tx *store.Tx) error { _, err := tx.Team(b.Team); return err }); errors.Is(err, store.ErrNotFound) {
			// Not fatal: the team may be added while serve runs. Until
			// then every message is refused and left flagged.
			log.Warn("imap: the team does not exist yet; mail fetched for it is refused and left flagged",
				"component", "imap", "mailbox", p.Key(), "team", b.Team)
		}
	}
	for _, p := range pollers {
		g.Go(func() { p.Run(ctx) })
	}
	return nil
}
