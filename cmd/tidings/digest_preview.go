package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/tidings/tidings/digest"
	"github.com/tidings/tidings/store"
)

func digestPreviewCommand() *command {
	return &command{
		name:     "digest preview",
		synopsis: "EMAIL [--at RFC3339] [--html]",
		summary:  "show the digest a member would get now (or at --at) from what came since their last one; nothing is sent; the text form starts with From, To, Reply-To and Subject",
		where:    inStore,
		setup: func(fs *flag.FlagSet) runFunc {
			at := fs.String("at", "", "as if the digest fell due at `TIME` (RFC 3339, e.g. 2026-11-30T09:00:00+01:00; default now)")
			asHTML := fs.Bool("html", false, "print the HTML part instead of the text part")
			return func(e *env, args []string) error {
				if err := wantArgs(args, "EMAIL"); err != nil {
					return err
				}
				when := e.now()
				if *at != "" {
					t, err := time.Parse(time.RFC3339, *at)
					if err != nil {
						return usagef("--at %q: want RFC 3339, e.g. 2026-11-30T09:00:00+01:00", *at)
					}
					when = t.UTC()
				}
				return digestPreview(e, args[0], when, *asHTML)
			}
		},
	}
}

func digestPreview(e *env, email string, at time.Time, asHTML bool) error {
	addr, _, err := parseMailbox(email)
	if err != nil {
		return usageError{err.Error()}
	}
	err = e.st.View(func(tx *store.Tx) error {
		_, err := tx.Member(addr)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("digest preview: no member %s (see 'tidings member list')", addr)
	}
	if err != nil {
		return fmt.Errorf("digest preview: %w", err)
	}
	r, err := newRunner(e.ctx, e.st, e.cfg, e.log, nil)
	if err != nil {
		return fmt.Errorf("digest preview: %w", err)
	}
	d, text, html, ok, err := r.Preview(addr, at)
	if err != nil {
		return fmt.Errorf("digest preview: %w", err)
	}
	if !ok {
		why := "no news for them since their last digest"
		if !digest.GetsDigest(d.Member) {
			why = "they have no team in mode digest"
		}
		fmt.Fprintf(e.stdout, "nothing to send to %s at %s: %s\n", addr, at.Format(time.RFC3339), why)
		return nil
	}
	if asHTML {
		_, err = e.stdout.Write(html)
		return err
	}
	// The text form starts with the header fields a reader acts on: where
	// a reply to the whole digest goes, and what the subject says.
	fmt.Fprintf(e.stdout, "From: %s\nTo: %s\n", mailbox(d.Team.Name, d.Team.Address), mailbox(d.Member.Name, d.Member.Address))
	if d.ReplyTo != "" {
		fmt.Fprintf(e.stdout, "Reply-To: %s\n", d.ReplyTo)
	}
	fmt.Fprintf(e.stdout, "Subject: %s\n\n", oneLine(d.Subject))
	_, err = e.stdout.Write(text)
	return err
}
