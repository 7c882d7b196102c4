package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/tidings/tidings/store"
)

func teamAddCommand() *command {
	return &command{
		name:           "team add",
		synopsis:       "NAME [--address ADDR] [--allow ADDR|@DOMAIN ...]",
		summary:        "add a team; its address defaults to NAME@<domain>",
		where:          inStore,
		changesMembers: true,
		setup: func(fs *flag.FlagSet) runFunc {
			address := fs.String("address", "", "the team's `ADDR`ess (default NAME@domain)")
			var allow listFlag
			fs.Var(&allow, "allow", "outside sender allowed to post: an `ADDR` or @DOMAIN (repeatable)")
			return func(e *env, args []string) error {
				if err := wantArgs(args, "NAME"); err != nil {
					return err
				}
				return teamAdd(e, args[0], *address, allow)
			}
		},
	}
}

func teamAdd(e *env, name, address string, allow []string) error {
	if err := checkTeamName(name); err != nil {
		return usageError{err.Error()}
	}
	if address == "" {
		address = name + "@" + e.cfg.Domain
	}
	addr, _, err := parseMailbox(address)
	if err != nil {
		return usagef("--address: %v", err)
	}
	tm := store.Team{Name: name, Address: addr, Allow: []string{}, Created: e.now()}
	for _, a := range allow {
		entry, err := parseAllow(a)
		if err != nil {
			return usageError{err.Error()}
		}
		tm.Allow = append(tm.Allow, entry)
	}
	err = e.st.Update(e.ctx, func(tx *store.Tx) error {
		if m, err := tx.Member(addr); err == nil {
			return fmt.Errorf("%s is the address of member %s, not free for a team", addr, m.Address)
		}
		return tx.AddTeam(tm)
	})
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("team add: %s: a team with that name or address exists already", name)
	}
	if err != nil {
		return fmt.Errorf("team add %s: %w", name, err)
	}
	fmt.Fprintf(e.stdout, "added team %s <%s>", name, addr)
	if len(tm.Allow) > 0 {
		fmt.Fprintf(e.stdout, ", allowing %s", strings.Join(tm.Allow, ", "))
	}
	fmt.Fprintln(e.stdout)
	return nil
}
