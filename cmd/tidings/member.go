package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/store"
)

// memberFlags are the flags member add and member set share.
type memberFlags struct {
	fs                                *flag.FlagSet
	team, name, tz, start, days, mode string
}

func addMemberFlags(fs *flag.FlagSet) *memberFlags {
	f := &memberFlags{fs: fs}
	fs.StringVar(&f.team, "team", "", "team `NAME`")
	fs.StringVar(&f.name, "name", "", "display `NAME`")
	fs.StringVar(&f.tz, "tz", "", "IANA time `ZONE`, e.g. Europe/Berlin (default digest.default_tz)")
	fs.StringVar(&f.start, "start", "", "local start of the working day, `HH:MM` (default digest.default_start)")
	fs.StringVar(&f.days, "days", "", "working `DAYS`, e.g. mon-fri or mon,wed,fri (default digest.default_days)")
	fs.StringVar(&f.mode, "mode", "", "delivery `MODE` for the team: digest, immediate or off (default digest)")
	return f
}

// memberChange is a validated, normalised set of changes to a member.
type memberChange struct {
	given                             map[string]bool
	team, name, tz, start, days, mode string
}

// check validates the flags that were given and normalises them (days in
// canonical form, start as HH:MM).
func (f *memberFlags) check() (memberChange, error) {
	c := memberChange{given: flagsSet(f.fs), team: f.team, name: strings.TrimSpace(f.name), tz: f.tz, mode: f.mode}
	delete(c.given, "config") // the global flags change nothing about a member
	delete(c.given, "data")
	if c.given["team"] {
		if err := checkTeamName(f.team); err != nil {
			return c, usagef("--team: %v", err)
		}
	}
	if c.given["tz"] {
		if _, err := config.LoadZone(f.tz); err != nil {
			return c, usagef("--tz: %v", err)
		}
	}
	if c.given["start"] {
		clock, err := config.ParseClock(f.start)
		if err != nil {
			return c, usagef("--start: %v", err)
		}
		c.start = clock.String()
	}
	if c.given["days"] {
		d, err := config.ParseDays(f.days)
		if err != nil {
			return c, usagef("--days: %v", err)
		}
		c.days = d.String()
	}
	if c.given["mode"] {
		switch f.mode {
		case store.ModeDigest, store.ModeImmediate, store.ModeOff:
		default:
			return c, usagef("--mode %q: want digest, immediate or off", f.mode)
		}
	}
	return c, nil
}

// apply sets the personal fields that were given.
func (c memberChange) apply(m *store.Member) {
	if c.given["name"] {
		m.Name = c.name
	}
	if c.given["tz"] {
		m.Zone = c.tz
	}
	if c.given["start"] {
		m.Start = c.start
	}
	if c.given["days"] {
		m.Days = c.days
	}
}

// teamExists returns a clear error for a team that is not there.
func teamExists(tx *store.Tx, name string) error {
	if _, err := tx.Team(name); err != nil {
		return fmt.Errorf("no team %q (see 'tidings team list')", name)
	}
	return nil
}

// describeMember is the one-line human form of a member.
func describeMember(m store.Member) string {
	name := ""
	if m.Name != "" {
		name = " (" + m.Name + ")"
	}
	aliases := ""
	if len(m.Aliases) > 0 {
		aliases = ", aliases " + strings.Join(m.Aliases, ", ")
	}
	return fmt.Sprintf("%s%s: %s, %s %s, teams %s%s", m.Address, name, m.Zone, m.Start, m.Days, teamModes(m), aliases)
}

// teamModes lists a member's teams as "eng=digest, ops=immediate".
func teamModes(m store.Member) string {
	names := make([]string, 0, len(m.Teams))
	for t := range m.Teams {
		names = append(names, t)
	}
	sort.Strings(names)
	for i, t := range names {
		names[i] = t + "=" + m.Teams[t]
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ", ")
}
