package main

import (
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/tidings/tidings/store"
)

func memberListCommand() *command {
	return &command{
		name:     "member list",
		synopsis: "[--team NAME] [--json]",
		summary:  "list members; --json: [{address, name, tz, start, days, teams: {team: mode}, aliases: [address] (when any)}]",
		where:    inStore,
		setup: func(fs *flag.FlagSet) runFunc {
			team := fs.String("team", "", "only members of team `NAME`")
			asJSON := fs.Bool("json", false, "print a JSON array")
			return func(e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				return memberList(e, *team, *asJSON)
			}
		},
	}
}

// memberJSON is the stable --json form of a member.
type memberJSON struct {
	Address string            `json:"address"`
	Name    string            `json:"name"`
	TZ      string            `json:"tz"`
	Start   string            `json:"start"`
	Days    string            `json:"days"`
	Teams   map[string]string `json:"teams"` // team name -> digest | immediate | off
	// Aliases are the member's other addresses, sorted; left out when
	// there are none.
	Aliases []string `json:"aliases,omitempty"`
	// Muted and Followed are thread IDs the member muted or follows (by
	// mail or on the web); empty arrays when none.
	Muted    []uint64 `json:"muted"`
	Followed []uint64 `json:"followed"`
}

func memberList(e *env, team string, asJSON bool) error {
	var members []store.Member
	err := e.st.View(func(tx *store.Tx) error {
		if team != "" {
			if err := teamExists(tx, team); err != nil {
				return err
			}
		}
		all, err := tx.Members()
		for _, m := range all {
			if _, in := m.Teams[team]; team == "" || in {
				members = append(members, m)
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("member list: %w", err)
	}
	if asJSON {
		out := make([]memberJSON, 0, len(members))
		for _, m := range members {
			teams := make(map[string]string, len(m.Teams))
			for t, mode := range m.Teams {
				teams[t] = mode
			}
			out = append(out, memberJSON{Address: m.Address, Name: m.Name, TZ: m.Zone, Start: m.Start, Days: m.Days, Teams: teams,
				Aliases: m.Aliases, Muted: append([]uint64{}, m.Muted...), Followed: append([]uint64{}, m.Followed...)})
		}
		return e.writeJSON(out)
	}
	if len(members) == 0 {
		fmt.Fprintln(e.stdout, "no members")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tNAME\tZONE\tSTART\tDAYS\tTEAMS\tALIASES")
	for _, m := range members {
		name := m.Name
		if name == "" {
			name = "-"
		}
		aliases := strings.Join(m.Aliases, ", ")
		if aliases == "" {
			aliases = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Address, name, m.Zone, m.Start, m.Days, teamModes(m), aliases)
	}
	return tw.Flush()
}
