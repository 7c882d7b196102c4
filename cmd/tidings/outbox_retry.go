package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/tidings/tidings/store"
)

func outboxRetryCommand() *command {
	return &command{
		name:       "outbox retry",
		synopsis:   "ID",
		summary:    "try a failed mail again now, for its failed recipients, with a fresh lifetime (a queued one: now instead of later)",
		where:      inStore,
		queuesMail: true,
		setup: func(fs *flag.FlagSet) runFunc {
			return func(e *env, args []string) error {
				if err := wantArgs(args, "ID"); err != nil {
					return err
				}
				id, err := strconv.ParseUint(args[0], 10, 64)
				if err != nil || id == 0 {
					return usagef("%q is not an outbox ID (see 'tidings outbox list')", args[0])
				}
				return outboxRetry(e, id)
			}
		},
	}
}

func outboxRetry(e *env, id uint64) error {
	var m store.OutMail
	err := e.st.Update(e.ctx, func(tx *store.Tx) error {
		var err error
		m, err = tx.RetryOutMail(id, e.now())
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("outbox retry: no mail %d in the outbox (see 'tidings outbox list')", id)
	}
	if err != nil {
		return fmt.Errorf("outbox retry: %w", err)
	}
	fmt.Fprintf(e.stdout, "mail %d (%s to %s) queued for delivery now\n", m.ID, m.Kind, strings.Join(m.Pending(), ", "))
	return nil
}
