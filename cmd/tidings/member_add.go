package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/tidings/tidings/store"
)

func memberAddCommand() *command {
	return &command{
		name:           "member add",
		synopsis:       "EMAIL --team NAME [--name N] [--tz ZONE] [--start HH:MM] [--days mon-fri] [--mode digest|immediate|off]",
		summary:        "add a member to a team (an existing member joins one more team)",
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
				if ch.team == "" {
					return usagef("--team is required")
				}
				return memberAdd(e, args[0], ch)
			}
		},
	}
}

func memberAdd(e *env, email string, ch memberChange) error {
	addr, displayName, err := parseMailbox(email)
	if err != nil {
		return usageError{err.Error()}
	}
	if !ch.given["name"] && displayName != "" {
		ch.given["name"], ch.name = true, displayName
	}
	mode := ch.mode
	if mode == "" {
		mode = store.ModeDigest
	}
	var m store.Member
	var existed bool
	err = e.st.Update(e.ctx, func(tx *store.Tx) error {
		if err := teamExists(tx, ch.team); err != nil {
			return err
		}
		if tm, err := tx.TeamByAddress(addr); err == nil {
			return fmt.Errorf("%s is the address of team %s, not a person", addr, tm.Name)
		}
		var err error
		m, err = tx.Member(addr)
		existed = err == nil
		switch {
		case errors.Is(err, store.ErrNotFound):
			m = store.Member{
				Address: addr,
				Zone:    e.cfg.Digest.DefaultTZ,
				Start:   e.cfg.Digest.DefaultStart,
				Days:    e.cfg.Digest.DefaultDays,
				Joined:  e.now(),
			}
		case err != nil:
			return err
		}
		if _, in := m.Teams[ch.team]; in {
			return fmt.Errorf("%s is already in team %s (change it with 'tidings member set')", addr, ch.team)
		}
		if m.Teams == nil {
			m.Teams = map[string]string{}
		}
		m.Teams[ch.team] = mode
		ch.apply(&m)
		return tx.PutMember(m)
	})
	if err != nil {
		return fmt.Errorf("member add: %w", err)
	}
	verb := "added"
	if existed {
		verb = "added to " + ch.team + ":"
	}
	fmt.Fprintf(e.stdout, "%s %s\n", verb, describeMember(m))
	return nil
}
