package digest

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tidings/tidings/store"
)

func TestNewText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, kind, want string
	}{
		{"plain", "Hello.\n\nBye.", "", "Hello.\n\nBye."},
		{"gmail quote below", "Yes, Friday.\n\nOn Mon, 30 Nov 2026 at 10:00, Ana Lima <ana@example.com> wrote:\n> When do we ship?\n", "", "Yes, Friday."},
		{"attribution over two lines", "Yes.\n\nOn Mon, 30 Nov 2026 at 10:00, Ana Lima\n<ana@example.com> wrote:\n> When?", "", "Yes."},
		{"german client", "Passt.\n\nAm 30.11.2026 um 10:00 schrieb Ana Lima <ana@example.com>:\n> Freitag?", "", "Passt."},
		{"french client", "D'accord.\n\nLe lun. 30 nov. 2026 à 10:00, Ana a écrit :\n> Vendredi ?", "", "D'accord."},
		{"outlook header block", "Agreed.\n\nFrom: Ana Lima <ana@example.com>\nSent: Monday, November 30, 2026 10:00\nTo: eng\nSubject: Ship\n\nWhen?", "", "Agreed."},
		{"outlook original message", "Agreed.\n\n-----Original Message-----\nFrom: Ana", "", "Agreed."},
		{"signature", "See you.\n\n-- \nBo Berg\nExample Corp", "", "See you."},
		{"phone signature", "On it.\n\nSent from my iPhone", "", "On it."},
		{"trailing quote without attribution", "Fine by me.\n\n> earlier text\n> more", "", "Fine by me."},
		{"answers between quotes keep a little context", "> q1 line 1\n> q1 line 2\n> q1 line 3\n> q1 line 4\n> q1 line 5\nA1\n\n> q2\nA2", "",
			"> q1 line 1\n> q1 line 2\n> q1 line 3\n> …\nA1\n\n> q2\nA2"},
		{"only a quote is shown as it came", "> all quoted", "", "> all quoted"},
		{"a sentence starting with On stays", "On Friday we ship.\nOn it, wrote: nobody", "", "On Friday we ship.\nOn it, wrote: nobody"},
		{"forward kept whole", "FYI\n\n---------- Forwarded message ---------\nFrom: X\n\nOn Mon, X wrote:\n> y", store.KindForward,
			"FYI\n\n---------- Forwarded message ---------\nFrom: X\n\nOn Mon, X wrote:\n> y"},
		{"CRLF and blank runs", "a\r\n\r\n\r\n\r\nb\r\n", "", "a\n\nb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := newText(tc.in, tc.kind); got != tc.want {
				t.Errorf("newText(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCutText(t *testing.T) {
	t.Parallel()
	lines := strings.Repeat("line\n", 100)
	got, cut := cutText(lines)
	if !cut || strings.Count(got, "\n")+1 != maxTextLines {
		t.Errorf("100 lines cut to %d (cut %v), want %d", strings.Count(got, "\n")+1, cut, maxTextLines)
	}
	words := strings.Repeat("wörd ", 1000)
	got, cut = cutText(words)
	if !cut || len([]rune(got)) > maxTextRunes || strings.HasSuffix(got, "wö") || !strings.HasSuffix(got, "wörd") {
		t.Errorf("long text cut to %d runes ending %q (cut %v)", len([]rune(got)), got[len(got)-8:], cut)
	}
	if got, cut := cutText("short"); cut || got != "short" {
		t.Errorf("short text: %q, %v", got, cut)
	}
}

func TestMentions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"@ana please look", []string{"ana"}},
		{"Thanks @Ana.Lima, and @bo.", []string{"ana.lima", "bo"}},
		{"(@zoë) and @Zoë again", []string{"zoë"}},
		{"mail ana@example.com or bo+x@y.z", nil},
		{"@ alone, @@double, trailing @", nil},
		{"cc:@cy,@dmitri", []string{"cy", "dmitri"}},
	}
	for _, tc := range tests {
		if got := mentionsIn(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("mentionsIn(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	hs := handlesOf(store.Member{Address: "ana.lima@example.com", Name: "Ana Maria Lima"})
	if want := []string{"ana.lima", "ana", "anamarialima"}; !slices.Equal(hs, want) {
		t.Errorf("handlesOf = %q, want %q", hs, want)
	}
}

func TestBusinessDays(t *testing.T) {
	t.Parallel()
	ny := mustZone("America/New_York")
	sunThu := [7]bool{time.Sunday: true, time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true}
	tests := []struct {
		name       string
		since, due time.Time
		loc        *time.Location
		days       [7]bool
		age        int
		overdue    bool
	}{
		{"same day", at(30, 7, 0), at(30, 9, 0), berlin, weekdays, 0, false},
		{"asked Monday, Tuesday digest", at(23, 15, 0), at(24, 9, 0), berlin, weekdays, 1, false},
		{"asked Monday, Wednesday digest: past the end of Tuesday", at(23, 15, 0), at(25, 9, 0), berlin, weekdays, 2, true},
		{"asked Friday, Monday digest", at(27, 15, 0), at(30, 9, 0), berlin, weekdays, 1, false},
		{"asked Friday, Tuesday digest", at(27, 15, 0), at(31, 9, 0), berlin, weekdays, 2, true},
		{"asked Saturday, Monday digest", at(28, 10, 0), at(30, 9, 0), berlin, weekdays, 1, false},
		{"asked Thursday, Sunday digest on sun-thu", at(26, 10, 0), at(29, 9, 0), berlin, sunThu, 1, false},
		{"asked Thursday, Monday on sun-thu", at(26, 10, 0), at(30, 9, 0), berlin, sunThu, 2, true},
		// 23:30 on Monday in Berlin is 17:30 on Monday in New York, but
		// 00:30 on Tuesday in Berlin is still Monday there.
		{"the member's zone decides the date", time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC), time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC), ny, weekdays, 1, false},
		{"three weeks", at(2, 10, 0), at(23, 9, 0), berlin, weekdays, 15, true},
		{"a year", time.Date(2025, 11, 24, 10, 0, 0, 0, berlin), at(24, 9, 0), berlin, weekdays, 261, true},
		{"due before since", at(30, 9, 0), at(27, 9, 0), berlin, weekdays, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			age, overdue := businessDays(tc.since, tc.due, tc.loc, tc.days)
			if age != tc.age || overdue != tc.overdue {
				t.Errorf("businessDays = %d, %v; want %d, %v", age, overdue, tc.age, tc.overdue)
			}
		})
	}
}

func FuzzNewText(f *testing.F) {
	f.Add("Yes.\n\nOn Mon, 30 Nov 2026, Ana <a@b.c> wrote:\n> q", "")
	f.Add("> a\n> b\n> c\n> d\nanswer\n-- \nsig", "")
	f.Add("@ana @bo.berg x@y.z", store.KindForward)
	f.Fuzz(func(t *testing.T, text, kind string) {
		s := newText(text, kind)
		if strings.TrimSpace(text) != "" && s == "" {
			t.Fatalf("newText(%q) left nothing", text)
		}
		cut, _ := cutText(s)
		if n := utf8.RuneCountInString(cut); n > maxTextRunes {
			t.Fatalf("cutText kept %d runes", n)
		}
		if n := strings.Count(cut, "\n") + 1; n > maxTextLines {
			t.Fatalf("cutText kept %d lines", n)
		}
		for _, h := range mentionsIn(text) {
			if h == "" || strings.ContainsAny(h, "@ \n") {
				t.Fatalf("mentionsIn(%q) gave handle %q", text, h)
			}
		}
	})
}
