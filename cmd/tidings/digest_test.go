package main

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"

	"github.com/tidings/tidings/digest"
	"github.com/tidings/tidings/mailout"
	"github.com/tidings/tidings/store"
)

func TestListID(t *testing.T) {
	t.Parallel()
	tests := []struct{ team, domain, want string }{
		{"eng", "example.com", "eng.example.com"},
		{"eng", "localhost", "eng.localhost"},
		{"ops.eu", "Example.COM", "ops.eu.example.com"},
		{"a..b.", "example.com", "a.b.example.com"},
		{"eng", "bücher.example", "eng.xn--bcher-kva.example"},
		{"", "example.com", "team.example.com"},
		{"eng", `"x" <y>`, "eng.xy"},
	}
	for _, tt := range tests {
		if got := listID(tt.team, tt.domain); got != tt.want {
			t.Errorf("listID(%q, %q) = %q, want %q", tt.team, tt.domain, got, tt.want)
		}
		// Whatever a team is called, Compose takes the result.
		_, err := mailout.Compose(mailout.Mail{From: mail.Address{Address: "a@b.c"}, To: mail.Address{Address: "d@e.f"},
			Date: time.Unix(0, 0), MessageID: "x@y", ListID: listID(tt.team, tt.domain), Text: []byte("x")})
		if err != nil {
			t.Errorf("listID(%q, %q): Compose refuses it: %v", tt.team, tt.domain, err)
		}
	}
}

// TestDigestMail checks the mail a digest becomes: who it is from and to,
// where replies and unsubscriptions go, and that its Message-ID depends on
// the slot alone.
func TestDigestMail(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	o := digest.Outgoing{
		Digest: &digest.Digest{
			Member:         store.Member{Address: "zoe@example.com", Name: "Zoë Ünal"},
			Team:           store.Team{Name: "eng", Address: "eng@example.com"},
			ReplyTo:        "eng+dtoken@example.com",
			Due:            due,
			Date:           due.In(berlin),
			Subject:        "[tidings] 2 waiting on you · 9 updates · Mon 30 Nov",
			UnsubscribeURL: "https://tidings.example.com/unsubscribe?m=zoe%40example.com&sig=abc",
		},
		Text: []byte("Good morning.\n"),
		HTML: []byte("<p>Good morning.</p>\n"),
		Key:  "zoe@example.com|2026-11-30T08:00:00Z",
	}
	m := digestMail(o, "example.com")
	raw, err := mailout.Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	r, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	header := func(k string) string {
		v := r.Header.Get(k)
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	want := map[string]string{
		"From":                  `"eng" <eng@example.com>`,
		"Reply-To":              "<eng+dtoken@example.com>",
		"Subject":               "[tidings] 2 waiting on you · 9 updates · Mon 30 Nov",
		"Date":                  "Mon, 30 Nov 2026 09:00:00 +0100",
		"Message-Id":            "<" + mailout.MessageID("digest", o.Key, "example.com") + ">",
		"List-Id":               `"eng" <eng.example.com>`,
		"List-Unsubscribe":      "<https://tidings.example.com/unsubscribe?m=zoe%40example.com&sig=abc>, <mailto:eng+dtoken@example.com?subject=unsubscribe>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Auto-Submitted":        "auto-generated",
		"Precedence":            "list",
	}
	for k, v := range want {
		if got := header(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	to, err := mail.ParseAddress(header("To"))
	if err != nil || to.Name != "Zoë Ünal" || to.Address != "zoe@example.com" {
		t.Errorf("To: %q (%v)", header("To"), err)
	}
	if mt, _, _ := r.Header.ContentType(); mt != "multipart/alternative" {
		t.Errorf("Content-Type %q", mt)
	}
	// The same slot gives the same Message-ID; another slot another.
	o2 := o
	o2.Key = "zoe@example.com|2026-12-01T08:00:00Z"
	if a, b := digestMail(o, "example.com").MessageID, digestMail(o2, "example.com").MessageID; a == b {
		t.Errorf("two slots share Message-ID %s", a)
	}
	if a, b := digestMail(o, "example.com").MessageID, m.MessageID; a != b {
		t.Errorf("Message-ID not stable: %s, then %s", b, a)
	}
}

// TestScheduleOf checks `digest schedule`'s view of one member at chosen
// instants: before the slot, at it, late within catch-up and late past it.
func TestScheduleOf(t *testing.T) {
	t.Parallel()
	joined := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) // a Sunday
	m := store.Member{Address: "ana@example.com", Zone: "Europe/Berlin", Start: "09:00", Days: "mon-fri",
		Teams: map[string]string{"eng": store.ModeDigest}, Joined: joined}
	monday := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) // 09:00 CET
	tests := []struct {
		name       string
		st         store.DigestState
		now        time.Time
		next       time.Time
		owed, skip bool
	}{
		{"before", store.DigestState{}, monday.Add(-time.Hour), monday, false, false},
		{"at", store.DigestState{}, monday, monday, true, false},
		{"late", store.DigestState{}, monday.Add(11 * time.Hour), monday, true, false},
		{"missed", store.DigestState{}, monday.Add(13 * time.Hour), monday, true, true},
		{"claimed", store.DigestState{LastDue: monday}, monday.Add(time.Minute), monday.AddDate(0, 0, 1), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := scheduleOf(m, tt.st, digest.Defaults{}, tt.now, 12*time.Hour)
			if !r.next.Equal(tt.next) || r.Owed != tt.owed || r.Skip != tt.skip || r.Error != "" {
				t.Errorf("next %v owed %v skip %v (%q), want %v %v %v", r.next, r.Owed, r.Skip, r.Error, tt.next, tt.owed, tt.skip)
			}
			if r.NextUTC != tt.next.Format(time.RFC3339) {
				t.Errorf("next_utc %q", r.NextUTC)
			}
			wantLocal := tt.next.In(mustZone(t, "Europe/Berlin")).Format(time.RFC3339)
			if r.NextLocal != wantLocal {
				t.Errorf("next_local %q, want %q", r.NextLocal, wantLocal)
			}
		})
	}
	bad := m
	bad.Zone = "Mars/Olympus"
	if r := scheduleOf(bad, store.DigestState{}, digest.Defaults{}, monday, 0); r.Error == "" || r.NextUTC != "" {
		t.Errorf("unknown zone: %+v", r.scheduleJSON)
	}
	// A member without a zone runs on the configured default.
	def := m
	def.Zone, def.Start = "", ""
	r := scheduleOf(def, store.DigestState{}, digest.Defaults{TZ: "Asia/Kolkata", Start: "10:30"}, joined, 0)
	if r.TZ != "Asia/Kolkata" || r.Start != "10:30" || r.NextLocal != "2026-11-30T10:30:00+05:30" {
		t.Errorf("defaults: %+v", r.scheduleJSON)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestDigestCommands runs digest preview and digest schedule in-process,
// without a server.
func TestDigestCommands(t *testing.T) {
	t.Parallel()
	tl := newTool(t)
	if out := tl.ok("digest", "schedule"); strings.TrimSpace(out) != "no member gets digests" {
		t.Errorf("schedule with no members: %q", out)
	}
	if out := tl.ok("digest", "schedule", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("schedule --json with no members: %q", out)
	}
	tl.ok("team", "add", "eng", "--address", "eng@example.com")
	tl.ok("member", "add", "Ana <ana@example.com>", "--team", "eng", "--tz", "Europe/Berlin")
	tl.ok("member", "add", "Bo <bo@example.com>", "--team", "eng", "--tz", "America/New_York", "--mode", "immediate")
	tl.ok("member", "add", "Cy <cy@example.com>", "--team", "eng", "--tz", "Asia/Kolkata", "--start", "10:30", "--days", "sun-thu")
	mbox, err := filepath.Abs("../../mailin/testdata/source/team.mbox")
	if err != nil {
		t.Fatal(err)
	}
	tl.ok("import", "--mbox", mbox)

	text := tl.ok("digest", "preview", "ana@example.com")
	for _, want := range []string{"Launch plan", "Bo", "Cy", "mailto:eng+"} {
		if !strings.Contains(text, want) {
			t.Errorf("preview text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "<html") {
		t.Errorf("preview text is HTML:\n%s", text)
	}
	html := tl.ok("digest", "preview", "ana@example.com", "--html", "--at", "2026-11-30T09:00:00+01:00")
	if !strings.Contains(html, "<html") || !strings.Contains(html, "Launch plan") || !strings.Contains(html, "Monday 30 November 2026") {
		t.Errorf("preview --html --at:\n%s", html)
	}
	// Nothing is claimed: the same preview again shows the same.
	if again := tl.ok("digest", "preview", "ana@example.com"); again != text {
		t.Errorf("second preview differs:\n%s\n---\n%s", text, again)
	}
	if out := tl.ok("digest", "preview", "bo@example.com"); !strings.HasPrefix(out, "nothing to send to bo@example.com") ||
		!strings.Contains(out, "no team in mode digest") {
		t.Errorf("preview for an immediate member: %q", out)
	}
	if r := tl.run("digest", "preview", "nobody@example.com"); r.Code != 1 || !strings.Contains(r.Stderr, "no member nobody@example.com") {
		t.Errorf("preview of a stranger: exit %d, %q", r.Code, r.Stderr)
	}
	if r := tl.run("digest", "preview", "ana@example.com", "--at", "tomorrow"); r.Code != 2 || !strings.Contains(r.Stderr, "RFC 3339") {
		t.Errorf("bad --at: exit %d, %q", r.Code, r.Stderr)
	}
	if r := tl.run("digest", "preview"); r.Code != 2 {
		t.Errorf("preview without EMAIL: exit %d", r.Code)
	}

	before := time.Now()
	var rows []scheduleJSON
	if err := json.Unmarshal([]byte(tl.ok("digest", "schedule", "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("schedule lists %d members, want ana and cy: %+v", len(rows), rows)
	}
	for _, r := range rows {
		next, err := time.Parse(time.RFC3339, r.NextUTC)
		if err != nil || !strings.HasSuffix(r.NextUTC, "Z") {
			t.Errorf("%s: next_utc %q", r.Address, r.NextUTC)
			continue
		}
		local, err := time.Parse(time.RFC3339, r.NextLocal)
		if err != nil || !local.Equal(next) {
			t.Errorf("%s: next_local %q is not next_utc %q", r.Address, r.NextLocal, r.NextUTC)
			continue
		}
		loc := mustZone(t, r.TZ)
		if want := next.In(loc).Format(time.RFC3339); r.NextLocal != want {
			t.Errorf("%s: next_local %q, want %q in %s", r.Address, r.NextLocal, want, r.TZ)
		}
		if got := next.In(loc).Format("15:04"); got != r.Start {
			t.Errorf("%s: due at %s local, start %s", r.Address, got, r.Start)
		}
		if !next.After(before) || next.Sub(before) > 8*24*time.Hour || r.Owed || r.Skip {
			t.Errorf("%s: next %s, owed %v, skip %v (now %s)", r.Address, r.NextUTC, r.Owed, r.Skip, before)
		}
	}
	if rows[0].Address == "ana@example.com" && rows[1].Address == "cy@example.com" || rows[0].Address == "cy@example.com" && rows[1].Address == "ana@example.com" {
		if rows[0].NextUTC > rows[1].NextUTC {
			t.Errorf("not soonest first: %+v", rows)
		}
	} else {
		t.Errorf("members: %+v", rows)
	}
	out := tl.ok("digest", "schedule")
	for _, want := range []string{"ADDRESS", "ana@example.com", "Europe/Berlin", "Asia/Kolkata", "IST"} {
		if !strings.Contains(out, want) {
			t.Errorf("schedule lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "bo@example.com") {
		t.Errorf("schedule lists a member without digests:\n%s", out)
	}
}

// TestDigestTemplatesOverride: digest.templates replaces an embedded
// template; a directory that is not there is an error, not a quiet return
// to the embedded ones.
func TestDigestTemplatesOverride(t *testing.T) {
	t.Parallel()
	tl := newTool(t)
	tl.ok("team", "add", "eng", "--address", "eng@example.com")
	tl.ok("member", "add", "ana@example.com", "--team", "eng")
	mbox, err := filepath.Abs("../../mailin/testdata/source/team.mbox")
	if err != nil {
		t.Fatal(err)
	}
	tl.ok("import", "--mbox", mbox)

	tpl := filepath.Join(tl.dir, "tpl")
	if err := os.Mkdir(tpl, 0o755); err != nil {
		t.Fatal(err)
	}
	custom := "Custom digest for {{.Member}}: {{.Subject}}\n"
	if err := os.WriteFile(filepath.Join(tpl, "digest.txt.tmpl"), []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	// A relative path is taken from the working directory.
	writeCfg := func(dir string) {
		os.WriteFile(filepath.Join(tl.dir, "t.toml"), []byte("[digest]\ntemplates = \""+dir+"\"\n"), 0o600)
	}
	writeCfg("tpl")
	out := tl.ok("digest", "preview", "ana@example.com", "--config", "t.toml")
	// After the header block the preview starts with: the body.
	if _, body, _ := strings.Cut(out, "\n\n"); !strings.HasPrefix(body, "Custom digest for ana@example.com: [tidings] ") {
		t.Errorf("override not used:\n%s", out)
	}
	writeCfg("missing")
	if r := tl.run("digest", "preview", "ana@example.com", "--config", "t.toml"); r.Code != 1 || !strings.Contains(r.Stderr, "digest.templates") {
		t.Errorf("missing template directory: exit %d, %q", r.Code, r.Stderr)
	}
}
