package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tidings/tidings/mailin"
	"github.com/tidings/tidings/store"
)

func inspectCommand() *command {
	return &command{
		name:     "inspect",
		synopsis: "FILE.eml [--json]",
		summary:  "show how the pipeline reads one message: kind, text, quoted, signature, original_from, auto",
		where:    standalone,
		setup: func(fs *flag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print a JSON object")
			return func(e *env, args []string) error {
				if err := wantArgs(args, "FILE.eml"); err != nil {
					return err
				}
				return inspect(e, e.abs(args[0]), *asJSON)
			}
		},
	}
}

// inspectJSON is the stable --json form of inspect.
type inspectJSON struct {
	MessageID  string     `json:"message_id"`
	Synthetic  bool       `json:"synthetic"` // the message had no Message-ID
	From       string     `json:"from"`
	FromName   string     `json:"from_name"`
	To         []string   `json:"to"`
	Cc         []string   `json:"cc"`
	Subject    string     `json:"subject"`
	Date       *time.Time `json:"date"` // null when missing or unreadable
	InReplyTo  []string   `json:"in_reply_to"`
	References []string   `json:"references"`
	// Kind is message, forward or reaction; a reaction is an
	// acknowledgement that answers a message (it has In-Reply-To here).
	Kind         string `json:"kind"`
	Text         string `json:"text"` // the new text
	Quoted       string `json:"quoted"`
	Signature    string `json:"signature"`
	OriginalFrom string `json:"original_from"`
	// Forwards: the original's date (null when unknown) and subject, and
	// the forwarder's note.
	OriginalDate    *time.Time `json:"original_date"`
	OriginalSubject string     `json:"original_subject"`
	Note            string     `json:"note"`
	// Command is mute, unmute or follow when the new text is only that
	// word: a setting when sent to a reply address.
	Command     string             `json:"command"`
	Auto        string             `json:"auto"` // "", auto-replied, bounce
	Bulk        bool               `json:"bulk"`
	Urgent      bool               `json:"urgent"`
	FromHTML    bool               `json:"from_html"`
	Attachments []store.Attachment `json:"attachments"`
	Truncated   bool               `json:"truncated"`
	Problems    []string           `json:"problems"`
}

func inspect(e *env, path string, asJSON bool) error {
	src, err := mailin.OpenFiles([]string{path}, mailin.SourceOptions{})
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	msg, err := src.Next()
	if err == nil && msg.Err != nil {
		err = msg.Err
	}
	if err != nil {
		return fmt.Errorf("inspect %s: %w", path, err)
	}
	p, err := mailin.Parse(msg.Raw, mailin.Limits{})
	if err != nil {
		return fmt.Errorf("inspect %s: %w", path, err)
	}
	out := inspectView(p, e.cfg.Reactions)
	if asJSON {
		return e.writeJSON(out)
	}
	printInspect(e.stdout, out)
	return nil
}

func inspectView(p *mailin.Parsed, words []string) inspectJSON {
	v := inspectJSON{
		MessageID:   p.MessageID,
		Synthetic:   p.Synthetic,
		From:        p.From.Addr,
		FromName:    p.From.Name,
		To:          addrs(p.To),
		Cc:          addrs(p.Cc),
		Subject:     p.Subject,
		InReplyTo:   append([]string{}, p.InReplyTo...),
		References:  append([]string{}, p.References...),
		Auto:        p.Auto,
		Bulk:        p.Bulk,
		Urgent:      p.Urgent,
		FromHTML:    p.FromHTML,
		Attachments: append([]store.Attachment{}, p.Attachments...),
		Truncated:   p.Truncated,
		Problems:    append([]string{}, p.Problems...),
	}
	if !p.Date.IsZero() {
		d := p.Date.UTC()
		v.Date = &d
	}
	rd := mailin.Read(p, len(p.InReplyTo) > 0 || len(p.References) > 0, words)
	v.Kind, v.Text, v.Quoted, v.Signature, v.Command = rd.Kind, rd.Text, rd.Quoted, rd.Signature, rd.Command
	if fw := rd.Forward; fw != nil {
		v.OriginalFrom = fw.From.Addr
		if v.OriginalFrom == "" {
			v.OriginalFrom = fw.From.Name
		}
		v.OriginalSubject, v.Note = fw.Subject, fw.Note
		if !fw.Date.IsZero() {
			d := fw.Date.UTC()
			v.OriginalDate = &d
		}
	}
	return v
}

func addrs(as []mailin.Address) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, mailbox(a.Name, a.Addr))
	}
	return out
}

func printInspect(w io.Writer, v inspectJSON) {
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	orDash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	mid := v.MessageID
	if v.Synthetic {
		mid += " (made up: the message has none)"
	}
	date := "-"
	if v.Date != nil {
		date = v.Date.Format(time.RFC3339)
	}
	rows := [][2]string{
		{"message-id", mid},
		{"from", orDash(mailbox(v.FromName, v.From))},
		{"to", orDash(strings.Join(v.To, ", "))},
		{"cc", orDash(strings.Join(v.Cc, ", "))},
		{"subject", orDash(oneLine(v.Subject))},
		{"date", date},
		{"in-reply-to", orDash(strings.Join(v.InReplyTo, " "))},
		{"references", orDash(strings.Join(v.References, " "))},
		{"kind", v.Kind},
		{"original from", orDash(v.OriginalFrom)},
		{"command", orDash(v.Command)},
		{"auto", orDash(v.Auto)},
		{"bulk", yesNo(v.Bulk)},
		{"urgent", yesNo(v.Urgent)},
		{"text from html", yesNo(v.FromHTML)},
		{"truncated", yesNo(v.Truncated)},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-15s %s\n", r[0]+":", r[1])
	}
	for _, a := range v.Attachments {
		fmt.Fprintf(w, "%-15s %s (%s, %s)\n", "attachment:", a.Name, a.Type, byteSize(a.Size))
	}
	for _, p := range v.Problems {
		fmt.Fprintf(w, "%-15s %s\n", "problem:", p)
	}
	parts := []struct{ name, text string }{{"text", v.Text}, {"quoted", v.Quoted}, {"signature", v.Signature}}
	if v.Note != "" {
		parts = append([]struct{ name, text string }{{"note", v.Note}}, parts...)
	}
	for _, part := range parts {
		fmt.Fprintf(w, "\n--- %s\n", part.name)
		if t := strings.TrimRight(part.text, "\r\n\t "); t != "" {
			fmt.Fprintln(w, t)
		}
	}
}
