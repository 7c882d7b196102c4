package digest

import (
	"fmt"
	"time"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/store"
)

// Schedule is when a member's working days start, in their zone. The zero
// Schedule has no working day and never falls due.
type Schedule struct {
	// Loc is the member's zone; nil means UTC.
	Loc *time.Location
	// Start is the start of the working day since local midnight, from 0 to
	// under 24 hours.
	Start time.Duration
	// Days are the working days, indexed by time.Weekday.
	Days [7]bool
}

// Defaults fill in what a member record leaves empty, from the [digest]
// section of the configuration. Empty fields fall back to the configuration's
// own defaults: UTC, 09:00, mon-fri.
type Defaults struct {
	TZ    string // IANA zone, e.g. "Europe/Berlin"
	Start string // "HH:MM"
	Days  string // e.g. "mon-fri" or "mon,wed,fri"
}

// ScheduleOf returns the member's schedule, with d for what their record
// leaves empty.
func ScheduleOf(m store.Member, d Defaults) (Schedule, error) {
	zone := firstSet(m.Zone, d.TZ, "UTC")
	start := firstSet(m.Start, d.Start, "09:00")
	days := firstSet(m.Days, d.Days, "mon-fri")

	loc, err := config.LoadZone(zone)
	if err != nil {
		return Schedule{}, fmt.Errorf("digest: schedule of %s: %w", m.Address, err)
	}
	clock, err := config.ParseClock(start)
	if err != nil {
		return Schedule{}, fmt.Errorf("digest: schedule of %s: %w", m.Address, err)
	}
	set, err := config.ParseDays(days)
	if err != nil {
		return Schedule{}, fmt.Errorf("digest: schedule of %s: %w", m.Address, err)
	}
	s := Schedule{
		Loc:   loc,
		Start: time.Duration(clock.Hour)*time.Hour + time.Duration(clock.Minute)*time.Minute,
	}
	for day := range s.Days {
		s.Days[day] = set.Has(time.Weekday(day))
	}
	return s, nil
}

func firstSet(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// GetsDigest reports whether the member has at least one team in mode
// digest: only they have a schedule to keep.
func GetsDigest(m store.Member) bool {
	for _, mode := range m.Teams {
		if mode == store.ModeDigest {
			return true
		}
	}
	return false
}

// searchDays is how many calendar days a search for the next or previous
// slot looks at: a week, and one more for a date that a zone skipped
// (Pacific/Apia went from 29 to 31 December 2011).
const searchDays = 8

// Next returns the first due instant strictly after after, in UTC, or the
// zero time when the schedule has no working day.
func (s Schedule) Next(after time.Time) time.Time {
	// A day's slot lies at or after that day's local midnight, and slots
	// grow with their date, so no day before after's own can hold it.
	day := civilDay(after.In(s.loc()))
	for i := 0; i <= searchDays; i++ {
		if t, ok := s.on(day.AddDate(0, 0, i)); ok && t.After(after) {
			return t
		}
	}
	return time.Time{}
}

// Last returns the latest due instant at or before atOrBefore, in UTC, or
// the zero time when the schedule has no working day.
func (s Schedule) Last(atOrBefore time.Time) time.Time {
	// Start a day late: where a zone falls back across midnight, the next
	// day's wall clock shows briefly before the current day's comes back.
	day := civilDay(atOrBefore.In(s.loc()))
	for i := 1; i >= -searchDays; i-- {
		if t, ok := s.on(day.AddDate(0, 0, i)); ok && !t.After(atOrBefore) {
			return t
		}
	}
	return time.Time{}
}

// nextAfterClaimed returns the first slot on a later day than the one of
// the slot claimed at claimed, as the schedule now stands. For an unchanged
// schedule that is Next(claimed); after a change of zone or start time it
// keeps a member from getting a second digest on a day that already had
// one: a member who moves from Berlin to New York after Monday's digest gets
// the next on Tuesday at 09:00 in New York, not on Monday there.
func (s Schedule) nextAfterClaimed(claimed time.Time) time.Time {
	loc := s.loc()
	day := civilDay(claimed.In(loc))
	// A day whose start fell into a gap across midnight has its slot on
	// the next date: the claimed slot belongs to the day before.
	if t, ok := s.on(day.AddDate(0, 0, -1)); ok && t.Equal(claimed) {
		day = day.AddDate(0, 0, -1)
	}
	for i := 1; i <= searchDays+1; i++ {
		if t, ok := s.on(day.AddDate(0, 0, i)); ok && t.After(claimed) {
			return t
		}
	}
	return time.Time{}
}

// on returns the slot of a calendar day (given as midnight UTC of that
// date), if it is a working day.
func (s Schedule) on(day time.Time) (time.Time, bool) {
	if !s.Days[day.Weekday()] {
		return time.Time{}, false
	}
	return resolve(s.loc(), day.Add(s.Start)), true
}

func (s Schedule) loc() *time.Location {
	if s.Loc == nil {
		return time.UTC
	}
	return s.Loc
}

// civilDay returns t's calendar date in t's location as midnight UTC, so
// that days can be counted with AddDate regardless of DST.
func civilDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// resolve returns the instant, in UTC, at which the wall clock in loc first
// reads wall (a date and time given in UTC's fields) or later. Where wall
// is shown twice (a fall-back overlap) that is its first occurrence; where
// it is never shown (a spring-forward gap) it is the end of the gap, the
// first valid minute after wall. time.Date leaves both cases unspecified.
func resolve(loc *time.Location, wall time.Time) time.Time {
	// No zone is more than 14 hours ahead of UTC (nor was, except for some
	// local mean times of the 19th century), so the wall clock everywhere
	// still reads earlier than wall 16 hours before wall read as UTC. From
	// there, walk the zone's periods forward: within one period the wall
	// clock is the instant plus a fixed offset.
	p := wall.Add(-16 * time.Hour).In(loc)
	for range 16 {
		_, offset := p.Zone()
		_, end := p.ZoneBounds()
		t := wall.Add(-time.Duration(offset) * time.Second)
		gap := t.Before(p) // this period begins with its clock already past wall
		if gap {
			t = p
		}
		if end.IsZero() || t.Before(end) {
			if gap {
				t = ceilMinute(t.In(loc))
			}
			return t.UTC()
		}
		p = end.In(loc)
	}
	// Unreachable with any real zone: 16 periods within 30 hours.
	return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), loc).UTC()
}

// ceilMinute rounds t up to a whole minute of its own wall clock: the end of
// a gap falls on a whole minute in every zone in use today, but not in
// some historical ones with offsets in seconds.
func ceilMinute(t time.Time) time.Time {
	frac := time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
	if frac == 0 {
		return t
	}
	return t.Add(time.Minute - frac)
}

// NextDue returns, in UTC, when the member's next digest falls due as
// things stand at now: the first slot, on the member's schedule as it now
// is, after the last slot claimed (st.LastDue), or for a member without one
// the first after they joined. A result at or before now means a slot is
// owed (the service was down, or is about to claim it); it is then the
// latest owed slot, the one the Scheduler acts on: sent if it fell due less
// than its CatchUp ago, else passed over. The zero time means the member
// gets no digest: no team in mode digest, or no working day.
func NextDue(m store.Member, st store.DigestState, d Defaults, now time.Time) (time.Time, error) {
	if !GetsDigest(m) {
		return time.Time{}, nil
	}
	s, err := ScheduleOf(m, d)
	if err != nil {
		return time.Time{}, err
	}
	return s.owed(m, st.LastDue, now), nil
}

// owed returns the slot to act on next for a member whose last claimed slot
// is lastDue (zero before the first): the first one still to come, or the
// latest one at or before now if any is owed.
func (s Schedule) owed(m store.Member, lastDue, now time.Time) time.Time {
	var next time.Time
	if lastDue.IsZero() {
		next = s.Next(m.Joined)
	} else {
		next = s.nextAfterClaimed(lastDue)
	}
	if next.IsZero() || next.After(now) {
		return next
	}
	// Several may be owed after a long downtime: only the latest counts,
	// and the content of all of them goes into it or the next.
	return s.Last(now)
}
