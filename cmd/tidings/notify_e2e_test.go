package main

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
)

// workZones are real zones whose offsets from UTC cover every whole hour
// from -10 to +14, so that for any instant one of them is in the middle
// of a 09:00 working day and another in the middle of the night.
var workZones = []string{
	"Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
	"America/New_York", "America/Halifax", "America/Sao_Paulo", "Atlantic/South_Georgia", "Atlantic/Cape_Verde",
	"UTC", "Europe/Berlin", "Europe/Athens", "Europe/Moscow", "Asia/Dubai", "Asia/Karachi", "Asia/Dhaka",
	"Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane", "Pacific/Noumea", "Pacific/Fiji",
	"Pacific/Tongatapu", "Pacific/Kiritimati",
}

// zoneAt returns a zone whose wall clock at instant at shows an hour in
// [from, to).
func zoneAt(t *testing.T, at time.Time, from, to int) string {
	t.Helper()
	for _, z := range workZones {
		if h := at.In(mustZone(t, z)).Hour(); h >= from && h < to {
			return z
		}
	}
	t.Fatalf("no zone at %s shows an hour in [%d, %d)", at, from, to)
	return ""
}

// notification is one mail from the outbox, its parts decoded.
type notification struct {
	path        string
	header      message.Header
	subject, to string
	text, html  string
}

// readNotification reads a mail of the outbox: multipart/alternative (a
// notification) or text alone (an answer).
func readNotification(t *testing.T, path string) notification {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n := notification{path: path, header: e.Header}
	if n.subject, err = new(mime.WordDecoder).DecodeHeader(e.Header.Get("Subject")); err != nil {
		t.Fatalf("%s: subject: %v", path, err)
	}
	to, err := mail.ParseAddress(e.Header.Get("To"))
	if err != nil {
		t.Fatalf("%s: To: %v", path, err)
	}
	n.to = to.Address
	part := func(h message.Header, body io.Reader) {
		mt, _, _ := h.ContentType()
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch mt {
		case "text/plain":
			n.text = string(b)
		case "text/html":
			n.html = string(b)
		}
	}
	mr := e.MultipartReader()
	if mr == nil {
		part(e.Header, e.Body)
		return n
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		part(p.Header, p.Body)
	}
}

// waitNotifications polls the outbox until it holds mail with every one
// of the subjects for each of its recipients, and returns all the mail
// it holds, by recipient. The deadline is there for a hang, not a measure
// of speed.
func waitNotifications(t *testing.T, in *instance, want map[string][]string) map[string][]notification {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := map[string][]notification{}
		for _, f := range outboxFiles(t, in) {
			n := readNotification(t, f)
			got[n.to] = append(got[n.to], n)
		}
		missing := ""
		for to, subjects := range want {
			for _, s := range subjects {
				found := false
				for _, n := range got[to] {
					found = found || n.subject == s
				}
				if !found {
					missing = fmt.Sprintf("%s: %q", to, s)
				}
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail to %s in the outbox within a minute; it holds %d files", missing, len(outboxFiles(t, in)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func subjectsOf(ns []notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.subject)
	}
	return out
}

// TestNotifyEndToEnd runs serve: a member in mode immediate gets each new
// message of the team as it arrives, threaded and with their reply
// address; an urgent message reaches a member in mode digest whose working
// day is under way and not one for whom it is night; a "mute" replied to
// a notification is confirmed by an automatic answer, and stops them.
func TestNotifyEndToEnd(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng")

	now := time.Now()
	// A zone where it is between 10:00 and 15:00 (inside a 09:00 start
	// plus WorkingHours, whatever the minutes), and one where it is
	// between 01:00 and 06:00.
	day, night := zoneAt(t, now, 10, 15), zoneAt(t, now, 1, 6)
	t.Logf("working in %s (%s), asleep in %s (%s)", day, now.In(mustZone(t, day)).Format("15:04"),
		night, now.In(mustZone(t, night)).Format("15:04"))
	for _, m := range [][]string{
		{"ana@example.com", "--name", "Ana Lima", "--mode", "immediate", "--tz", night},
		{"bo@example.com", "--name", "Bo", "--tz", day},
		{"cy@example.com", "--name", "Cy", "--tz", night},
		{"dee@example.com", "--name", "Dee", "--mode", "off", "--tz", day},
		{"fay@example.com", "--name", "Fay", "--mode", "immediate", "--tz", day},
	} {
		in.MustRun(append([]string{"member", "add", m[0], "--team", "eng", "--start", "09:00", "--days", "mon-sun"}, m[1:]...)...)
	}
	send := func(from, msg string) {
		t.Helper()
		if r := in.Send(from, []string{"eng@localhost"}, msg); r.Code != 250 {
			t.Fatalf("send from %s: %s", from, r)
		}
	}

	// A new thread, then a reply in it.
	send("fay@example.com", post("Fay <fay@example.com>", "Launch plan", "launch@example.com", "marker-launch We ship on Friday."))
	send("bo@example.com", post("Bo <bo@example.com>", "Re: Launch plan", "launch-re@example.com",
		"marker-reply Friday works.\r\n\r\nOn Mon, Fay wrote:\r\n> We ship on Friday.",
		"In-Reply-To: <launch@example.com>", "References: <launch@example.com>"))
	got := waitNotifications(t, in, map[string][]string{
		"ana@example.com": {"[eng] Launch plan", "[eng] Re: Launch plan"},
		"fay@example.com": {"[eng] Re: Launch plan"},
	})
	ana := got["ana@example.com"]
	if len(ana) != 2 {
		t.Fatalf("Ana got %q, want the two messages", subjectsOf(ana))
	}
	if fay := got["fay@example.com"]; len(fay) != 1 {
		t.Errorf("Fay got %q, want Bo's reply only (not her own message)", subjectsOf(fay))
	}
	for _, who := range []string{"bo@example.com", "cy@example.com", "dee@example.com"} {
		if len(got[who]) > 0 {
			t.Errorf("%s got %q; mode digest or off gets nothing that is not urgent", who, subjectsOf(got[who]))
		}
	}
	var first, second notification
	for _, n := range ana {
		if n.subject == "[eng] Launch plan" {
			first = n
		} else {
			second = n
		}
	}
	threadRef := first.header.Get("In-Reply-To")
	if !strings.HasPrefix(threadRef, "<thread.") || !strings.HasSuffix(threadRef, "@localhost>") {
		t.Errorf("In-Reply-To %q, want the thread's own ID", threadRef)
	}
	var replyTo string
	for i, n := range []notification{first, second} {
		h := n.header
		if got := h.Get("In-Reply-To"); got != threadRef {
			t.Errorf("mail %d: In-Reply-To %q, want %q as every mail of the thread", i, got, threadRef)
		}
		// The thread's ID first, then the message's own.
		if got := h.Get("References"); !strings.HasPrefix(got, threadRef+" <") {
			t.Errorf("mail %d: References %q, want %q then the message's ID", i, got, threadRef)
		}
		rt, err := mail.ParseAddress(h.Get("Reply-To"))
		if err != nil || !replyAddrRE.MatchString(rt.Address) {
			t.Fatalf("mail %d: Reply-To %q, want Ana's reply address eng+…@localhost", i, h.Get("Reply-To"))
		}
		if replyTo != "" && rt.Address != replyTo {
			t.Errorf("mail %d: Reply-To %s, want %s: one address per member and thread", i, rt.Address, replyTo)
		}
		replyTo = rt.Address
		for k, want := range map[string]string{
			"List-Id":        `"eng" <eng.localhost>`,
			"Auto-Submitted": "auto-generated",
			"X-Loop":         "tidings@localhost",
			"To":             `"Ana Lima" <ana@example.com>`,
		} {
			if got := h.Get(k); got != want {
				t.Errorf("mail %d: %s %q, want %q", i, k, got, want)
			}
		}
		if id := h.Get("Message-Id"); !strings.HasPrefix(id, "<notify.") {
			t.Errorf("mail %d: Message-ID %q", i, id)
		}
		if !strings.Contains(h.Get("List-Unsubscribe"), "<mailto:eng+") {
			t.Errorf("mail %d: List-Unsubscribe %q", i, h.Get("List-Unsubscribe"))
		}
	}
	if from, err := mail.ParseAddress(first.header.Get("From")); err != nil || from.Name != "Fay via eng" || from.Address != "eng@localhost" {
		t.Errorf("From %q, want \"Fay via eng\" <eng@localhost>", first.header.Get("From"))
	}
	if !strings.Contains(first.text, "marker-launch We ship on Friday.") || !strings.Contains(first.html, "marker-launch") {
		t.Errorf("the first notification lacks its message:\n%s", first.text)
	}
	if !strings.Contains(second.text, "marker-reply Friday works.") || strings.Contains(second.text, "> We ship") {
		t.Errorf("the reply's notification should show its new text only:\n%s", second.text)
	}

	// Urgent: Bo (mode digest, at work) gets it; Cy (mode digest, night)
	// and Dee (off) do not. Then a plain message: once its notification
	// is in, anything queued with the urgent one would be too.
	send("fay@example.com", post("Fay <fay@example.com>", "[urgent] Site down", "down@example.com", "marker-down The site is down."))
	send("fay@example.com", post("Fay <fay@example.com>", "Lunch", "lunch@example.com", "marker-lunch Pizza at one."))
	got = waitNotifications(t, in, map[string][]string{
		"ana@example.com": {"[eng] [urgent] Site down", "[eng] Lunch"},
		"bo@example.com":  {"[eng] [urgent] Site down"},
	})
	if b := got["bo@example.com"]; len(b) != 1 {
		t.Errorf("Bo got %q, want the urgent message only", subjectsOf(b))
	} else if !strings.Contains(b[0].text, "URGENT") || !strings.Contains(b[0].text, "at the top of your next digest") {
		t.Errorf("Bo's urgent notification does not say why it came:\n%s", b[0].text)
	}
	for _, who := range []string{"cy@example.com", "dee@example.com"} {
		if len(got[who]) > 0 {
			t.Errorf("%s got %q", who, subjectsOf(got[who]))
		}
	}
	// Cy sees it at the top of the next digest.
	preview := in.MustRun("digest", "preview", "cy@example.com")
	if i, j := strings.Index(preview, "== Urgent =="), strings.Index(preview, "Site down"); i < 0 || j < i {
		t.Errorf("Cy's next digest does not open with the urgent message:\n%s", preview)
	}

	// Ana mutes the launch thread by replying "mute" to its notification.
	mute := "From: Ana Lima <ana@example.com>\r\nTo: " + replyTo + "\r\nSubject: Re: [eng] Re: Launch plan\r\n" +
		"Message-ID: <ana-mute@example.com>\r\nIn-Reply-To: " + second.header.Get("Message-Id") + "\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\nmute\r\n\r\n> marker-reply Friday works.\r\n"
	if r := in.Send("ana@example.com", []string{replyTo}, mute); r.Code != 250 {
		t.Fatalf("mute: %s", r)
	}
	send("bo@example.com", post("Bo <bo@example.com>", "Re: Launch plan", "launch-re2@example.com", "marker-muted Still Friday.",
		"In-Reply-To: <launch-re@example.com>", "References: <launch@example.com> <launch-re@example.com>"))
	send("bo@example.com", post("Bo <bo@example.com>", "Coffee", "coffee@example.com", "marker-coffee Coffee at three."))
	got = waitNotifications(t, in, map[string][]string{
		"ana@example.com": {"Re: [eng] Re: Launch plan", "[eng] Coffee"},
	})
	for _, n := range got["ana@example.com"] {
		switch {
		case strings.Contains(n.text, "marker-muted"):
			t.Errorf("Ana muted the thread and was sent %q", n.subject)
		case n.subject == "Re: [eng] Re: Launch plan":
			h := n.header
			if h.Get("Auto-Submitted") != "auto-replied" || h.Get("In-Reply-To") != "<ana-mute@example.com>" ||
				!strings.Contains(n.text, "You muted “Launch plan” in eng") {
				t.Errorf("the confirmation of mute: Auto-Submitted %q, In-Reply-To %q:\n%s",
					h.Get("Auto-Submitted"), h.Get("In-Reply-To"), n.text)
			}
		}
	}
}
