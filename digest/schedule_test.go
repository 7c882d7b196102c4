package digest

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/store"
)

// mustSchedule builds a schedule the way ScheduleOf does for a member.
func mustSchedule(t testing.TB, zone, start, days string) Schedule {
	t.Helper()
	s, err := ScheduleOf(store.Member{Address: "x@example.com", Zone: zone, Start: start, Days: days}, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustUTC(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func TestScheduleOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		m       store.Member
		d       Defaults
		loc     string
		start   time.Duration
		days    string // weekday initials from Sunday, "-" for off: "-MTWTF-"
		wantErr string
	}{
		{name: "member's own", m: store.Member{Zone: "Europe/Berlin", Start: "07:45", Days: "sun-thu"},
			d: Defaults{TZ: "Asia/Kolkata", Start: "10:00", Days: "mon"}, loc: "Europe/Berlin", start: 7*time.Hour + 45*time.Minute, days: "SMTWT--"},
		{name: "configured defaults", m: store.Member{}, d: Defaults{TZ: "Asia/Kolkata", Start: "10:00", Days: "mon,wed,fri"},
			loc: "Asia/Kolkata", start: 10 * time.Hour, days: "-M-W-F-"},
		{name: "built-in defaults", m: store.Member{}, loc: "UTC", start: 9 * time.Hour, days: "-MTWTF-"},
		{name: "midnight, weekend wrap", m: store.Member{Zone: "Pacific/Chatham", Start: "00:00", Days: "fri-mon"},
			loc: "Pacific/Chatham", start: 0, days: "SM---FS"},
		{name: "unknown zone", m: store.Member{Zone: "Mars/Olympus"}, wantErr: "Mars/Olympus"},
		{name: "machine zone refused", m: store.Member{Zone: "Local"}, wantErr: "Local"},
		{name: "bad start", m: store.Member{Start: "24:00"}, wantErr: "24:00"},
		{name: "bad days", m: store.Member{Days: "mon-fry"}, wantErr: "fry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.m.Address = "ana@example.com"
			s, err := ScheduleOf(tc.m, tc.d)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "ana@example.com") {
					t.Fatalf("err = %v, want one naming %q and the member", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Loc.String() != tc.loc || s.Start != tc.start {
				t.Errorf("got %s %v, want %s %v", s.Loc, s.Start, tc.loc, tc.start)
			}
			var days strings.Builder
			for d, on := range s.Days {
				switch {
				case on:
					days.WriteByte("SMTWTFS"[d])
				default:
					days.WriteByte('-')
				}
			}
			if days.String() != tc.days {
				t.Errorf("days %s, want %s", days.String(), tc.days)
			}
		})
	}
}

// TestScheduleInstants pins the due instant of single days: plain days
// either side of each DST change, the days of the change with a start time
// inside the gap or the overlap, and zones whose changes are not an hour or
// not on the hour.
func TestScheduleInstants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, zone, start, days string
		after                   string // Next(after) must be want
		want                    string
	}{
		// Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
		{"berlin winter", "Europe/Berlin", "09:00", "mon-fri", "2026-03-27T00:00:00Z", "2026-03-27T08:00:00Z"},
		{"berlin over the weekend into summer", "Europe/Berlin", "09:00", "mon-fri", "2026-03-27T08:00:00Z", "2026-03-30T07:00:00Z"},
		{"berlin gap", "Europe/Berlin", "02:30", "sun", "2026-03-28T00:00:00Z", "2026-03-29T01:00:00Z"},
		{"berlin gap start", "Europe/Berlin", "02:00", "sun", "2026-03-28T00:00:00Z", "2026-03-29T01:00:00Z"},
		{"berlin minute before gap", "Europe/Berlin", "01:59", "sun", "2026-03-28T00:00:00Z", "2026-03-29T00:59:00Z"},
		{"berlin gap end", "Europe/Berlin", "03:00", "sun", "2026-03-28T00:00:00Z", "2026-03-29T01:00:00Z"},
		{"berlin overlap first", "Europe/Berlin", "02:30", "sun", "2026-10-24T00:00:00Z", "2026-10-25T00:30:00Z"},
		{"berlin overlap not twice", "Europe/Berlin", "02:30", "sun", "2026-10-25T00:30:00Z", "2026-11-01T01:30:00Z"},
		{"berlin after overlap", "Europe/Berlin", "03:00", "sun", "2026-10-24T00:00:00Z", "2026-10-25T02:00:00Z"},
		// America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
		{"new york gap", "America/New_York", "02:15", "sun-thu", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z"},
		{"new york overlap first", "America/New_York", "01:30", "sat,sun", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z"},
		{"new york winter again", "America/New_York", "09:00", "mon-fri", "2026-10-30T13:00:00Z", "2026-11-02T14:00:00Z"},
		// Australia/Lord_Howe, half-hour DST: 2026-04-05 02:00 +11 -> 01:30 +1030; 2026-10-04 02:00 +1030 -> 02:30 +11.
		{"lord howe overlap first", "Australia/Lord_Howe", "01:45", "sun", "2026-04-03T00:00:00Z", "2026-04-04T14:45:00Z"},
		{"lord howe after overlap", "Australia/Lord_Howe", "02:15", "sun", "2026-04-03T00:00:00Z", "2026-04-04T15:45:00Z"},
		{"lord howe gap", "Australia/Lord_Howe", "02:15", "sun", "2026-10-02T00:00:00Z", "2026-10-03T15:30:00Z"},
		{"lord howe before gap", "Australia/Lord_Howe", "01:45", "sun", "2026-10-02T00:00:00Z", "2026-10-03T15:15:00Z"},
		{"lord howe summer", "Australia/Lord_Howe", "09:00", "mon-fri", "2026-10-04T00:00:00Z", "2026-10-04T22:00:00Z"},
		// Asia/Kolkata, +05:30 all year.
		{"kolkata", "Asia/Kolkata", "09:00", "mon-fri", "2026-06-30T00:00:00Z", "2026-06-30T03:30:00Z"},
		{"kolkata sun-thu skips fri and sat", "Asia/Kolkata", "09:00", "sun-thu", "2026-07-02T03:30:00Z", "2026-07-05T03:30:00Z"},
		// Pacific/Chatham, +1245/+1345, changes at 02:45/03:45: 2026-04-05 03:45 -> 02:45; 2026-09-27 02:45 -> 03:45.
		{"chatham overlap first", "Pacific/Chatham", "03:00", "sun", "2026-04-03T00:00:00Z", "2026-04-04T13:15:00Z"},
		{"chatham gap", "Pacific/Chatham", "03:00", "sun", "2026-09-25T00:00:00Z", "2026-09-26T14:00:00Z"},
		{"chatham winter", "Pacific/Chatham", "09:00", "mon-fri", "2026-07-01T00:00:00Z", "2026-07-01T20:15:00Z"},
		// America/Sao_Paulo: no DST since 2019; in 2018 it changed at midnight:
		// 2018-02-17 24:00 -02 -> 23:00 -03 (Saturday evening twice); 2018-11-04 00:00 -03 -> 01:00 -02.
		{"sao paulo today", "America/Sao_Paulo", "09:00", "mon-fri", "2026-01-01T00:00:00Z", "2026-01-01T12:00:00Z"},
		{"sao paulo midnight gap", "America/Sao_Paulo", "00:30", "sun", "2018-11-03T00:00:00Z", "2018-11-04T03:00:00Z"},
		{"sao paulo midnight start in gap", "America/Sao_Paulo", "00:00", "sun", "2018-11-03T00:00:00Z", "2018-11-04T03:00:00Z"},
		{"sao paulo evening overlap first", "America/Sao_Paulo", "23:30", "sat", "2018-02-16T00:00:00Z", "2018-02-18T01:30:00Z"},
		{"sao paulo sunday after overlap", "America/Sao_Paulo", "00:30", "sun", "2018-02-17T00:00:00Z", "2018-02-18T03:30:00Z"},
		// America/Nuuk: 2026-03-28 23:00 -02 -> 2026-03-29 00:00 -01.
		{"nuuk gap across midnight", "America/Nuuk", "23:30", "sat,sun", "2026-03-27T00:00:00Z", "2026-03-29T01:00:00Z"},
		{"nuuk sunday after it", "America/Nuuk", "23:30", "sat,sun", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"},
		// Pacific/Apia skipped Friday 2011-12-30: its start time's first valid minute after is Saturday 00:00 +14.
		{"apia thursday", "Pacific/Apia", "09:00", "mon-fri", "2011-12-29T00:00:00Z", "2011-12-29T19:00:00Z"},
		{"apia skipped friday", "Pacific/Apia", "09:00", "mon-fri", "2011-12-29T19:00:00Z", "2011-12-30T10:00:00Z"},
		{"apia monday", "Pacific/Apia", "09:00", "mon-fri", "2011-12-30T10:00:00Z", "2012-01-01T19:00:00Z"},
		// Strictly after: a slot at exactly after is not next.
		{"strictly after", "UTC", "09:00", "mon-fri", "2026-06-01T09:00:00Z", "2026-06-02T09:00:00Z"},
		{"just before", "UTC", "09:00", "mon-fri", "2026-06-01T08:59:59Z", "2026-06-01T09:00:00Z"},
		{"one day a week", "UTC", "09:00", "wed", "2026-06-03T09:00:00Z", "2026-06-10T09:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSchedule(t, tc.zone, tc.start, tc.days)
			after, want := mustUTC(t, tc.after), mustUTC(t, tc.want)
			got := s.Next(after)
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("Next(%s) = %s (%s), want %s (%s)", after.Format(time.RFC3339), got.Format(time.RFC3339),
					got.In(s.Loc).Format("Mon 15:04 -0700"), want.Format(time.RFC3339), want.In(s.Loc).Format("Mon 15:04 -0700"))
			}
			if l := s.Last(want); !l.Equal(want) {
				t.Errorf("Last(%s) = %s, want itself", want.Format(time.RFC3339), l.Format(time.RFC3339))
			}
		})
	}
}

func TestScheduleNoDays(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var s Schedule
	if got := s.Next(now); !got.IsZero() {
		t.Errorf("zero schedule: Next = %s", got)
	}
	if got := s.Last(now); !got.IsZero() {
		t.Errorf("zero schedule: Last = %s", got)
	}
	// Loc nil means UTC.
	s.Days[time.Monday] = true
	s.Start = 9 * time.Hour
	if got, want := s.Next(now), time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("nil Loc: Next = %s, want %s", got, want)
	}
}

// yearCase is a member's schedule walked over a year. special pins the
// exact due instant of given local dates; every working day on which the
// zone changes its offset must be among them, so that no DST day is
// checked only against time.Date, which leaves gaps and overlaps
// unspecified. The other days are checked against time.Date and must show
// the start time on the member's wall clock.
type yearCase struct {
	name, zone, start, days string
	from, to                string // local dates, inclusive
	special                 map[string]string
}

var yearCases = []yearCase{
	{name: "berlin office", zone: "Europe/Berlin", start: "09:00", days: "mon-fri", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{
			"2026-03-27": "2026-03-27T08:00:00Z", "2026-03-30": "2026-03-30T07:00:00Z",
			"2026-10-23": "2026-10-23T07:00:00Z", "2026-10-26": "2026-10-26T08:00:00Z",
		}},
	{name: "berlin in the gap and the overlap", zone: "Europe/Berlin", start: "02:30", days: "mon-sun", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{
			"2026-03-28": "2026-03-28T01:30:00Z", "2026-03-29": "2026-03-29T01:00:00Z", "2026-03-30": "2026-03-30T00:30:00Z",
			"2026-10-24": "2026-10-24T00:30:00Z", "2026-10-25": "2026-10-25T00:30:00Z", "2026-10-26": "2026-10-26T01:30:00Z",
		}},
	{name: "new york gap, sun-thu", zone: "America/New_York", start: "02:15", days: "sun-thu", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{
			"2026-03-08": "2026-03-08T07:00:00Z", "2026-03-09": "2026-03-09T06:15:00Z",
			"2026-11-01": "2026-11-01T07:15:00Z", // 02:15 exists once, in EST
		}},
	{name: "new york overlap, weekends", zone: "America/New_York", start: "01:30", days: "sat,sun", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{
			"2026-03-07": "2026-03-07T06:30:00Z", "2026-03-08": "2026-03-08T06:30:00Z", // before the jump at 02:00
			"2026-10-31": "2026-10-31T05:30:00Z", "2026-11-01": "2026-11-01T05:30:00Z", "2026-11-07": "2026-11-07T06:30:00Z",
		}},
	{name: "lord howe gap", zone: "Australia/Lord_Howe", start: "02:15", days: "mon-sun", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{
			"2026-04-04": "2026-04-03T15:15:00Z", "2026-04-05": "2026-04-04T15:45:00Z", "2026-10-03": "2026-10-02T15:45:00Z",
			"2026-10-04": "2026-10-03T15:30:00Z", "2026-10-05": "2026-10-04T15:15:00Z",
		}},
	{name: "lord howe overlap", zone: "Australia/Lord_Howe", start: "01:45", days: "mon-sun", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{
			"2026-04-04": "2026-04-03T14:45:00Z", "2026-04-05": "2026-04-04T14:45:00Z", "2026-04-06": "2026-04-05T15:15:00Z",
			"2026-10-03": "2026-10-02T15:15:00Z", "2026-10-04": "2026-10-03T15:15:00Z",
		}},
	{name: "kolkata mon,wed,fri", zone: "Asia/Kolkata", start: "09:00", days: "mon,wed,fri", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{"2026-01-02": "2026-01-02T03:30:00Z", "2026-12-30": "2026-12-30T03:30:00Z"}},
	{name: "chatham gap and overlap", zone: "Pacific/Chatham", start: "03:00", days: "mon-sun", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{
			"2026-04-05": "2026-04-04T13:15:00Z", "2026-04-06": "2026-04-05T14:15:00Z",
			"2026-09-26": "2026-09-25T14:15:00Z", "2026-09-27": "2026-09-26T14:00:00Z", "2026-09-28": "2026-09-27T13:15:00Z",
		}},
	{name: "chatham office", zone: "Pacific/Chatham", start: "09:00", days: "mon-fri", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{"2026-04-03": "2026-04-02T19:15:00Z", "2026-04-06": "2026-04-05T20:15:00Z"}},
	{name: "sao paulo midnight changes", zone: "America/Sao_Paulo", start: "00:30", days: "fri-sun", from: "2018-01-01", to: "2018-12-31",
		special: map[string]string{
			"2018-02-17": "2018-02-17T02:30:00Z", "2018-02-18": "2018-02-18T03:30:00Z",
			"2018-11-03": "2018-11-03T03:30:00Z", "2018-11-04": "2018-11-04T03:00:00Z",
		}},
	{name: "sao paulo evening overlap", zone: "America/Sao_Paulo", start: "23:30", days: "sat", from: "2018-01-01", to: "2018-12-31",
		special: map[string]string{"2018-02-17": "2018-02-18T01:30:00Z", "2018-11-03": "2018-11-04T02:30:00Z"}},
	{name: "sao paulo today", zone: "America/Sao_Paulo", start: "08:30", days: "mon-fri", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{"2026-02-13": "2026-02-13T11:30:00Z", "2026-11-04": "2026-11-04T11:30:00Z"}},
	// America/Nuuk changes at 23:00 on Saturdays (-02/-01): a start at
	// 23:30 falls into a gap that ends at midnight, on Sunday's date.
	{name: "nuuk gap across midnight", zone: "America/Nuuk", start: "23:30", days: "mon-sun", from: "2026-01-01", to: "2026-12-31",
		special: map[string]string{
			"2026-03-28": "2026-03-29T01:00:00Z", "2026-03-29": "2026-03-30T00:30:00Z",
			"2026-10-24": "2026-10-25T00:30:00Z", "2026-10-25": "2026-10-26T01:30:00Z",
		}},
	{name: "apia skipped day", zone: "Pacific/Apia", start: "09:00", days: "mon-fri", from: "2011-07-01", to: "2012-06-30",
		special: map[string]string{"2011-12-29": "2011-12-29T19:00:00Z", "2011-12-30": "2011-12-30T10:00:00Z", "2012-01-02": "2012-01-01T19:00:00Z"}},
}

// expectedSlots lists a year case's due instants from the calendar, without
// the code under test: time.Date on plain days, the case's special instants
// on the others.
func expectedSlots(t testing.TB, c yearCase) []time.Time {
	t.Helper()
	loc, err := config.LoadZone(c.zone)
	if err != nil {
		t.Fatal(err)
	}
	clock, err := config.ParseClock(c.start)
	if err != nil {
		t.Fatal(err)
	}
	days, err := config.ParseDays(c.days)
	if err != nil {
		t.Fatal(err)
	}
	from, _ := time.Parse(time.DateOnly, c.from)
	to, _ := time.Parse(time.DateOnly, c.to)
	seen := map[string]bool{}
	var want []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		if !days.Has(d.Weekday()) {
			if c.special[key] != "" {
				t.Fatalf("%s: special day %s is not a working day", c.name, key)
			}
			continue
		}
		if s := c.special[key]; s != "" {
			seen[key] = true
			want = append(want, mustUTC(t, s))
			continue
		}
		// A change of offset between the evening before and the morning
		// after must be pinned as a special day.
		y, m, dd := d.Date()
		lo := time.Date(y, m, dd, 0, 0, 0, 0, loc).Add(-3 * time.Hour)
		hi := time.Date(y, m, dd+1, 0, 0, 0, 0, loc).Add(3 * time.Hour)
		if _, end := lo.ZoneBounds(); !end.IsZero() && end.Before(hi) {
			t.Fatalf("%s: the offset changes around %s (at %s): pin that day in special", c.name, key, end.UTC().Format(time.RFC3339))
		}
		at := time.Date(y, m, dd, clock.Hour, clock.Minute, 0, 0, loc)
		if at.Hour() != clock.Hour || at.Minute() != clock.Minute {
			t.Fatalf("%s: %s has no %s", c.name, key, c.start)
		}
		want = append(want, at.UTC())
	}
	for key := range c.special {
		if !seen[key] {
			t.Fatalf("%s: special day %s is outside %s..%s", c.name, key, c.from, c.to)
		}
	}
	return want
}

// walkStart is the instant a year case's walk starts from: the beginning of
// its first local day.
func walkStart(t testing.TB, c yearCase) time.Time {
	loc, err := config.LoadZone(c.zone)
	if err != nil {
		t.Fatal(err)
	}
	from, _ := time.Parse(time.DateOnly, c.from)
	return time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc).Add(-time.Minute).UTC()
}

// walkEnd is the end of a year case's last local day.
func walkEnd(t testing.TB, c yearCase) time.Time {
	loc, err := config.LoadZone(c.zone)
	if err != nil {
		t.Fatal(err)
	}
	to, _ := time.Parse(time.DateOnly, c.to)
	return time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc).UTC()
}

// compareSlots reports the first difference between the slots got and
// want, by position, with the local times for reading.
func compareSlots(t testing.TB, loc *time.Location, got, want []time.Time) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i].Format(time.RFC3339) + " (" + got[i].In(loc).Format("Mon 2006-01-02 15:04 -0700") + ")"
		}
		if i < len(want) {
			w = want[i].Format(time.RFC3339) + " (" + want[i].In(loc).Format("Mon 2006-01-02 15:04 -0700") + ")"
		}
		if g != w {
			t.Fatalf("slot %d of %d: got %s, want %s", i, len(want), g, w)
		}
	}
}

// TestScheduleYear walks Next through a year for each case and checks
// every due instant, then Last against Next.
func TestScheduleYear(t *testing.T) {
	t.Parallel()
	for _, c := range yearCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			want := expectedSlots(t, c)
			if len(want) < 50 {
				t.Fatalf("only %d slots: the case is too thin to say much", len(want))
			}
			s := mustSchedule(t, c.zone, c.start, c.days)
			end := walkEnd(t, c)
			var got []time.Time
			for at := s.Next(walkStart(t, c)); at.Before(end); at = s.Next(at) {
				got = append(got, at)
			}
			compareSlots(t, s.Loc, got, want)
			for i, at := range got {
				if l := s.Last(at); !l.Equal(at) {
					t.Fatalf("Last(%s) = %s, want itself", at, l)
				}
				if i > 0 {
					if l := s.Last(at.Add(-time.Nanosecond)); !l.Equal(got[i-1]) {
						t.Fatalf("Last(just before %s) = %s, want %s", at, l, got[i-1])
					}
					if n := s.nextAfterClaimed(got[i-1]); !n.Equal(at) {
						t.Fatalf("nextAfterClaimed(%s) = %s, want %s", got[i-1], n, at)
					}
				}
			}
		})
	}
}

// TestScheduleProperties checks Next and Last against each other at random
// instants from 1970 to 2037 in zones with odd rules: Next is the first slot
// after the instant, Last the last at or before, and every slot either shows
// the start time on the wall clock or is the first minute after a gap that
// swallowed it.
func TestScheduleProperties(t *testing.T) {
	t.Parallel()
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
		"Pacific/Chatham", "America/Sao_Paulo", "Pacific/Apia", "Pacific/Kiritimati", "America/St_Johns",
		"Asia/Kathmandu", "Africa/Casablanca", "Asia/Tehran", "America/Havana", "Antarctica/Troll", "Europe/Dublin"}
	starts := []string{"00:00", "00:30", "01:45", "02:00", "02:30", "03:00", "09:00", "23:30", "23:59"}
	daySets := []string{"mon-fri", "mon-sun", "sun", "mon,wed,fri", "sun-thu"}
	rng := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2037, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
	for _, zone := range zones {
		for _, start := range starts {
			for _, days := range daySets {
				s := mustSchedule(t, zone, start, days)
				clock, _ := config.ParseClock(start)
				for range 40 {
					at := time.Unix(lo+rng.Int64N(hi-lo), 0).UTC()
					next, last := s.Next(at), s.Last(at)
					if !next.After(at) || last.After(at) || !last.Before(next) {
						t.Fatalf("%s %s %s at %s: Last %s, Next %s out of order", zone, start, days, at, last, next)
					}
					if l := s.Last(next.Add(-time.Nanosecond)); !l.Equal(last) {
						t.Fatalf("%s %s %s at %s: a slot %s between Last %s and Next %s", zone, start, days, at, l, last, next)
					}
					for _, slot := range []time.Time{last, next} {
						local := slot.In(s.Loc)
						if !s.Days[local.Weekday()] && !s.Days[local.AddDate(0, 0, -1).Weekday()] {
							t.Fatalf("%s %s %s: slot %s on %s", zone, start, days, slot, local.Weekday())
						}
						if local.Hour() == clock.Hour && local.Minute() == clock.Minute && local.Second() == 0 {
							// As scheduled; it must be the first time the
							// wall clock showed it. Clocks fall back by
							// 30 minutes (Lord Howe), an hour or two
							// hours (Troll).
							for _, back := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
								if earlier := slot.Add(-back).In(s.Loc); sameWall(earlier, local) {
									t.Fatalf("%s %s %s: slot %s is the second %s", zone, start, days, slot, start)
								}
							}
							continue
						}
						// Otherwise the start time fell into a gap: the
						// offset changed forward within the last minute.
						_, offAt := local.Zone()
						_, offBefore := slot.Add(-time.Minute).In(s.Loc).Zone()
						if offAt <= offBefore || local.Second() != 0 {
							t.Fatalf("%s %s %s: slot %s at %s is neither the start time nor a gap's end", zone, start, days, slot, local)
						}
					}
				}
			}
		}
	}
}

// sameWall reports whether a and b show the same date and minute on their
// wall clocks: an earlier instant that reads the same as a later one makes
// the later a second occurrence.
func sameWall(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay() && a.Hour() == b.Hour() && a.Minute() == b.Minute()
}

func TestNextDue(t *testing.T) {
	t.Parallel()
	joined := mustUTC(t, "2026-03-02T10:00:00Z") // a Monday
	ana := func(zone, start, days string) store.Member {
		return store.Member{Address: "ana@example.com", Zone: zone, Start: start, Days: days,
			Teams: map[string]string{"eng": store.ModeDigest, "ops": store.ModeOff}, Joined: joined}
	}
	tests := []struct {
		name    string
		m       store.Member
		lastDue string // "" before the first digest
		now     string
		want    string // "" for none
	}{
		{"new member, after today's start", ana("UTC", "09:00", "mon-fri"), "", "2026-03-02T10:00:00Z", "2026-03-03T09:00:00Z"},
		{"new member, before today's start", ana("UTC", "11:00", "mon-fri"), "", "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"},
		{"steady", ana("Europe/Berlin", "09:00", "mon-fri"), "2026-03-03T08:00:00Z", "2026-03-03T12:00:00Z", "2026-03-04T08:00:00Z"},
		{"friday to monday", ana("Europe/Berlin", "09:00", "mon-fri"), "2026-03-06T08:00:00Z", "2026-03-06T12:00:00Z", "2026-03-09T08:00:00Z"},
		// Monday's digest went out in Berlin; moving to New York the
		// same day does not bring a second Monday digest there.
		{"moved west after the day's digest", ana("America/New_York", "09:00", "mon-fri"), "2026-03-02T08:00:00Z", "2026-03-02T10:00:00Z", "2026-03-03T14:00:00Z"},
		// Monday's digest went out in New York; in Kolkata it is Tuesday
		// already, whose digest comes at 09:00 there.
		{"moved east after the day's digest", ana("Asia/Kolkata", "09:00", "mon-fri"), "2026-03-02T14:00:00Z", "2026-03-02T15:00:00Z", "2026-03-03T03:30:00Z"},
		{"start moved later the same day", ana("UTC", "14:00", "mon-fri"), "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z", "2026-03-03T14:00:00Z"},
		// Tuesday's slot moved from 14:00 to 09:00 after 09:00: it is owed now.
		{"start moved earlier, owed", ana("UTC", "09:00", "mon-fri"), "2026-03-02T14:00:00Z", "2026-03-03T10:00:00Z", "2026-03-03T09:00:00Z"},
		{"owed after downtime: the latest", ana("UTC", "09:00", "mon-fri"), "2026-03-02T09:00:00Z", "2026-03-05T10:00:00Z", "2026-03-05T09:00:00Z"},
		{"owed at exactly now", ana("UTC", "09:00", "mon-fri"), "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z", "2026-03-03T09:00:00Z"},
		{"immediate only", store.Member{Address: "bo@example.com", Teams: map[string]string{"eng": store.ModeImmediate}, Joined: joined}, "", "2026-03-02T10:00:00Z", ""},
		{"no teams", store.Member{Address: "cy@example.com", Joined: joined}, "", "2026-03-02T10:00:00Z", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st store.DigestState
			if tc.lastDue != "" {
				st.LastDue = mustUTC(t, tc.lastDue)
			}
			got, err := NextDue(tc.m, st, Defaults{}, mustUTC(t, tc.now))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && !got.IsZero():
				t.Fatalf("NextDue = %s, want none", got)
			case tc.want != "" && !got.Equal(mustUTC(t, tc.want)):
				t.Fatalf("NextDue = %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := NextDue(store.Member{Address: "x@example.com", Zone: "Nowhere/Land", Teams: map[string]string{"eng": store.ModeDigest}},
		store.DigestState{}, Defaults{}, joined); err == nil {
		t.Error("NextDue with an unknown zone: no error")
	}
}
