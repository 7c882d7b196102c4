package main

import (
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tidings/tidings/store"
)

func outboxListCommand() *command {
	return &command{
		name:     "outbox list",
		synopsis: "[--state queued|sent|failed] [--json]",
		summary:  "list outgoing mail; --json: [{id, message_id, kind, member, from, to, state, attempts, next_attempt, last_answer, queued, done, recipients}]",
		where:    inStore,
		setup: func(fs *flag.FlagSet) runFunc {
			state := fs.String("state", "", "only mail in this state: queued, sent or failed")
			asJSON := fs.Bool("json", false, "print a JSON array")
			return func(e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				switch *state {
				case "", store.OutQueued, store.OutSent, store.OutFailed:
				default:
					return usagef("--state %q: want queued, sent or failed", *state)
				}
				return outboxList(e, *state, *asJSON)
			}
		},
	}
}

// outboxJSON is the stable --json form of an outgoing mail. Instants are
// RFC 3339 in UTC; next_attempt is null unless the mail is queued, done
// null until it is sent or failed.
type outboxJSON struct {
	ID          uint64             `json:"id"`
	MessageID   string             `json:"message_id"`
	Kind        string             `json:"kind"`
	Member      string             `json:"member"`
	From        string             `json:"from"` // the envelope sender; "" for the null sender
	To          []string           `json:"to"`
	State       string             `json:"state"` // queued, sent or failed
	Attempts    int                `json:"attempts"`
	NextAttempt *time.Time         `json:"next_attempt"`
	LastAnswer  string             `json:"last_answer"`
	Queued      time.Time          `json:"queued"`
	Done        *time.Time         `json:"done"`
	Recipients  []store.RcptResult `json:"recipients"` // each recipient's own result: [{addr, state, answer}]
}

func toOutboxJSON(m store.OutMail) outboxJSON {
	o := outboxJSON{ID: m.ID, MessageID: m.MessageID, Kind: m.Kind, Member: m.Member, From: m.From,
		To: append([]string{}, m.To...), State: m.State, Attempts: m.Attempts, LastAnswer: m.LastAnswer,
		Queued: m.Queued.UTC(), Recipients: append([]store.RcptResult{}, m.Recipients...)}
	if len(o.Recipients) == 0 {
		// Without results of their own, recipients share the mail's.
		for _, a := range m.To {
			o.Recipients = append(o.Recipients, store.RcptResult{Addr: a, State: m.State})
		}
	}
	if m.State == store.OutQueued {
		next := m.NextAttempt.UTC()
		o.NextAttempt = &next
	} else if !m.Done.IsZero() {
		done := m.Done.UTC()
		o.Done = &done
	}
	return o
}

func outboxList(e *env, state string, asJSON bool) error {
	var mails []store.OutMail
	if err := e.st.View(func(tx *store.Tx) error {
		return tx.OutMails(func(m store.OutMail) bool {
			if state == "" || m.State == state {
				mails = append(mails, m)
			}
			return true
		})
	}); err != nil {
		return fmt.Errorf("outbox list: %w", err)
	}
	if asJSON {
		out := make([]outboxJSON, 0, len(mails))
		for _, m := range mails {
			out = append(out, toOutboxJSON(m))
		}
		return e.writeJSON(out)
	}
	if len(mails) == 0 {
		if state != "" {
			fmt.Fprintf(e.stdout, "no %s mail in the outbox\n", state)
		} else {
			fmt.Fprintln(e.stdout, "the outbox is empty")
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tATTEMPTS\tKIND\tTO\tWHEN\tLAST ANSWER")
	for _, m := range mails {
		when := "-"
		switch {
		case m.State == store.OutQueued:
			when = "next " + m.NextAttempt.Local().Format(time.DateTime)
		case !m.Done.IsZero():
			when = m.Done.Local().Format(time.DateTime)
		}
		answer := strings.Join(strings.Fields(m.LastAnswer), " ")
		if answer == "" {
			answer = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", m.ID, m.State, m.Attempts, m.Kind, strings.Join(m.To, ", "), when, answer)
	}
	return tw.Flush()
}
