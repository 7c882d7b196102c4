package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"

	"golang.org/x/net/idna"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/digest"
	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/mailout"
	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

// The digest wiring that serve and the digest commands share: the runner
// that builds digests and the adapter that turns one into outbox mail.

// digestDefaults are the [digest] defaults for members whose record leaves
// a schedule field empty.
func digestDefaults(cfg *config.Config) digest.Defaults {
	return digest.Defaults{TZ: cfg.Digest.DefaultTZ, Start: cfg.Digest.DefaultStart, Days: cfg.Digest.DefaultDays}
}

// newRenderer loads the templates, with digest.templates overriding the
// embedded ones (a directory that is not there is refused, so is a broken
// template).
func newRenderer(cfg *config.Config) (*templates.Renderer, error) {
	r, err := templates.New(cfg.Digest.Templates)
	if err != nil {
		return nil, fmt.Errorf("digest.templates: %w", err)
	}
	return r, nil
}

// instanceLinks makes the instance secret if there is none yet, and
// returns the digest runner's Signer: the domain and base URL, without a
// secret, so that the runner reads the current secrets in each digest's
// transaction and a 'secret rotate' counts from the next digest without a
// restart. The secret is made here, in a write transaction, so that every
// process that shows reply addresses shows the same ones, and a preview
// (a read-only transaction) finds it.
func instanceLinks(ctx context.Context, st *store.Store, cfg *config.Config) (links.Signer, error) {
	err := st.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Secret()
		return err
	})
	if err != nil {
		return links.Signer{}, fmt.Errorf("read the instance secret: %w", err)
	}
	return links.Signer{Domain: cfg.Domain, BaseURL: cfg.HTTP.BaseURL}, nil
}

// newRunner builds the digest runner over st. queued is called after a
// digest has been queued (nil: no one to wake).
func newRunner(ctx context.Context, st *store.Store, cfg *config.Config, log *slog.Logger, queued func()) (*digest.Runner, error) {
	r, err := newRenderer(cfg)
	if err != nil {
		return nil, err
	}
	signer, err := instanceLinks(ctx, st, cfg)
	if err != nil {
		return nil, err
	}
	return &digest.Runner{
		Store:    st,
		Renderer: r,
		Links:    signer,
		Defaults: digestDefaults(cfg),
		Queue:    queueDigest(cfg.Domain),
		Queued:   queued,
		Logger:   log,
	}, nil
}

// queueDigest returns the Runner's QueueFunc: it puts a digest in the
// outbox as mail from its team to the member. It runs inside the claim's
// transaction and depends only on what it is given, so a transaction run
// again queues the same bytes under the same Message-ID.
func queueDigest(domain string) digest.QueueFunc {
	return func(tx *store.Tx, o digest.Outgoing) (uint64, error) {
		m := digestMail(o, domain)
		// Bounces go to the team's address for now, where the pipeline
		// recognises them and keeps them out of threads; handling them
		// per member comes with the relay.
		return mailout.Queue(tx, m, "digest", o.Digest.Member.Address, "", o.Digest.Due)
	}
}

// digestMail is the outgoing mail of a rendered digest.
func digestMail(o digest.Outgoing, domain string) mailout.Mail {
	d := o.Digest
	m := mailout.Mail{
		From:      mail.Address{Name: d.Team.Name, Address: d.Team.Address},
		To:        mail.Address{Name: d.Member.Name, Address: d.Member.Address},
		Subject:   d.Subject,
		Date:      d.Date,
		MessageID: mailout.MessageID("digest", o.Key, domain),
		ListID:    listID(d.Team.Name, domain),
		ListName:  d.Team.Name,
		// The one-click URL (RFC 8058) needs the web side; the mailto
		// works without it. Both are answered in a later version: the
		// headers are there so that mail clients offer the button now.
		UnsubscribeURL: d.UnsubscribeURL,
		Text:           o.Text,
		HTML:           o.HTML,
	}
	if d.ReplyTo != "" {
		m.ReplyTo = &mail.Address{Address: d.ReplyTo}
		m.UnsubscribeMailto = "mailto:" + d.ReplyTo + "?subject=unsubscribe"
	}
	return m
}

// listID is a team's RFC 2919 list identifier, "<team>.<domain>" (e.g.
// eng.example.com), kept to the characters a dot-atom allows: a team name
// may hold runs of dots, and a domain may be written in Unicode.
func listID(team, domain string) string {
	if a, err := idna.Lookup.ToASCII(domain); err == nil {
		domain = a
	}
	clean := func(s string) string {
		s = strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
				return r
			case r >= 'A' && r <= 'Z':
				return r + 'a' - 'A'
			}
			return -1
		}, s)
		for strings.Contains(s, "..") {
			s = strings.ReplaceAll(s, "..", ".")
		}
		return strings.Trim(s, ".")
	}
	label, dom := clean(team), clean(domain)
	if label == "" {
		label = "team"
	}
	if dom == "" {
		dom = "localhost"
	}
	return label + "." + dom
}
