package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/store"
)

func threadShowCommand() *command {
	return &command{
		name:     "thread show",
		synopsis: "ID [--json]",
		summary:  "show a thread's messages in thread order; --json: [{message_id, from, date, kind, text, original_from, ...}]",
		where:    inStore,
		setup: func(fs *flag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print a JSON array of the messages")
			return func(e *env, args []string) error {
				if err := wantArgs(args, "ID"); err != nil {
					return err
				}
				id, err := strconv.ParseUint(args[0], 10, 64)
				if err != nil || id == 0 {
					return usagef("thread ID %q is not a number (see 'tidings threads')", args[0])
				}
				return threadShow(e, id, *asJSON)
			}
		},
	}
}

// messageJSON is the stable --json form of a message in a thread.
type messageJSON struct {
	MessageID    string    `json:"message_id"`
	From         string    `json:"from"`
	FromName     string    `json:"from_name"`
	Date         time.Time `json:"date"`
	Subject      string    `json:"subject"`
	Kind         string    `json:"kind"` // message | forward | reaction
	Text         string    `json:"text"`
	OriginalFrom string    `json:"original_from"` // forwards: the original author
	// Forwards: the original's date (null when unknown) and subject, and
	// the forwarder's own note.
	OriginalDate    *time.Time         `json:"original_date"`
	OriginalSubject string             `json:"original_subject"`
	Note            string             `json:"note"`
	InReplyTo       string             `json:"in_reply_to"` // the parent in the thread
	Via             string             `json:"via"`         // "", reply-address, digest-reply
	Urgent          bool               `json:"urgent"`
	Attachments     []store.Attachment `json:"attachments"`
}

func threadShow(e *env, id uint64, asJSON bool) error {
	var th store.Thread
	var msgs []store.Message
	err := e.st.View(func(tx *store.Tx) error {
		var err error
		if th, err = tx.Thread(id); err != nil {
			return err
		}
		msgs, err = tx.ThreadMessages(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("thread show: no thread %d (see 'tidings threads')", id)
	}
	if err != nil {
		return fmt.Errorf("thread show %d: %w", id, err)
	}
	if asJSON {
		out := make([]messageJSON, 0, len(msgs))
		for _, m := range msgs {
			j := messageJSON{
				MessageID: m.MessageID, From: m.From, FromName: m.FromName, Date: m.Date.UTC(),
				Subject: m.Subject, Kind: m.Kind, Text: m.Text, OriginalFrom: m.OriginalFrom,
				OriginalSubject: m.OriginalSubject, Note: m.Note, InReplyTo: m.Parent, Via: m.Via,
				Urgent: m.Urgent, Attachments: append([]store.Attachment{}, m.Attachments...),
			}
			if !m.OriginalDate.IsZero() {
				d := m.OriginalDate.UTC()
				j.OriginalDate = &d
			}
			out = append(out, j)
		}
		return e.writeJSON(out)
	}
	fmt.Fprintf(e.stdout, "thread %d · %s · %s · %s\n", th.ID, th.Team, oneLine(th.Subject), plural(len(msgs), "message"))
	for _, m := range msgs {
		fmt.Fprintf(e.stdout, "\n── %s · %s", mailbox(m.FromName, m.From), m.Date.UTC().Format("Mon 2 Jan 2006 15:04 UTC"))
		if m.Kind != "" && m.Kind != store.KindMessage {
			fmt.Fprintf(e.stdout, " · %s", m.Kind)
		}
		fmt.Fprintln(e.stdout)
		if m.OriginalFrom != "" {
			fmt.Fprintf(e.stdout, "(originally from %s", m.OriginalFrom)
			if !m.OriginalDate.IsZero() {
				fmt.Fprintf(e.stdout, ", %s", m.OriginalDate.UTC().Format("Mon 2 Jan 2006 15:04 UTC"))
			}
			fmt.Fprintln(e.stdout, ")")
		}
		if note := strings.TrimSpace(m.Note); note != "" {
			fmt.Fprintf(e.stdout, "%s\n--- forwarded:\n", note)
		}
		if text := strings.TrimRight(m.Text, "\r\n\t "); text != "" {
			fmt.Fprintln(e.stdout, text)
		}
		for _, a := range m.Attachments {
			fmt.Fprintf(e.stdout, "[attachment: %s, %s, %s]\n", a.Name, a.Type, byteSize(a.Size))
		}
	}
	return nil
}

// mailbox formats "Name <addr>", or the bare address.
func mailbox(name, addr string) string {
	if name == "" {
		return addr
	}
	return name + " <" + addr + ">"
}

// oneLine keeps a header value on one terminal line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
