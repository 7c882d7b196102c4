package main

import (
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/tidings/tidings/store"
)

func memberSetCommand() *command {
	return &command{
		name:           "member set",
		synopsis:       "EMAIL [--team NAME] [--name N] [--tz ZONE] [--start HH:MM] [--days mon-fri] [--mode digest|immediate|off]",
		summary:        "change a member; --team with --mode changes that team's mode (and adds the team if new)",
		where:          inStore,
		changesMembers: true,
		setup: func(fs *flag.FlagSet) runFunc {
			f := addMemberFlags(fs)
			return func(e *env, args []string) error {
				if err := wantArgs(args, "EMAIL"); err != nil {
					return err
				}
				ch, err := f.check()
				if err != nil {
					return err
				}
				if len(ch.given) == 0 {
					return usagef("nothing to change: give at least one of --team, --name, --tz, --start, --days, --mode")
				}
				return memberSet(e, args[0], ch)
			}
		},
	}
}

func memberSet(e *env, email string, ch memberChange) error {
	addr, _, err := parseMailbox(email)
	if err != nil {
		return usageError{err.Error()}
	}
	var m store.Member
	err = e.st.Update(e.ctx, func(tx *store.Tx) error {
		var err error
		m, err = tx.Member(addr)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no member %s (add one with 'tidings member add')", addr)
		}
		if err != nil {
			return err
		}
		if m.Teams == nil {
			m.Teams = map[string]string{}
		}
		team := ch.team
		if team == "" && ch.mode != "" {
			if len(m.Teams) != 1 {
				names := make([]string, 0, len(m.Teams))
				for t := range m.Teams {
					names = append(names, t)
				}
				sort.Strings(names)
				return usagef("--mode needs --team: %s is in %s", addr, strings.Join(names, ", "))
			}
			for t := range m.Teams {
				team = t
			}
		}
		if team != "" {
			if err := teamExists(tx, team); err != nil {
				return err
			}
			mode, in := m.Teams[team]
			switch {
			case ch.mode != "":
				mode = ch.mode
			case !in:
				mode = store.ModeDigest
			}
			m.Teams[team] = mode
		}
		ch.apply(&m)
		return tx.PutMember(m)
	})
	if err != nil {
		if isUsage(err) {
			return err
		}
		return fmt.Errorf("member set: %w", err)
	}
	fmt.Fprintf(e.stdout, "updated %s\n", describeMember(m))
	return nil
}
