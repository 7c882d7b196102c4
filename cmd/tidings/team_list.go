package main

import (
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/tidings/tidings/store"
)

func teamListCommand() *command {
	return &command{
		name:     "team list",
		synopsis: "[--json]",
		summary:  "list teams; --json: [{name, address, allow}]",
		where:    inStore,
		setup: func(fs *flag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print a JSON array")
			return func(e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				return teamList(e, *asJSON)
			}
		},
	}
}

// teamJSON is the stable --json form of a team.
type teamJSON struct {
	Name    string   `json:"name"`
	Address string   `json:"address"`
	Allow   []string `json:"allow"`
}

func teamList(e *env, asJSON bool) error {
	var teams []store.Team
	if err := e.st.View(func(tx *store.Tx) error {
		var err error
		teams, err = tx.Teams()
		return err
	}); err != nil {
		return fmt.Errorf("team list: %w", err)
	}
	if asJSON {
		out := make([]teamJSON, 0, len(teams))
		for _, t := range teams {
			out = append(out, teamJSON{Name: t.Name, Address: t.Address, Allow: append([]string{}, t.Allow...)})
		}
		return e.writeJSON(out)
	}
	if len(teams) == 0 {
		fmt.Fprintln(e.stdout, "no teams yet: add one with 'tidings team add NAME'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADDRESS\tALLOWED OUTSIDE SENDERS")
	for _, t := range teams {
		allow := strings.Join(t.Allow, ", ")
		if allow == "" {
			allow = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.Address, allow)
	}
	return tw.Flush()
}
