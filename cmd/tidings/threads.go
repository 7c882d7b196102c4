package main

import (
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tidings/tidings/store"
)

func threadsCommand() *command {
	return &command{
		name:     "threads",
		synopsis: "[--team NAME] [--json]",
		summary:  "list threads, most recently active first; --json: [{id, team, subject, message_ids, last_at}]",
		where:    inStore,
		setup: func(fs *flag.FlagSet) runFunc {
			team := fs.String("team", "", "only threads of team `NAME`")
			asJSON := fs.Bool("json", false, "print a JSON array")
			return func(e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				return threads(e, *team, *asJSON)
			}
		},
	}
}

// threadJSON is the stable --json form of a thread in a list.
type threadJSON struct {
	ID         uint64    `json:"id"`
	Team       string    `json:"team"`
	Subject    string    `json:"subject"`
	MessageIDs []string  `json:"message_ids"` // in thread order
	LastAt     time.Time `json:"last_at"`
}

func threads(e *env, team string, asJSON bool) error {
	var out []threadJSON
	err := e.st.View(func(tx *store.Tx) error {
		if team != "" {
			if err := teamExists(tx, team); err != nil {
				return err
			}
		}
		ths, err := tx.Threads(team)
		if err != nil {
			return err
		}
		out = make([]threadJSON, 0, len(ths))
		for _, th := range ths {
			msgs, err := tx.ThreadMessages(th.ID)
			if err != nil {
				return fmt.Errorf("thread %d: %w", th.ID, err)
			}
			ids := make([]string, 0, len(msgs))
			for _, m := range msgs {
				ids = append(ids, m.MessageID)
			}
			out = append(out, threadJSON{ID: th.ID, Team: th.Team, Subject: th.Subject, MessageIDs: ids, LastAt: th.LastAt.UTC()})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("threads: %w", err)
	}
	if asJSON {
		return e.writeJSON(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(e.stdout, "no threads")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTEAM\tMSGS\tLAST (UTC)\tSUBJECT")
	for _, th := range out {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", th.ID, th.Team, len(th.MessageIDs), th.LastAt.Format("2006-01-02 15:04"), oneLine(th.Subject))
	}
	return tw.Flush()
}
