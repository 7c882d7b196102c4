package config

import (
	"testing"
	"time"
)

func TestParseDays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		has      []time.Weekday
		hasNot   []time.Weekday
	}{
		{"mon-fri", "mon-fri", []time.Weekday{time.Monday, time.Friday}, []time.Weekday{time.Saturday, time.Sunday}},
		{"Mon-Fri", "mon-fri", nil, nil},
		{"mon,wed,fri", "mon,wed,fri", []time.Weekday{time.Wednesday}, []time.Weekday{time.Tuesday}},
		{"monday, wednesday", "mon,wed", nil, nil},
		{"sun-thu", "mon-thu,sun", []time.Weekday{time.Sunday, time.Thursday}, []time.Weekday{time.Friday, time.Saturday}},
		{"fri-mon", "mon,fri-sun", []time.Weekday{time.Saturday}, []time.Weekday{time.Tuesday}},
		{"sat,sun", "sat,sun", nil, nil},
		{"mon-sun", "mon-sun", nil, nil},
		{"tue", "tue", nil, []time.Weekday{time.Monday}},
		{"mon-wed,sat", "mon-wed,sat", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			d, err := ParseDays(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.String() != tt.want {
				t.Errorf("String() = %q, want %q", d.String(), tt.want)
			}
			for _, w := range tt.has {
				if !d.Has(w) {
					t.Errorf("%s missing", w)
				}
			}
			for _, w := range tt.hasNot {
				if d.Has(w) {
					t.Errorf("%s present", w)
				}
			}
			again, err := ParseDays(d.String())
			if err != nil || again != d {
				t.Errorf("round trip of %q: %v %v", d.String(), again, err)
			}
		})
	}
	for _, bad := range []string{"", ",", "mon-", "monn", "weekdays", "mon-fri-sat", "1-5"} {
		if d, err := ParseDays(bad); err == nil {
			t.Errorf("ParseDays(%q) = %v, want an error", bad, d)
		}
	}
}

func TestParseClock(t *testing.T) {
	t.Parallel()
	good := map[string]Clock{"09:00": {9, 0}, "9:30": {9, 30}, "00:00": {0, 0}, "23:59": {23, 59}, " 07:05 ": {7, 5}}
	for in, want := range good {
		got, err := ParseClock(in)
		if err != nil || got != want {
			t.Errorf("ParseClock(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got := (Clock{7, 5}).String(); got != "07:05" {
		t.Errorf("String = %q", got)
	}
	for _, in := range []string{"", "9", "24:00", "12:60", "12:5", "-1:00", "9am", "12:00:00", "１２:00", "123:00"} {
		if c, err := ParseClock(in); err == nil {
			t.Errorf("ParseClock(%q) = %v, want an error", in, c)
		}
	}
}

func TestLoadZone(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"} {
		loc, err := LoadZone(name)
		if err != nil {
			t.Errorf("LoadZone(%q): %v", name, err)
			continue
		}
		if loc.String() != name {
			t.Errorf("LoadZone(%q) = %s", name, loc)
		}
	}
	for _, name := range []string{"", "Local", "Europe/Atlantis", "../etc/passwd", "CEST"} {
		if _, err := LoadZone(name); err == nil {
			t.Errorf("LoadZone(%q) succeeded", name)
		}
	}
}
