package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newRenderer(t *testing.T, dir string) *Renderer {
	t.Helper()
	r, err := New(dir)
	if err != nil {
		t.Fatalf("New(%q): %v", dir, err)
	}
	return r
}

func TestOverrideDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, DigestText), []byte("Custom for {{.Member}}: {{.Summary}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRenderer(t, dir)
	d := sample()
	text, html, err := r.Digest(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(text), "Custom for Ana: s\n"; got != want {
		t.Errorf("text from the override = %q, want %q", got, want)
	}
	// The HTML template was not overridden: the embedded one is used.
	if !strings.Contains(string(html), "<meta name=\"color-scheme\" content=\"light dark\">") {
		t.Errorf("html is not the embedded template's:\n%s", html)
	}
}

func TestOverrideRefusedEarly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, body, want string
	}{
		{"parse error", DigestHTML, "{{range .Sections}}", "parse"},
		{"unknown field", DigestText, "{{.Nope}}", "Nope"},
		{"unknown field in a thread", DigestHTML, "{{range .Sections}}{{range .Threads}}{{.Colour}}{{end}}{{end}}", "Colour"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(dir)
			if err == nil {
				t.Fatal("New accepted a broken template")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q should name %q and the file in %s", err, tc.want, dir)
			}
		})
	}
}

func TestOverrideDirRefused(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "absent")
	if _, err := New(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("New(missing dir) = %v; want an error naming it", err)
	}
	typo := t.TempDir()
	if err := os.WriteFile(filepath.Join(typo, "digest.htm.tmpl"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(typo); err == nil || !strings.Contains(err.Error(), "digest.htm.tmpl") {
		t.Errorf("New(dir with a misnamed template) = %v; want an error naming it", err)
	}
	// Other files are no business of ours.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "README"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	newRenderer(t, other)
}

func TestEmbedded(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, "")
	text, _, err := r.Digest(sample())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(text), "tidings · Monday 30 November 2026\n") {
		t.Errorf("text does not start as the embedded template does:\n%s", text)
	}
}

func TestDigestEscapesHostileText(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, "")
	d := sample()
	th := &d.Sections[0].Threads[0]
	th.Subject = `<script>alert("s")</script>`
	th.Team = `"><img src=x onerror=alert(1)>`
	th.Messages[0].From = `<b>Bo</b>`
	th.Messages[0].Attachments[0].Name = `<iframe src=x>.pdf`
	th.ReplyMailto = `javascript:alert(1)`
	d.Member = "Ana & <Co>"
	text, html, err := r.Digest(d)
	if err != nil {
		t.Fatal(err)
	}
	h := string(html)
	for _, bad := range []string{"<script>", "<img src=x", "<b>Bo</b>", "<iframe", `href="javascript:`} {
		if strings.Contains(h, bad) {
			t.Errorf("html contains %q unescaped", bad)
		}
	}
	for _, good := range []string{"&lt;script&gt;", "Ana &amp; &lt;Co&gt;", "&lt;b&gt;Bo&lt;/b&gt;"} {
		if !strings.Contains(h, good) {
			t.Errorf("html lacks %q", good)
		}
	}
	// The text part is plain text: shown as written.
	if !strings.Contains(string(text), `<script>alert("s")</script>`) {
		t.Errorf("text part lost the subject:\n%s", text)
	}
}

func TestTextRefsAreNumberedOnce(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, "")
	d := sample()
	// The same links twice: one number each.
	other := &d.Sections[1].Threads[0]
	other.ReplyMailto, other.URL = "mailto:eng+x@example.com", "https://example.com/t/1"
	text, _, err := r.Digest(d)
	if err != nil {
		t.Fatal(err)
	}
	s := string(text)
	if n := strings.Count(s, "https://example.com/t/1"); n != 1 {
		t.Errorf("thread URL listed %d times, want once:\n%s", n, s)
	}
	links := s[strings.LastIndex(s, "\nLinks:\n")+1:]
	want := "Links:\n[1] mailto:eng+x@example.com\n[2] https://example.com/t/1\n[3] https://example.com/m\n[4] https://example.com/u\n"
	if links != want {
		t.Errorf("links = %q, want %q", links, want)
	}
	if !strings.Contains(s, "  Reply [1] · View thread [2] · Mute [3]\n") || !strings.Contains(s, "- o (eng · 1 new)\n  Reply [1] · View thread [2]\n") {
		t.Errorf("link lines missing:\n%s", s)
	}
}

func TestTextPartIsWrapped(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, "")
	d := sample()
	long := strings.Repeat("Grüße aus Köln, wo es heute wieder regnet und niemand überrascht ist. ", 6)
	d.Summary = long
	d.Sections[0].Threads[0].Subject = long
	d.Sections[0].Threads[0].Participants = strings.Repeat("Zoë Ångström, ", 12) + "Jürgen"
	d.Sections[0].Threads[0].Messages[0].Text = long + "\n\n" + strings.Repeat("日本語のテキストは空白なしで書かれます。", 8)
	text, _, err := r.Digest(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(text), "\n") {
		if textWidth(line) > Width && len(strings.Fields(line)) > 1 && !strings.HasPrefix(line, "[") {
			t.Errorf("line of %d columns: %q", textWidth(line), line)
		}
	}
}

func TestBlocksGivenAreUsedAndViewIsKept(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, "")
	d := sample()
	d.Sections[1].Threads[0].Blocks = &Blocks{Text: "- PRE-RENDERED TEXT", HTML: "<p>PRE-RENDERED HTML</p>"}
	text, html, err := r.Digest(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "- PRE-RENDERED TEXT\n") || !strings.Contains(string(html), "<p>PRE-RENDERED HTML</p>") {
		t.Error("a thread's given Blocks were not used")
	}
	// The thread without Blocks was rendered, on a copy: the caller's view
	// is as it was.
	if !strings.Contains(string(html), "<em>hi</em>") {
		t.Error("the other thread's message was not rendered from Markdown")
	}
	if d.Sections[0].Threads[0].Blocks != nil || d.Sections[0].Threads[0].Messages[0].Blocks != nil || d.Sections[0].Threads[0].Messages[0].HTML != "" {
		t.Error("Digest changed the caller's view")
	}
}

func TestThreadAndMessageOverrides(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		MessageHTML: `<p class="m">{{.From}}: {{.HTML}}</p>`,
		ThreadText:  `THREAD {{.Subject}}{{range .Messages}} / {{.Blocks.Text}}{{end}}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := newRenderer(t, dir)
	text, html, err := r.Digest(sample())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `<p class="m">Bo: <p style="margin:0;"><em>hi</em></p>`) {
		t.Errorf("the message override is not used in the HTML part:\n%s", html)
	}
	// The thread override, with messages from the embedded message.txt.tmpl.
	if !strings.Contains(string(text), "THREAD s /   Bo (forwarded from Cy), Mon 10:00:\n    *hi*") {
		t.Errorf("the thread override is not used in the text part:\n%s", text)
	}
}
