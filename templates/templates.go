package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	texttemplate "text/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
)

// The names of the template files, embedded and in an override directory.
const (
	DigestText = "digest.txt.tmpl"
	DigestHTML = "digest.html.tmpl"
)

//go:embed files/*.tmpl
var embedded embed.FS

// Renderer renders mail from the templates. It is safe for concurrent use.
type Renderer struct {
	text   *texttemplate.Template
	html   *htmltemplate.Template
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// New parses the embedded templates, each replaced by the file of the same
// name in overrideDir when there is one ("" for none). It executes every
// template once on sample data, so that a broken override is refused at
// start-up rather than when the first digest is due.
func New(overrideDir string) (*Renderer, error) {
	r := &Renderer{md: newMarkdown(), policy: newPolicy()}
	src := func(name string) (string, []byte, error) {
		if overrideDir != "" {
			p := filepath.Join(overrideDir, name)
			b, err := os.ReadFile(p)
			if err == nil {
				return p, b, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return p, nil, fmt.Errorf("templates: %w", err)
			}
		}
		b, err := embedded.ReadFile("files/" + name)
		return "embedded " + name, b, err
	}

	where, b, err := src(DigestText)
	if err != nil {
		return nil, err
	}
	r.text, err = texttemplate.New(DigestText).Funcs(textFuncs).Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("templates: parse %s: %w", where, err)
	}
	if _, err := r.renderText(sample()); err != nil {
		return nil, fmt.Errorf("templates: %s: %w", where, err)
	}

	where, b, err = src(DigestHTML)
	if err != nil {
		return nil, err
	}
	r.html, err = htmltemplate.New(DigestHTML).Funcs(htmlFuncs).Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("templates: parse %s: %w", where, err)
	}
	if _, err := r.renderHTML(sample()); err != nil {
		return nil, fmt.Errorf("templates: %s: %w", where, err)
	}
	return r, nil
}

// Digest renders a digest as its text and HTML parts. Messages whose HTML
// is empty get it from their Text, as Markdown.
func (r *Renderer) Digest(d *Digest) (text, html []byte, err error) {
	if text, err = r.renderText(d); err != nil {
		return nil, nil, fmt.Errorf("templates: render text: %w", err)
	}
	if html, err = r.renderHTML(d); err != nil {
		return nil, nil, fmt.Errorf("templates: render html: %w", err)
	}
	return text, html, nil
}

func (r *Renderer) renderText(d *Digest) ([]byte, error) {
	var buf bytes.Buffer
	if err := r.text.Execute(&buf, &textData{Digest: d}); err != nil {
		return nil, err
	}
	return tidyText(buf.Bytes()), nil
}

func (r *Renderer) renderHTML(d *Digest) ([]byte, error) {
	// Fill in the HTML of messages that come without it, on a copy: the
	// caller's view stays as it was given.
	view := *d
	view.Sections = make([]Section, len(d.Sections))
	for i, s := range d.Sections {
		view.Sections[i] = s
		view.Sections[i].Threads = make([]Thread, len(s.Threads))
		for j, th := range s.Threads {
			view.Sections[i].Threads[j] = th
			if !needsHTML(th.Messages) {
				continue
			}
			ms := make([]Message, len(th.Messages))
			for k, m := range th.Messages {
				if m.HTML == "" && m.Text != "" {
					m.HTML = r.Markdown(m.Text)
				}
				ms[k] = m
			}
			view.Sections[i].Threads[j].Messages = ms
		}
	}
	var buf bytes.Buffer
	if err := r.html.Execute(&buf, &view); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func needsHTML(ms []Message) bool {
	for _, m := range ms {
		if m.HTML == "" && m.Text != "" {
			return true
		}
	}
	return false
}

var htmlFuncs = htmltemplate.FuncMap{
	"plural": plural,
	"news":   news,
}

// news gives "3 new", or "" for none.
func news(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d new", n)
}

// plural gives "1 message" or "3 messages".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// sample is the data New checks templates with: every field set, so that a
// template that names a field wrongly or fails on one fails there.
func sample() *Digest {
	return &Digest{
		Subject: "[tidings] 1 waiting on you · 2 updates · Mon 30 Nov", Preheader: "p",
		Member: "Ana", Date: "Monday 30 November 2026", Summary: "s", More: 1,
		Schedule: "09:00 UTC, mon-fri", UnsubscribeURL: "https://example.com/u",
		Sections: []Section{
			{Key: "waiting", Title: "Waiting on you", More: 1, Threads: []Thread{{
				Subject: "s", Team: "eng", Participants: "Bo", New: 2, Urgent: true,
				Age: "2 business days", Overdue: true, More: 1,
				Messages: []Message{{From: "Bo", Address: "bo@example.com", When: "Mon 10:00",
					Forwarded: "Cy", Text: "*hi*", Truncated: true,
					Attachments: []Attachment{{Name: "a.pdf", Size: "1 KB"}}}},
				Reactions:   []Reaction{{Emoji: "👍", Count: 1, Names: "Cy"}},
				ReplyMailto: "mailto:eng+x@example.com", ReplyAddress: "eng+x@example.com",
				URL: "https://example.com/t/1", MuteURL: "https://example.com/m",
			}}},
			{Key: "other", Title: "Other activity", Compact: true, Threads: []Thread{{Subject: "o", Team: "eng", New: 1}}},
		},
	}
}
