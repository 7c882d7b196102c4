package digest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func sectionOf(d *Digest) map[uint64]string {
	out := make(map[uint64]string)
	for _, s := range d.Sections {
		for _, t := range s.Threads {
			out[t.ID] = s.Key
		}
	}
	return out
}

func findThread(d *Digest, id uint64) *ThreadView {
	for i := range d.Sections {
		for j := range d.Sections[i].Threads {
			if d.Sections[i].Threads[j].ID == id {
				return &d.Sections[i].Threads[j]
			}
		}
	}
	return nil
}

func TestBuildSections(t *testing.T) {
	t.Parallel()
	f := newFixture()
	d := mustBuild(t, f.input())

	want := map[uint64]string{
		101: SectionUrgent,
		102: SectionWaiting, 103: SectionWaiting,
		104: SectionYours,
		105: SectionNew, 106: SectionNew,
		107: SectionOther, 108: SectionOther,
	}
	got := sectionOf(d)
	for id, sec := range want {
		if got[id] != sec {
			t.Errorf("thread %d in section %q, want %q", id, got[id], sec)
		}
	}
	for id, why := range map[uint64]string{109: "muted", 110: "only her own messages", 111: "not her team", 112: "only an auto-reply"} {
		if s, ok := got[id]; ok {
			t.Errorf("thread %d (%s) is shown, in %s", id, why, s)
		}
	}
	var keys []string
	for _, s := range d.Sections {
		keys = append(keys, s.Key)
	}
	if want := []string{"urgent", "waiting", "yours", "new", "other"}; !slices.Equal(keys, want) {
		t.Errorf("sections %v, want %v", keys, want)
	}
	// Waiting: the oldest and overdue first.
	if w := d.Sections[1].Threads; w[0].ID != 102 || w[1].ID != 103 {
		t.Errorf("waiting order %d, %d; want 102, 103", w[0].ID, w[1].ID)
	}
	// New threads and other activity: latest activity first.
	if n := d.Sections[3].Threads; n[0].ID != 105 || n[1].ID != 106 {
		t.Errorf("new threads order %d, %d; want 105, 106", n[0].ID, n[1].ID)
	}
}

func TestBuildLeavesOutOwnMessages(t *testing.T) {
	t.Parallel()
	d := mustBuild(t, newFixture().input())
	for _, s := range d.Sections {
		for _, th := range s.Threads {
			for _, m := range th.Messages {
				if m.Address == ana.Address {
					t.Errorf("thread %d shows her own message %d", th.ID, m.Seq)
				}
			}
			for _, r := range th.Reactions {
				if slices.Contains(r.Names, "Ana Lima") {
					t.Errorf("thread %d counts her own reaction %q", th.ID, r.Text)
				}
			}
		}
	}
	ci := findThread(d, 104)
	if ci == nil {
		t.Fatal("thread 104 missing")
	}
	// Her 🎉 is left out: Zoë's is the only one.
	want := []Reaction{{Text: "👍", Count: 3, Names: []string{"Cy", "Дмитрий Ковалёв", "Jürgen Groß"}}, {Text: "🎉", Count: 1, Names: []string{"Zoë Ångström"}}}
	if len(ci.Reactions) != 2 || ci.Reactions[0].Count != 3 || !slices.Equal(ci.Reactions[0].Names, want[0].Names) ||
		ci.Reactions[1].Count != 1 || !slices.Equal(ci.Reactions[1].Names, want[1].Names) {
		t.Errorf("reactions %+v, want %+v", ci.Reactions, want)
	}
	if ci.New != 5 { // Bo's message and four reactions; not her reaction nor her reply
		t.Errorf("thread 104 New = %d, want 5", ci.New)
	}
	if ci.Waiting {
		t.Error("thread 104 waits on her, though she answered Bo")
	}
	if !slices.Equal(ci.Participants, []string{"you", "Bo Berg", "Cy", "Дмитрий Ковалёв", "Jürgen Groß", "Zoë Ångström"}) {
		t.Errorf("participants %q", ci.Participants)
	}
}

func TestBuildWaitingAge(t *testing.T) {
	t.Parallel()
	d := mustBuild(t, newFixture().input())
	rel := findThread(d, 102)
	if !rel.Waiting || rel.AgeDays != 2 || !rel.Overdue || !rel.Since.Equal(at(26, 15, 2).Add(3*time.Second)) {
		t.Errorf("thread 102: waiting %v since %v, %d business days, overdue %v; want since Thursday, 2 days, overdue",
			rel.Waiting, rel.Since, rel.AgeDays, rel.Overdue)
	}
	des := findThread(d, 103)
	if !des.Waiting || des.AgeDays != 0 || des.Overdue {
		t.Errorf("thread 103: waiting %v, %d days, overdue %v; want since today, not overdue", des.Waiting, des.AgeDays, des.Overdue)
	}
	if !slices.Equal(d.Waiting, []uint64{102, 103}) {
		t.Errorf("Digest.Waiting = %v", d.Waiting)
	}
}

func TestBuildCountsSubjectCursor(t *testing.T) {
	t.Parallel()
	f := newFixture()
	in := f.input()
	d := mustBuild(t, in)
	want := Counts{Urgent: 1, Waiting: 2, Overdue: 1, Threads: 8, Updates: 2 + 2 + 1 + 5 + 12 + 1 + 2 + 1}
	if d.Counts != want {
		t.Errorf("counts %+v, want %+v", d.Counts, want)
	}
	if want := "[tidings] 1 urgent · 2 waiting on you · 26 updates · Mon 30 Nov"; d.Subject != want {
		t.Errorf("subject %q, want %q", d.Subject, want)
	}
	if last := in.Messages[len(in.Messages)-1].Seq; d.Cursor != last {
		t.Errorf("cursor %d, want %d", d.Cursor, last)
	}
	if d.Team.Name != "eng" || d.ReplyTo != fixLinks.DigestAddress(teamEng, ana.Address) {
		t.Errorf("from team %q reply-to %q", d.Team.Name, d.ReplyTo)
	}
	if d.Schedule != "09:00 Europe/Berlin, mon-fri" {
		t.Errorf("schedule %q", d.Schedule)
	}
}

func TestBuildLimits(t *testing.T) {
	t.Parallel()
	in := newFixture().input()
	d := mustBuild(t, in)
	q1 := findThread(d, 105)
	if len(q1.Messages) != 3 || q1.More != 9 {
		t.Fatalf("thread 105 shows %d messages and %d more; want 3 and 9", len(q1.Messages), q1.More)
	}
	last := q1.Messages[2]
	if !last.Truncated || !strings.HasSuffix(last.Text, "matter.") || strings.Count(last.Text, "\n") >= maxTextLines {
		t.Errorf("the long message is not cut: truncated %v, %d lines", last.Truncated, strings.Count(last.Text, "\n")+1)
	}

	in.Limits = Limits{Threads: 3, Compact: 1, Messages: 2}
	d = mustBuild(t, in)
	shown := 0
	for _, s := range d.Sections {
		if s.Key != SectionOther {
			shown += len(s.Threads)
		}
	}
	if shown != 3 || d.More != 3+1 {
		t.Errorf("with limits: %d full threads shown, %d more; want 3 and 4", shown, d.More)
	}
	if s := d.Sections[len(d.Sections)-1]; s.Key != SectionOther || len(s.Threads) != 1 || s.More != 1 {
		t.Errorf("other activity: %d shown, %d more", len(s.Threads), s.More)
	}
	// Counts and Waiting still cover everything, shown or not.
	if d.Counts.Threads != 8 || len(d.Waiting) != 2 {
		t.Errorf("counts %+v waiting %v", d.Counts, d.Waiting)
	}
}

func TestBuildEmpty(t *testing.T) {
	t.Parallel()
	f := newFixture()
	in := f.input()
	tests := []struct {
		name string
		keep func(store.Message) bool
	}{
		{"no messages", func(store.Message) bool { return false }},
		{"only her own", func(m store.Message) bool { return m.From == ana.Address }},
		{"only muted", func(m store.Message) bool { return m.Thread == 109 }},
		{"only another team", func(m store.Message) bool { return m.Team == "sales" }},
		{"only an auto-reply", func(m store.Message) bool { return m.Auto != "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := in
			in.Messages = slices.DeleteFunc(slices.Clone(in.Messages), func(m store.Message) bool { return !tc.keep(m) })
			d, ok := Build(in)
			if ok {
				t.Fatalf("Build would send %q", d.Subject)
			}
			var want uint64
			for _, m := range in.Messages {
				want = max(want, m.Seq)
			}
			if d.Cursor != want {
				t.Errorf("cursor %d, want %d", d.Cursor, want)
			}
		})
	}
}

func TestBuildSinceJoined(t *testing.T) {
	t.Parallel()
	in := newFixture().input()
	// Ana joined on Sunday at noon: Friday's and Saturday's mail is not hers.
	in.Member.Joined = at(29, 12, 0)
	d := mustBuild(t, in)
	got := sectionOf(d)
	_, has105 := got[105]
	if len(got) != 3 || got[101] != SectionUrgent || got[103] != SectionWaiting || !has105 {
		t.Errorf("sections %v; want only 101 (Sunday night), 103 (Monday morning) and 105 (Sunday)", got)
	}
	if q1 := findThread(d, 105); q1 != nil && q1.New != 3 {
		t.Errorf("thread 105: %d new; want the 3 from Sunday noon on", q1.New)
	}
	if last := in.Messages[len(in.Messages)-1].Seq; d.Cursor != last {
		t.Errorf("cursor %d, want %d: the mail before she joined is passed, not kept for later", d.Cursor, last)
	}
}

func TestBuildCarriesWaiting(t *testing.T) {
	t.Parallel()
	f := newFixture()
	// Tuesday's digest: only a new message in the lunch thread; Release 4.2
	// still waits on her from Thursday.
	f.seq = 200
	f.add(107, pCy, at(30, 12, 0), "Pizza it is.")
	var in = f.input()
	in.Messages = []store.Message{f.messages[len(f.messages)-1]}
	in.Due = time.Date(2026, 12, 1, 9, 0, 0, 0, berlin)
	in.Waiting = []uint64{102, 103, 104}
	d := mustBuild(t, in)
	if got := sectionOf(d); got[102] != SectionWaiting || got[103] != SectionWaiting || got[107] != SectionOther || len(got) != 3 {
		t.Fatalf("sections %v; want 102 and 103 waiting, 107 other", got)
	}
	rel := findThread(d, 102)
	if rel.AgeDays != 3 || !rel.Overdue || rel.New != 0 || len(rel.Messages) != 1 || rel.Messages[0].From != "Bo Berg" {
		t.Errorf("carried thread 102: %d days, overdue %v, %d new, messages %d", rel.AgeDays, rel.Overdue, rel.New, len(rel.Messages))
	}
	if des := findThread(d, 103); des.AgeDays != 1 || des.Overdue {
		t.Errorf("carried thread 103: %d days, overdue %v; want 1, not overdue", des.AgeDays, des.Overdue)
	}
	if d.Counts.Waiting != 2 || d.Counts.Updates != 1 || d.Counts.Threads != 1 {
		t.Errorf("counts %+v", d.Counts)
	}

	// Reminders alone are not news: no digest.
	in.Messages = nil
	if d, ok := Build(in); ok {
		t.Errorf("a digest of reminders only would be sent: %q", d.Subject)
	} else if !slices.Equal(d.Waiting, []uint64{102, 103}) {
		t.Errorf("Waiting = %v; still want 102 and 103 for the next digest", d.Waiting)
	}
}

func TestPreparedSharedAcrossMembers(t *testing.T) {
	t.Parallel()
	f := newFixture()
	in := f.input()
	r, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	bo := store.Member{Address: "bo@example.com", Name: "Bo Berg", Teams: map[string]string{"eng": "digest"}}
	p := Prepare(in.Messages, in.Threads, in.History)
	for _, m := range []store.Member{ana, bo} {
		in := in
		in.Member = m
		if m.Address == bo.Address {
			in.Teams = []store.Team{teamEng}
		}
		alone, ok1 := Build(in)
		shared, ok2 := p.Build(in)
		if ok1 != ok2 {
			t.Fatalf("%s: ok %v alone, %v shared", m.Address, ok1, ok2)
		}
		t1, h1, err1 := Render(alone, r)
		t2, h2, err2 := Render(shared, r)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if string(t1) != string(t2) || string(h1) != string(h2) {
			t.Errorf("%s: the digest from a shared Prepared differs from one built alone", m.Address)
		}
	}
	// Bo's digest: the thread he was asked in is his (he wrote in it); his
	// own messages are not there.
	in.Member, in.Teams = bo, []store.Team{teamEng}
	d, _ := p.Build(in)
	for _, s := range d.Sections {
		for _, th := range s.Threads {
			for _, m := range th.Messages {
				if m.Address == bo.Address {
					t.Errorf("Bo sees his own message %d", m.Seq)
				}
			}
		}
	}
	if got := sectionOf(d); got[103] != SectionWaiting || got[104] != SectionYours {
		t.Errorf("Bo's sections %v; want 103 waiting (@bo), 104 his", got)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	r, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	d := mustBuild(t, newFixture().input())
	text, html, err := Render(d, r)
	if err != nil {
		t.Fatal(err)
	}
	// The same mail under tight limits: the "and N more" lines.
	in := newFixture().input()
	in.Limits = Limits{Threads: 3, Compact: 1, Messages: 2}
	limited, _, err := Render(mustBuild(t, in), r)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"digest.txt": text, "digest.html": html, "digest-limited.txt": limited} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./digest -run Golden -update to write it)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from the golden file; run go test ./digest -run Golden -update and review the diff.\ngot:\n%s", name, got)
		}
	}
}

func TestPreparedConcurrent(t *testing.T) {
	t.Parallel()
	r, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	in := newFixture().input()
	bo := store.Member{Address: "bo@example.com", Name: "Bo Berg", Teams: map[string]string{"eng": "digest"}}
	zoe := store.Member{Address: "zoe@example.com", Name: "Zoë Ångström", Teams: map[string]string{"eng": "digest", "ops": "digest"}}
	members := []store.Member{ana, bo, zoe}
	zones := []*time.Location{berlin, mustZone("America/New_York"), mustZone("Asia/Kolkata")}
	want := make(map[string]string)
	for i, m := range members {
		in := in
		in.Member, in.Loc = m, zones[i]
		d := mustBuild(t, in)
		text, html, err := Render(d, r)
		if err != nil {
			t.Fatal(err)
		}
		want[m.Address] = string(text) + string(html)
	}
	// Many goroutines over one Prepared: its caches are shared.
	p := Prepare(in.Messages, in.Threads, in.History)
	errs := make(chan error, 24)
	for g := range 24 {
		go func() {
			i := g % len(members)
			in := in
			in.Member, in.Loc = members[i], zones[i]
			d, _ := p.Build(in)
			text, html, err := Render(d, r)
			if err == nil && string(text)+string(html) != want[members[i].Address] {
				err = fmt.Errorf("%s: the digest from the shared Prepared differs", members[i].Address)
			}
			errs <- err
		}()
	}
	for range 24 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestBuildFollowed: a thread the member follows by mail is among their
// own threads, however little they took part.
func TestBuildFollowed(t *testing.T) {
	t.Parallel()
	f := newFixture()
	in := f.input()
	in.Member.Followed = []uint64{107}
	if got := sectionOf(mustBuild(t, in))[107]; got != SectionYours {
		t.Errorf("followed thread 107 in section %q, want %q", got, SectionYours)
	}
}

// TestForwardView: a forward shows its original author and date, and the
// forwarder's note above the original, quoted.
func TestForwardView(t *testing.T) {
	t.Parallel()
	m := &store.Message{Kind: store.KindForward, OriginalFrom: "updates@vendor.example",
		OriginalDate: time.Date(2026, 11, 26, 16, 12, 0, 0, time.UTC), Note: "FYI, this hits the budget.\n",
		Text: "Prices rise by 4 %.\n\nFrom January."}
	mv := newMessageView(m)
	if mv.Forwarded != "updates@vendor.example, 26 Nov 2026" {
		t.Errorf("Forwarded = %q", mv.Forwarded)
	}
	if want := "FYI, this hits the budget.\n\n> Prices rise by 4 %.\n>\n> From January."; mv.Text != want {
		t.Errorf("Text = %q, want %q", mv.Text, want)
	}
	m.Note, m.OriginalDate = "", time.Time{}
	if mv := newMessageView(m); mv.Forwarded != "updates@vendor.example" || mv.Text != "Prices rise by 4 %.\n\nFrom January." {
		t.Errorf("without note or date: %q, %q", mv.Forwarded, mv.Text)
	}
}
