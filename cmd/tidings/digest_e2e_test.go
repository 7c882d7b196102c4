package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
)

// Helpers for the tests that wait on real time for digests to reach the
// outbox Maildir.

// outboxFiles lists the mail delivered into the instance's outbox/new/.
func outboxFiles(t *testing.T, in *instance) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(in.DataDir, "outbox", "new"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, filepath.Join(in.DataDir, "outbox", "new", e.Name()))
		}
	}
	return names
}

// waitOutbox polls outbox/new/ until it holds at least n files or the
// deadline passes, and returns what it holds then. The deadline is there
// for a hang, not a measure of speed.
func waitOutbox(t *testing.T, in *instance, n int, deadline time.Time) []string {
	t.Helper()
	for {
		files := outboxFiles(t, in)
		if len(files) >= n || time.Now().After(deadline) {
			return files
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// nextSlot returns the next whole minute at least lead from now, so that
// members can be added and mail sent before it falls due.
func nextSlot(lead time.Duration) time.Time {
	now := time.Now()
	due := now.Truncate(time.Minute).Add(time.Minute)
	for due.Sub(now) < lead {
		due = due.Add(time.Minute)
	}
	return due
}

// slotFlags are the member flags that make a digest fall due at instant
// due in zone: the start time is due's wall clock there, and when that
// local day is a weekend every day is a working day.
func slotFlags(t *testing.T, zone string, due time.Time) []string {
	t.Helper()
	local := due.In(mustZone(t, zone))
	days := "mon-fri"
	if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
		days = "mon-sun"
	}
	return []string{"--tz", zone, "--start", local.Format("15:04"), "--days", days}
}

// post builds a message with a body of its own.
func post(from, subject, msgID, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: eng@localhost\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\n",
		from, subject, msgID, time.Now().Format(time.RFC1123Z))
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n" + body + "\r\n")
	return b.String()
}

// delivered is one mail from the outbox, its parts decoded.
type delivered struct {
	path       string
	mtime      time.Time
	header     message.Header
	types      []string // the parts' media types, in order
	text, html string
}

func readDelivered(t *testing.T, path string) delivered {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Errorf("%s: a bare LF; mail must have CRLF line endings", path)
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	d := delivered{path: path, mtime: fi.ModTime(), header: e.Header}
	mr := e.MultipartReader()
	if mr == nil {
		t.Fatalf("%s is not multipart", path)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		mt, _, _ := p.Header.ContentType()
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		d.types = append(d.types, mt)
		switch mt {
		case "text/plain":
			d.text = string(body)
		case "text/html":
			d.html = string(body)
		}
	}
	return d
}

// to is the address the mail went to.
func (d delivered) to(t *testing.T) string {
	t.Helper()
	a, err := mail.ParseAddress(d.header.Get("To"))
	if err != nil {
		t.Fatalf("%s: To %q: %v", d.path, d.header.Get("To"), err)
	}
	return a.Address
}

func readSchedule(t *testing.T, in *instance) map[string]scheduleJSON {
	t.Helper()
	var rows []scheduleJSON
	out := in.MustRun("digest", "schedule", "--json")
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("digest schedule --json: %v\n%s", err, out)
	}
	m := map[string]scheduleJSON{}
	for _, r := range rows {
		m[r.Address] = r
	}
	return m
}

func parseUTC(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return at
}

var replyAddrRE = regexp.MustCompile(`eng\+[a-z2-7]+@localhost`)

// TestDigestEndToEnd runs serve on real time: three members in three
// zones whose working day starts at the next minute get one digest each,
// at that minute, in the outbox Maildir, without their own messages; a
// member whose day starts hours later gets nothing; a restart sends
// nothing again.
func TestDigestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("waits minutes on the real clock")
	}
	t.Parallel()
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng")

	due := nextSlot(20 * time.Second)
	type person struct{ addr, name, zone, marker string }
	people := []person{
		{"ana@example.com", "Ana", "Europe/Berlin", "marker-ana-launch"},
		{"bo@example.com", "Bo", "America/New_York", "marker-bo-reply"},
		{"chitra@example.com", "Chitra", "Asia/Kolkata", "marker-chitra-office"},
	}
	for _, p := range people {
		in.MustRun(append([]string{"member", "add", p.name + " <" + p.addr + ">", "--team", "eng"}, slotFlags(t, p.zone, due)...)...)
	}
	berlin := mustZone(t, "Europe/Berlin")
	later := due.Add(5 * time.Hour).In(berlin).Format("15:04")
	in.MustRun("member", "add", "Dee <dee@example.com>", "--team", "eng", "--tz", "Europe/Berlin", "--start", later, "--days", "mon-sun")

	// Two threads: Ana starts one and Bo answers in it; Chitra starts the
	// other.
	for _, m := range []struct{ from, msg string }{
		{"ana@example.com", post("Ana <ana@example.com>", "Launch plan", "launch@example.com", "marker-ana-launch We ship on Friday.")},
		{"bo@example.com", post("Bo <bo@example.com>", "Re: Launch plan", "launch-re@example.com", "marker-bo-reply Friday works.",
			"In-Reply-To: <launch@example.com>", "References: <launch@example.com>")},
		{"chitra@example.com", post("Chitra <chitra@example.com>", "Office move", "office@example.com", "marker-chitra-office We move on the 3rd.")},
	} {
		if r := in.Send(m.from, []string{"eng@localhost"}, m.msg); r.Code != 250 {
			t.Fatalf("send from %s: %s", m.from, r)
		}
	}
	if ths := threadsJSON(t, in); len(ths) != 2 {
		t.Fatalf("%d threads, want 2: %+v", len(ths), ths)
	}

	sched := readSchedule(t, in)
	for _, p := range people {
		if r := sched[p.addr]; r.NextUTC != due.UTC().Format(time.RFC3339) || r.Owed {
			t.Errorf("before the slot, %s: %+v, want next_utc %s", p.addr, r, due.UTC().Format(time.RFC3339))
		}
	}
	if r := sched["dee@example.com"]; !parseUTC(t, r.NextUTC).Equal(due.Add(5 * time.Hour)) {
		t.Errorf("dee: next %s, want %s", r.NextUTC, due.Add(5*time.Hour).UTC().Format(time.RFC3339))
	}
	if files := outboxFiles(t, in); len(files) != 0 {
		t.Fatalf("mail in the outbox before anything fell due: %v", files)
	}
	t.Logf("waiting for the digests due at %s (%s from now)", due.UTC().Format(time.RFC3339), time.Until(due).Round(time.Second))

	waitOutbox(t, in, len(people), due.Add(150*time.Second))
	// Anything more would come at the same moment: give it a little.
	time.Sleep(2 * time.Second)
	files := outboxFiles(t, in)
	if len(files) != len(people) {
		t.Fatalf("%d mails in outbox/new/, want %d: %v", len(files), len(people), files)
	}

	byTo := map[string]delivered{}
	for _, f := range files {
		d := readDelivered(t, f)
		to := d.to(t)
		if _, dup := byTo[to]; dup {
			t.Errorf("%s got two digests", to)
		}
		byTo[to] = d
	}
	if _, ok := byTo["dee@example.com"]; ok {
		t.Errorf("dee, whose day starts hours later, got a digest")
	}
	threadAddrs := map[string]string{} // reply address → who got it
	digestAddrs := map[string]bool{}
	msgIDs := map[string]bool{}
	for _, p := range people {
		d, ok := byTo[p.addr]
		if !ok {
			t.Errorf("%s got no digest", p.addr)
			continue
		}
		h := d.header
		late := d.mtime.Sub(due)
		t.Logf("%s (%s): due %s local, in outbox/new/ %.3fs after it", p.addr, p.zone,
			due.In(mustZone(t, p.zone)).Format("Mon 15:04 MST"), late.Seconds())
		if late < -time.Second || late >= time.Minute { // mtime may round below the due second on some file systems
			t.Errorf("%s: delivered %s after the due time, want within a minute", p.addr, late)
		}
		date, err := mail.ParseDate(h.Get("Date"))
		if err != nil || !date.Equal(due) {
			t.Errorf("%s: Date %q, want the due instant %s", p.addr, h.Get("Date"), due)
		}
		_, off := date.Zone()
		if _, want := due.In(mustZone(t, p.zone)).Zone(); off != want {
			t.Errorf("%s: Date %q is not in the member's zone %s", p.addr, h.Get("Date"), p.zone)
		}
		id := h.Get("Message-Id")
		if !strings.HasPrefix(id, "<digest.") || !strings.HasSuffix(id, "@localhost>") || msgIDs[id] {
			t.Errorf("%s: Message-ID %q (missing, odd or repeated)", p.addr, id)
		}
		msgIDs[id] = true
		if from, err := mail.ParseAddress(h.Get("From")); err != nil || from.Address != "eng@localhost" || from.Name != "eng" {
			t.Errorf("%s: From %q", p.addr, h.Get("From"))
		}
		if to, err := mail.ParseAddress(h.Get("To")); err != nil || to.Name != p.name {
			t.Errorf("%s: To %q, want the member's name", p.addr, h.Get("To"))
		}
		replyTo, err := mail.ParseAddress(h.Get("Reply-To"))
		if err != nil || !replyAddrRE.MatchString(replyTo.Address) || "<"+replyTo.Address+">" != h.Get("Reply-To") {
			t.Errorf("%s: Reply-To %q, want the member's digest address eng+…@localhost", p.addr, h.Get("Reply-To"))
		} else {
			if digestAddrs[replyTo.Address] {
				t.Errorf("%s: Reply-To %s shared with another member", p.addr, replyTo.Address)
			}
			digestAddrs[replyTo.Address] = true
			if want := "<mailto:" + replyTo.Address + "?subject=unsubscribe>"; !strings.Contains(h.Get("List-Unsubscribe"), want) {
				t.Errorf("%s: List-Unsubscribe %q lacks %s", p.addr, h.Get("List-Unsubscribe"), want)
			}
		}
		if !strings.Contains(h.Get("List-Unsubscribe"), "<http://") {
			t.Errorf("%s: List-Unsubscribe %q lacks the one-click URL", p.addr, h.Get("List-Unsubscribe"))
		}
		for k, want := range map[string]string{
			"List-Id":                  `"eng" <eng.localhost>`,
			"List-Unsubscribe-Post":    "List-Unsubscribe=One-Click",
			"Auto-Submitted":           "auto-generated",
			"X-Auto-Response-Suppress": "All",
			"Precedence":               "list",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s %q, want %q", p.addr, k, got, want)
			}
		}
		if mt, _, _ := h.ContentType(); mt != "multipart/alternative" || !slices.Equal(d.types, []string{"text/plain", "text/html"}) {
			t.Errorf("%s: %s with parts %v, want multipart/alternative of text/plain and text/html", p.addr, mt, d.types)
		}
		for _, q := range people {
			for part, body := range map[string]string{"text": d.text, "html": d.html} {
				if has := strings.Contains(body, q.marker); has != (q.addr != p.addr) {
					t.Errorf("%s: %s part has %s's message: %v, want %v", p.addr, part, q.name, has, q.addr != p.addr)
				}
			}
		}
		// One reply address per thread shown: Chitra sees the launch
		// thread only, the others both.
		wantThreads := 2
		if p.name == "Chitra" {
			wantThreads = 1
		}
		seen := map[string]bool{}
		for _, a := range replyAddrRE.FindAllString(d.text, -1) {
			if a == replyTo.Address {
				continue
			}
			if who, ok := threadAddrs[a]; ok && who != p.addr {
				t.Errorf("%s and %s share the reply address %s", who, p.addr, a)
			}
			threadAddrs[a] = p.addr
			seen[a] = true
		}
		if len(seen) != wantThreads {
			t.Errorf("%s: %d thread reply addresses in the text part, want %d: %v\n%s", p.addr, len(seen), wantThreads, seen, d.text)
		}
	}
	if t.Failed() {
		return
	}

	// A restart, and past the next minute: nothing more.
	in.Stop()
	in.Start()
	time.Sleep(70 * time.Second)
	if after := outboxFiles(t, in); len(after) != len(people) {
		t.Errorf("after a restart and 70s: %d mails in outbox/new/, want still %d: %v", len(after), len(people), after)
	}
	now := time.Now()
	sched = readSchedule(t, in)
	for _, p := range people {
		r := sched[p.addr]
		if next := parseUTC(t, r.NextUTC); next.Sub(now) < 12*time.Hour || r.Owed {
			t.Errorf("after their digest, %s: %+v, want the next a working day on", p.addr, r)
		}
	}
	r := sched["dee@example.com"]
	if next := parseUTC(t, r.NextUTC); next.Sub(now) < 3*time.Hour || r.Owed {
		t.Errorf("dee: %+v, want the next digest hours ahead", r)
	}
	t.Logf("dee's first digest: %s (%s), in %s", r.NextLocal, r.TZ, time.Until(parseUTC(t, r.NextUTC)).Round(time.Minute))
}
