package config

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zones must work on a machine without /usr/share/zoneinfo
)

// LoadZone loads an IANA time zone such as "Europe/Berlin". "Local" and the
// empty name are refused: a member's zone must not depend on the machine.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone (like Europe/Berlin)", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name like Europe/Berlin)", name)
	}
	return loc, nil
}

// Clock is a local time of day.
type Clock struct {
	Hour, Minute int
}

// String formats c as "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// ParseClock parses "HH:MM" on a 24-hour clock ("9:30" is accepted too).
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return Clock{}, fmt.Errorf("%q is not a time as HH:MM", s)
	}
	hh, herr := smallInt(h, 2)
	mm, merr := smallInt(m, 2)
	if herr != nil || merr != nil || len(m) != 2 || hh > 23 || mm > 59 {
		return Clock{}, fmt.Errorf("%q is not a time as HH:MM (00:00 to 23:59)", s)
	}
	return Clock{Hour: hh, Minute: mm}, nil
}

func smallInt(s string, maxLen int) (int, error) {
	if s == "" || len(s) > maxLen {
		return 0, fmt.Errorf("bad number %q", s)
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("bad number %q", s)
		}
		n = n*10 + int(r-'0')
	}
	return n, nil
}

// Days is a set of weekdays, bit i standing for time.Weekday(i).
type Days uint8

// weekOrder lists the days as working weeks are usually written, Monday first.
var weekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"tues": time.Tuesday, "thur": time.Thursday, "thurs": time.Thursday,
}

// Has reports whether d includes day.
func (d Days) Has(day time.Weekday) bool { return d&(1<<uint(day)) != 0 }

// String gives the canonical form: Monday first, runs of three or more days
// as ranges ("mon-fri", "mon,wed,fri", "mon-wed,sat").
func (d Days) String() string {
	var parts []string
	for i := 0; i < 7; {
		if !d.Has(weekOrder[i]) {
			i++
			continue
		}
		j := i
		for j+1 < 7 && d.Has(weekOrder[j+1]) {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, short(weekOrder[i])+"-"+short(weekOrder[j]))
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, short(weekOrder[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func short(d time.Weekday) string { return strings.ToLower(d.String()[:3]) }

// ParseDays parses working days: names ("mon" or "monday", any case) and
// ranges ("mon-fri"; "fri-mon" wraps over the weekend), separated by commas.
func ParseDays(s string) (Days, error) {
	var d Days
	for _, part := range strings.Split(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		from, to, isRange := strings.Cut(part, "-")
		a, ok := dayNames[strings.TrimSpace(from)]
		if !ok {
			return 0, fmt.Errorf("%q: %q is not a day (mon, tue, wed, thu, fri, sat, sun)", s, from)
		}
		b := a
		if isRange {
			if b, ok = dayNames[strings.TrimSpace(to)]; !ok {
				return 0, fmt.Errorf("%q: %q is not a day (mon, tue, wed, thu, fri, sat, sun)", s, to)
			}
		}
		for day := a; ; day = (day + 1) % 7 {
			d |= 1 << uint(day)
			if day == b {
				break
			}
		}
	}
	if d == 0 {
		return 0, fmt.Errorf("%q names no working day (like mon-fri or mon,wed,fri)", s)
	}
	return d, nil
}
