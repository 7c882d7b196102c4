package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNotification(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, "")
	n := sampleNotification()
	n.Thread = "Launch <plan> & notes"
	n.Why = "You get every message of eng as it arrives."
	text, html, err := r.Notification(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"URGENT\n",
		"* Launch <plan> & notes\n  eng\n",
		"  Bo (forwarded from Cy), 10:00:\n    *hi*\n",
		"📎 a.pdf (1 KB)",
		"  Reply [1] · View thread [2] · Mute [3]\n",
		"You get every message of eng as it arrives. To answer, reply to this\nmail",
		"Unsubscribe [4]\n",
		"[1] mailto:eng+x@example.com\n[2] https://example.com/t/1\n[3] https://example.com/m\n[4] https://example.com/u\n",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{
		"<title>[eng] [urgent] Re: s</title>",
		"Launch &lt;plan&gt; &amp; notes",
		"<em>hi</em>",
		">Urgent</td>",
		`href="https://example.com/m"`,
		`href="https://example.com/u"`,
		">Reply</a>",
	} {
		if !strings.Contains(string(html), want) {
			t.Errorf("HTML part lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(string(html), "<plan>") {
		t.Error("the thread subject is not escaped in the HTML part")
	}
	if n.Message.Blocks != nil || n.Message.HTML != "" {
		t.Error("Notification changed the caller's view")
	}

	// Not urgent, no web address: no marker, no web links.
	n = sampleNotification()
	n.Urgent, n.URL, n.MuteURL, n.UnsubscribeURL, n.Message.URL = false, "", "", "", ""
	text, html, err = r.Notification(n)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), "URGENT") || strings.Contains(string(html), ">Urgent<") {
		t.Errorf("a message that is not urgent is marked so:\n%s", text)
	}
	if strings.Contains(string(text), "View thread") || strings.Contains(string(text), "Mute") || strings.Contains(string(text), "Unsubscribe") {
		t.Errorf("web links without a web address:\n%s", text)
	}
	if !strings.Contains(string(text), "  Reply [1]\n") {
		t.Errorf("no Reply link:\n%s", text)
	}
}

func TestAnswer(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, "")
	tests := []struct {
		kind string
		want []string
	}{
		{AnswerMuted, []string{"You muted “Launch plan” in eng", `reply "unmute" to this mail`, "eng+x@example.com"}},
		{AnswerUnmuted, []string{"You unmuted “Launch plan” in eng", `reply "mute"`}},
		{AnswerFollowed, []string{"You follow “Launch plan” in eng", `reply "mute"`}},
		{AnswerDigestHelp, []string{"use that thread's Reply link in the digest", "keep only that thread's part", "Nothing is lost"}},
		{AnswerUnsubscribed, []string{"You unsubscribed: digests and messages of eng no longer reach you."}},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			a := sampleAnswer()
			a.Kind, a.Thread = tc.kind, "Launch plan"
			if tc.kind == AnswerDigestHelp || tc.kind == AnswerUnsubscribed {
				a.Thread, a.ReplyAddress, a.URL = "", "", ""
			}
			text, err := r.Answer(a)
			if err != nil {
				t.Fatal(err)
			}
			s := string(text)
			want := append([]string{"Hello Ana,\n", "automatic answer from eng <eng@example.com>"}, tc.want...)
			for _, w := range want {
				if !strings.Contains(s, w) {
					t.Errorf("answer lacks %q:\n%s", w, s)
				}
			}
			for _, line := range strings.Split(s, "\n") {
				if textWidth(line) > Width {
					t.Errorf("line wider than %d: %q", Width, line)
				}
			}
		})
	}
}

func TestNotifyOverrides(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		NotifyText: "N {{.Thread}} {{.Message.Blocks.Text}}",
		AnswerText: "A {{.Kind}} {{.Thread}}",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := newRenderer(t, dir)
	text, html, err := r.Notification(sampleNotification())
	if err != nil {
		t.Fatal(err)
	}
	if got := string(text); !strings.HasPrefix(got, "N s   Bo (forwarded from Cy), 10:00:") {
		t.Errorf("the notification override is not used: %q", got)
	}
	if !strings.Contains(string(html), "<em>hi</em>") {
		t.Error("the embedded HTML template is not used beside the text override")
	}
	a, err := r.Answer(sampleAnswer())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(a), "A muted s\n"; got != want {
		t.Errorf("answer override = %q, want %q", got, want)
	}
	// The digest's own templates are untouched by these.
	if text, _, err := r.Digest(sample()); err != nil || !strings.Contains(string(text), "== Waiting on you ==") {
		t.Errorf("digest beside notification overrides: %v\n%s", err, text)
	}
}

func TestNotifyOverrideRefusedEarly(t *testing.T) {
	t.Parallel()
	tests := []struct{ file, body, want string }{
		{NotifyHTML, "{{.Colour}}", "Colour"},
		{NotifyText, "{{.Message.Nope}}", "Nope"},
		// A field wrong only for one kind of answer is still found.
		{AnswerText, `{{if eq .Kind "digest-help"}}{{.Nope}}{{end}}`, "Nope"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("New = %v; want an error naming %q and the file in %s", err, tc.want, dir)
			}
		})
	}
}
