package digest

import (
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/templates"
)

func TestWhen(t *testing.T) {
	t.Parallel()
	now := fixDue
	tests := []struct {
		t    time.Time
		want string
	}{
		{at(30, 7, 5), "07:05"},
		{at(29, 23, 59), "Sun 23:59"},
		{at(24, 10, 0), "Tue 10:00"},
		{at(23, 10, 0), "23 Nov 10:00"},
		{time.Date(2025, 12, 30, 10, 0, 0, 0, berlin), "30 Dec 2025 10:00"},
		// 23:30 UTC on the 29th is already the 30th in Berlin.
		{time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC), "00:30"},
	}
	for _, tc := range tests {
		if got := when(tc.t, now, berlin); got != tc.want {
			t.Errorf("when(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KB", 2150: "2 KB", 1 << 20: "1 MB",
		48_300_000: "46.1 MB", 3 << 30: "3.0 GB"} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMailto(t *testing.T) {
	t.Parallel()
	tests := []string{"Release 4.2 — who signs off?", "a & b = c + d #1", "Re: already a reply", "Über 100%"}
	for _, subject := range tests {
		m := mailto("eng+abc@example.com", replySubject(subject))
		u, err := url.Parse(m)
		if err != nil {
			t.Fatalf("mailto %q: %v", m, err)
		}
		if u.Scheme != "mailto" || u.Opaque != "eng+abc@example.com" {
			t.Errorf("%q: scheme %q address %q", m, u.Scheme, u.Opaque)
		}
		want := "Re: " + strings.TrimPrefix(subject, "Re: ")
		if got := u.Query().Get("subject"); got != want {
			t.Errorf("%q: subject %q, want %q", m, got, want)
		}
		if strings.ContainsAny(m, " +") && !strings.Contains(m, "eng+abc") {
			t.Errorf("%q has a raw space or plus in the subject", m)
		}
	}
}

func TestRenderDigest(t *testing.T) {
	t.Parallel()
	r, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	in := newFixture().input()
	d := mustBuild(t, in)
	text, html, err := Render(d, r)
	if err != nil {
		t.Fatal(err)
	}
	h, tx := string(html), string(text)
	// Every shown thread has its reply address, in both parts.
	for _, s := range d.Sections {
		for _, th := range s.Threads {
			if _, err := mail.ParseAddress(th.ReplyAddress); err != nil {
				t.Errorf("thread %d: reply address %q: %v", th.ID, th.ReplyAddress, err)
			}
			if !strings.Contains(tx, th.ReplyAddress) || !strings.Contains(h, strings.ReplaceAll(th.ReplyAddress, "+", "&#43;")) {
				t.Errorf("thread %d: reply address %s missing from a part", th.ID, th.ReplyAddress)
			}
		}
	}
	// Her own text, muted threads and other teams' mail are in neither part.
	for _, absent := range []string{"Notes to self", "Blue!", "Q4 pipeline", "out of the office", "Great, thanks Bo"} {
		if strings.Contains(tx, absent) || strings.Contains(h, absent) {
			t.Errorf("%q is in the digest", absent)
		}
	}
	// Quoted text below a reply is gone; the signature too.
	if strings.Contains(tx, "> The data volume") || strings.Contains(tx, "Release manager") {
		t.Error("quoted text or a signature is in the digest")
	}
	// The image is a link, never loaded.
	if strings.Contains(h, "<img") || !strings.Contains(h, `href="https://design.example.com/flow.png"`) {
		t.Error("the remote image is loaded, or its link is missing")
	}
	// A digest with no web address has no web links.
	in.Links.BaseURL = ""
	d = mustBuild(t, in)
	text, html, err = Render(d, r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), "https://tidings") || strings.Contains(string(html), "tidings.example.com/") {
		t.Error("web links without a base URL")
	}
	if !strings.Contains(string(text), "Reply [1]") {
		t.Errorf("no reply link in the text part:\n%s", text)
	}
}

func TestRenderNonASCIIAndHostile(t *testing.T) {
	t.Parallel()
	r, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture()
	f.thread(120, "eng", `<script>alert("x")</script> Größe`)
	f.seq = 300
	f.add(120, person2{"eve@example.com", `"><img src=x onerror=alert(1)>`}, at(30, 8, 0), "**ok** <iframe src=https://evil.example></iframe>",
		attach(`<b>bad</b>.pdf`, "application/pdf", 10))
	in := f.input()
	in.Messages = in.Messages[len(in.Messages)-1:]
	d := mustBuild(t, in)
	_, html, err := Render(d, r)
	if err != nil {
		t.Fatal(err)
	}
	h := string(html)
	for _, bad := range []string{"<script>", "<img", "<iframe", "<b>bad</b>"} {
		if strings.Contains(h, bad) {
			t.Errorf("html contains %q", bad)
		}
	}
	if !strings.Contains(h, "Größe") || !strings.Contains(h, "<strong>ok</strong>") {
		t.Error("html lost the subject's text or the message's Markdown")
	}
}
