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
	"slices"
	"strings"
	texttemplate "text/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
)

// The names of the template files, embedded and in an override directory.
const (
	DigestText  = "digest.txt.tmpl"
	DigestHTML  = "digest.html.tmpl"
	ThreadText  = "thread.txt.tmpl" // one thread of the text part, its links aside
	ThreadHTML  = "thread.html.tmpl"
	MessageText = "message.txt.tmpl" // one message of the text part
	MessageHTML = "message.html.tmpl"
)

//go:embed files/*.tmpl
var embedded embed.FS

// Renderer renders mail from the templates. It is safe for concurrent use.
type Renderer struct {
	text, threadText, msgText *texttemplate.Template
	html, threadHTML, msgHTML *htmltemplate.Template
	notifyText, answerText    *texttemplate.Template
	notifyHTML                *htmltemplate.Template
	md                        goldmark.Markdown
	policy                    *bluemonday.Policy
	dir                       string // the override directory, for errors
}

// New parses the embedded templates, each replaced by the file of the same
// name in overrideDir when there is one ("" for none). It executes every
// template once on sample data, so that a broken override is refused at
// start-up rather than when the first digest is due.
//
// A directory that does not exist, or that holds a *.tmpl file of another
// name (a typo, say), is refused: either would leave the embedded
// templates in use unnoticed.
func New(overrideDir string) (*Renderer, error) {
	if err := checkDir(overrideDir); err != nil {
		return nil, err
	}
	r := &Renderer{md: newMarkdown(), policy: newPolicy(), dir: overrideDir}
	src := func(name string) (string, string, error) {
		if overrideDir != "" {
			p := filepath.Join(overrideDir, name)
			b, err := os.ReadFile(p)
			if err == nil {
				return p, string(b), nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return p, "", fmt.Errorf("templates: %w", err)
			}
		}
		b, err := embedded.ReadFile("files/" + name)
		return "embedded " + name, string(b), err
	}
	parseText := func(name string) (*texttemplate.Template, error) {
		where, body, err := src(name)
		if err != nil {
			return nil, err
		}
		t, err := texttemplate.New(name).Funcs(textFuncs).Parse(body)
		if err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", where, err)
		}
		return t, nil
	}
	parseHTML := func(name string) (*htmltemplate.Template, error) {
		where, body, err := src(name)
		if err != nil {
			return nil, err
		}
		t, err := htmltemplate.New(name).Funcs(htmlFuncs).Parse(body)
		if err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", where, err)
		}
		return t, nil
	}
	texts := []struct {
		t    **texttemplate.Template
		name string
	}{{&r.text, DigestText}, {&r.threadText, ThreadText}, {&r.msgText, MessageText},
		{&r.notifyText, NotifyText}, {&r.answerText, AnswerText}}
	for _, x := range texts {
		t, err := parseText(x.name)
		if err != nil {
			return nil, err
		}
		*x.t = t
	}
	htmls := []struct {
		t    **htmltemplate.Template
		name string
	}{{&r.html, DigestHTML}, {&r.threadHTML, ThreadHTML}, {&r.msgHTML, MessageHTML}, {&r.notifyHTML, NotifyHTML}}
	for _, x := range htmls {
		t, err := parseHTML(x.name)
		if err != nil {
			return nil, err
		}
		*x.t = t
	}
	// Rendering the sample runs every template, each error naming its file.
	if _, _, err := r.Digest(sample()); err != nil {
		return nil, err
	}
	if err := r.checkNotify(); err != nil {
		return nil, err
	}
	return r, nil
}

var names = []string{DigestText, DigestHTML, ThreadText, ThreadHTML, MessageText, MessageHTML,
	NotifyText, NotifyHTML, AnswerText}

func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("templates: override directory: %w", err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmpl") && !slices.Contains(names, e.Name()) {
			return fmt.Errorf("templates: %s: no template has that name (they are %s)",
				filepath.Join(dir, e.Name()), strings.Join(names, ", "))
		}
	}
	return nil
}

// where names a template's source in errors.
func where(t interface{ Name() string }, dir string) string {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, t.Name())); err == nil {
			return filepath.Join(dir, t.Name())
		}
	}
	return "embedded " + t.Name()
}

// Digest renders a digest as its text and HTML parts. Threads and
// messages without Blocks are rendered for it, messages without HTML from
// their Text as Markdown; d is left as it was.
func (r *Renderer) Digest(d *Digest) (text, html []byte, err error) {
	if d, err = r.withBlocks(d); err != nil {
		return nil, nil, err
	}
	if text, err = r.renderText(d); err != nil {
		return nil, nil, fmt.Errorf("templates: %s: %w", r.where(r.text), err)
	}
	if html, err = r.renderHTML(d); err != nil {
		return nil, nil, fmt.Errorf("templates: %s: %w", r.where(r.html), err)
	}
	return text, html, nil
}

// Thread renders what a thread shows, its links aside, for the digest
// templates; its messages without Blocks are rendered for it.
func (r *Renderer) Thread(t Thread) (*Blocks, error) {
	if slices.ContainsFunc(t.Messages, func(m Message) bool { return m.Blocks == nil }) {
		ms := slices.Clone(t.Messages)
		for i := range ms {
			if ms[i].Blocks != nil {
				continue
			}
			b, err := r.Message(ms[i])
			if err != nil {
				return nil, err
			}
			ms[i].Blocks = b
		}
		t.Messages = ms
	}
	text, err := execText(r.threadText, &t)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", r.where(r.threadText), err)
	}
	html, err := execHTML(r.threadHTML, &t)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", r.where(r.threadHTML), err)
	}
	return &Blocks{Text: text, HTML: htmltemplate.HTML(html)}, nil // html/template escaped it
}

// Message renders one message for the thread templates. Its HTML is made
// from its Text when empty.
func (r *Renderer) Message(m Message) (*Blocks, error) {
	if m.HTML == "" && m.Text != "" {
		m.HTML = r.Markdown(m.Text)
	}
	text, err := execText(r.msgText, &m)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", r.where(r.msgText), err)
	}
	html, err := execHTML(r.msgHTML, &m)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", r.where(r.msgHTML), err)
	}
	return &Blocks{Text: text, HTML: htmltemplate.HTML(html)}, nil // html/template escaped it
}

func (r *Renderer) where(t interface{ Name() string }) string { return where(t, r.dir) }

func execText(t *texttemplate.Template, data any) (string, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", err
	}
	return strings.TrimRight(buf.String(), "\n"), nil
}

func execHTML(t *htmltemplate.Template, data any) (string, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", err
	}
	return strings.TrimRight(buf.String(), "\n"), nil
}

// withBlocks returns d with every thread's Blocks rendered, copying what it
// changes: the caller's view stays as it was given.
func (r *Renderer) withBlocks(d *Digest) (*Digest, error) {
	var view *Digest
	for i, s := range d.Sections {
		for j, th := range s.Threads {
			if th.Blocks != nil {
				continue
			}
			th.Compact = th.Compact || s.Compact
			b, err := r.Thread(th)
			if err != nil {
				return nil, err
			}
			if view == nil {
				v := *d
				v.Sections = slices.Clone(d.Sections)
				for k := range v.Sections {
					v.Sections[k].Threads = slices.Clone(v.Sections[k].Threads)
				}
				view = &v
			}
			view.Sections[i].Threads[j].Blocks = b
		}
	}
	if view == nil {
		return d, nil
	}
	return view, nil
}

func (r *Renderer) renderText(d *Digest) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(blocksSize(d, func(b *Blocks) int { return len(b.Text) }) + 8<<10)
	if err := r.text.Execute(&buf, &textData{Digest: d}); err != nil {
		return nil, err
	}
	return tidyText(buf.Bytes()), nil
}

func (r *Renderer) renderHTML(d *Digest) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(blocksSize(d, func(b *Blocks) int { return len(b.HTML) }) + 16<<10)
	if err := r.html.Execute(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// blocksSize adds up the size of the threads' blocks: most of a digest,
// so that its buffer is allocated once.
func blocksSize(d *Digest, size func(*Blocks) int) int {
	n := 0
	for _, s := range d.Sections {
		for _, t := range s.Threads {
			if t.Blocks != nil {
				n += size(t.Blocks) + 1<<10 // and the thread's links
			}
		}
	}
	return n
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
					Forwarded: "Cy", Text: "*hi*", Truncated: true, URL: "https://example.com/t/1",
					Attachments: []Attachment{{Name: "a.pdf", Size: "1 KB"}}}},
				Reactions:   []Reaction{{Emoji: "👍", Count: 1, Names: "Cy"}},
				ReplyMailto: "mailto:eng+x@example.com", ReplyAddress: "eng+x@example.com",
				URL: "https://example.com/t/1", MuteURL: "https://example.com/m",
			}}},
			{Key: "other", Title: "Other activity", Compact: true, Threads: []Thread{{Subject: "o", Team: "eng", New: 1}}},
		},
	}
}
