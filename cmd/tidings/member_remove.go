package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/tidings/tidings/store"
)

func memberRemoveCommand() *command {
	return &command{
		name:           "member remove",
		synopsis:       "EMAIL [--team NAME]",
		summary:        "remove a member, or with --team only from that team",
		where:          inStore,
		changesMembers: true,
		setup: func(fs *flag.FlagSet) runFunc {
			team := fs.String("team", "", "remove from this team `NAME` only")
			return func(e *env, args []string) error {
				if err := wantArgs(args, "EMAIL"); err != nil {
					return err
				}
				return memberRemove(e, args[0], *team)
			}
		},
	}
}

func memberRemove(e *env, email, team string) error {
	addr, _, err := parseMailbox(email)
	if err != nil {
		return usageError{err.Error()}
	}
	var left store.Member
	err = e.st.Update(e.ctx, func(tx *store.Tx) error {
		m, err := tx.Member(addr)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no member %s", addr)
		}
		if err != nil {
			return err
		}
		left = store.Member{}
		if team == "" {
			return tx.RemoveMember(addr)
		}
		if _, in := m.Teams[team]; !in {
			return fmt.Errorf("%s is not in team %s", addr, team)
		}
		delete(m.Teams, team)
		if len(m.Teams) == 0 {
			return tx.RemoveMember(addr)
		}
		left = m
		return tx.PutMember(m)
	})
	if err != nil {
		return fmt.Errorf("member remove: %w", err)
	}
	if left.Address != "" {
		fmt.Fprintf(e.stdout, "removed %s from %s; still in %s\n", addr, team, teamModes(left))
	} else {
		fmt.Fprintf(e.stdout, "removed %s\n", addr)
	}
	return nil
}
