package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tidings/tidings/store"
)

func memberSetCommand() *command {
	return &command{
		name:           "member set",
		synopsis:       "EMAIL [--team NAME] [--name N] [--tz ZONE] [--start HH:MM] [--days mon-fri] [--mode digest|immediate|off] [--alias ADDR]... [--remove-alias ADDR]...",
		summary:        "change a member; --team with --mode changes that team's mode (and adds the team if new); --alias adds another address of theirs, --remove-alias takes one away",
		where:          inStore,
		changesMembers: true,
		setup: func(fs *flag.FlagSet) runFunc {
			f := addMemberFlags(fs)
			var addAlias, dropAlias listFlag
			fs.Var(&addAlias, "alias", "add `ADDRESS` as another address of the member: mail from it is theirs (repeatable)")
			fs.Var(&dropAlias, "remove-alias", "remove the alias `ADDRESS` (repeatable)")
			return func(e *env, args []string) error {
				if err := wantArgs(args, "EMAIL"); err != nil {
					return err
				}
				ch, err := f.check()
				if err != nil {
					return err
				}
				if len(ch.given) == 0 {
					return usagef("nothing to change: give at least one of --team, --name, --tz, --start, --days, --mode, --alias, --remove-alias")
				}
				al, err := parseAliases(addAlias, dropAlias)
				if err != nil {
					return err
				}
				return memberSet(e, args[0], ch, al)
			}
		},
	}
}

// aliasChange is the aliases member set adds and removes, lower-cased.
type aliasChange struct{ add, remove []string }

func parseAliases(add, remove []string) (aliasChange, error) {
	var al aliasChange
	for _, a := range add {
		addr, _, err := parseMailbox(a)
		if err != nil {
			return al, usagef("--alias: %v", err)
		}
		al.add = append(al.add, addr)
	}
	for _, a := range remove {
		addr, _, err := parseMailbox(a)
		if err != nil {
			return al, usagef("--remove-alias: %v", err)
		}
		if slices.Contains(al.add, addr) {
			return al, usagef("%s is both added and removed", addr)
		}
		al.remove = append(al.remove, addr)
	}
	return al, nil
}

// apply changes m's aliases; an alias to remove must be there, and the
// member's own address is no alias.
func (al aliasChange) apply(m *store.Member) error {
	for _, a := range al.remove {
		i := slices.Index(m.Aliases, a)
		if i < 0 {
			return fmt.Errorf("%s is not an alias of %s", a, m.Address)
		}
		m.Aliases = slices.Delete(m.Aliases, i, i+1)
	}
	for _, a := range al.add {
		if a == m.Address {
			return fmt.Errorf("%s is the member's own address, not an alias", a)
		}
		if !slices.Contains(m.Aliases, a) {
			m.Aliases = append(m.Aliases, a)
		}
	}
	return nil
}

func memberSet(e *env, email string, ch memberChange, al aliasChange) error {
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
		if err := al.apply(&m); err != nil {
			return err
		}
		err = tx.PutMember(m)
		if errors.Is(err, store.ErrExists) {
			// Name who has the address: the store's error says only
			// which kind of owner it is.
			for _, a := range al.add {
				if owner, oerr := tx.MemberByAddress(a); oerr == nil && owner.Address != m.Address {
					return fmt.Errorf("%s is already an address of member %s", a, owner.Address)
				}
				if tm, terr := tx.TeamByAddress(a); terr == nil {
					return fmt.Errorf("%s is the address of team %s", a, tm.Name)
				}
			}
		}
		if err != nil {
			return err
		}
		// The stored form: aliases sorted and lower-cased.
		m, err = tx.Member(addr)
		return err
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
