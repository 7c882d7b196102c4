package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

// Outgoing is a rendered digest on its way to the outbox: what the mail
// needs beyond the digest itself.
type Outgoing struct {
	Digest *Digest
	Text   []byte
	HTML   []byte
	// Key names the slot — member and due instant — so that the mail's
	// Message-ID is the same however often the slot's transaction runs.
	Key string
}

// QueueFunc puts a digest in the outbox within tx and returns its outbox
// ID. It must have no effect outside tx: the store may run it again.
type QueueFunc func(tx *store.Tx, o Outgoing) (uint64, error)

// Runner builds and queues digests. Its Claim is the Scheduler's ClaimFunc.
type Runner struct {
	Store    *store.Store
	Renderer *templates.Renderer
	// Links gives the domain and base URL of the digests' addresses and
	// links. With a nil Secret, as serve has it, the instance secrets are
	// read from the store in each digest's transaction, so that a rotation
	// counts from the next digest; Preview then needs the secret made
	// already (store.Tx.Secret in a write transaction). A Secret given is
	// used as it is.
	Links    links.Signer
	Defaults Defaults
	Queue    QueueFunc
	// Queued is called after a transaction that queued a digest has
	// committed (to wake the outbox). May be nil.
	Queued func()
	Logger *slog.Logger
}

func (r *Runner) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger.With("component", "digest")
}

// Claim takes one due slot in one transaction: it re-checks that the slot
// is still owed, builds the member's digest from what came since their
// cursor, queues it unless it is empty, and advances the cursor and the
// slot. A crash at any point leaves either all of it or none: no slot is
// sent twice, no content skipped. A Skip slot only moves the slot on, so
// that its content rolls into the next digest.
func (r *Runner) Claim(ctx context.Context, slot Slot) error {
	var (
		queued bool
		subj   string
		cursor uint64
	)
	err := r.Store.Update(ctx, func(tx *store.Tx) error {
		queued, subj = false, ""
		m, err := tx.Member(slot.Member)
		if errors.Is(err, store.ErrNotFound) {
			return nil // removed since the slot was computed
		}
		if err != nil {
			return err
		}
		st, _, err := tx.DigestState(m.Address)
		if err != nil {
			return err
		}
		if !st.LastDue.Before(slot.Due) {
			return nil // claimed already
		}
		st.Member, st.LastDue = m.Address, slot.Due
		if slot.Skip {
			return tx.PutDigestState(st)
		}
		d, ok, err := r.build(tx, m, st, slot.Due)
		if err != nil {
			return err
		}
		if ok {
			text, html, err := Render(d, r.Renderer)
			if err != nil {
				return err
			}
			id, err := r.Queue(tx, Outgoing{Digest: d, Text: text, HTML: html,
				Key: m.Address + "|" + slot.Due.UTC().Format(time.RFC3339)})
			if err != nil {
				return fmt.Errorf("queue digest: %w", err)
			}
			st.LastOut, queued, subj = id, true, d.Subject
			if err := logDigest(tx, d, id); err != nil {
				return err
			}
		}
		// Every message stored so far was considered, shown or not.
		st.Cursor = max(st.Cursor, tx.LastSeq())
		st.Waiting, cursor = d.Waiting, st.Cursor
		return tx.PutDigestState(st)
	})
	if err != nil {
		return fmt.Errorf("digest: claim %s at %s: %w", slot.Member, slot.Due.Format(time.RFC3339), err)
	}
	if queued {
		r.log().Info("digest queued", "member", slot.Member, "due", slot.Due, "subject", subj, "cursor", cursor)
		if r.Queued != nil {
			r.Queued()
		}
	} else {
		r.log().Debug("slot claimed", "member", slot.Member, "due", slot.Due, "skip", slot.Skip)
	}
	return nil
}

// Preview builds and renders what member would get at instant at, without
// claiming anything: the `digest preview` command.
func (r *Runner) Preview(member string, at time.Time) (d *Digest, text, html []byte, ok bool, err error) {
	err = r.Store.View(func(tx *store.Tx) error {
		m, err := tx.Member(member)
		if err != nil {
			return err
		}
		st, _, err := tx.DigestState(m.Address)
		if err != nil {
			return err
		}
		d, ok, err = r.build(tx, m, st, at)
		return err
	})
	if err != nil {
		return nil, nil, nil, false, fmt.Errorf("digest: preview %s: %w", member, err)
	}
	if ok {
		text, html, err = Render(d, r.Renderer)
	}
	return d, text, html, ok, err
}

// build gathers the member's input within tx and builds their digest.
func (r *Runner) build(tx *store.Tx, m store.Member, st store.DigestState, due time.Time) (*Digest, bool, error) {
	sched, err := ScheduleOf(m, r.Defaults)
	if err != nil {
		return nil, false, err
	}
	signer := r.Links
	if signer.Secret == nil {
		// Digests make addresses with the current secret only, so the
		// instant that decides which earlier ones are still valid does
		// not matter here.
		signer, err = links.FromTx(tx, due, r.Links.Domain, r.Links.BaseURL)
		if err != nil {
			return nil, false, err
		}
	}
	in := Input{Member: m, Due: due, Loc: sched.Loc, Days: sched.Days, Links: signer,
		Threads: map[uint64]store.Thread{}, Waiting: st.Waiting}
	teams := map[string]bool{}
	for name, mode := range m.Teams {
		if mode != store.ModeDigest {
			continue
		}
		tm, err := tx.Team(name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		in.Teams = append(in.Teams, tm)
		teams[name] = true
	}
	// A member's first digest covers what came since they joined.
	var since time.Time
	if st.Cursor == 0 {
		since = m.Joined
	}
	var ferr error
	err = tx.MessagesSince(st.Cursor, func(msg store.Message) bool {
		if !teams[msg.Team] || msg.Received.Before(since) {
			return true
		}
		in.Messages = append(in.Messages, msg)
		if msg.Thread != 0 {
			if _, ok := in.Threads[msg.Thread]; !ok {
				th, err := tx.Thread(msg.Thread)
				if err != nil {
					ferr = err
					return false
				}
				in.Threads[msg.Thread] = th
			}
		}
		return true
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return nil, false, err
	}
	for _, id := range st.Waiting {
		if _, ok := in.Threads[id]; !ok {
			if th, err := tx.Thread(id); err == nil {
				in.Threads[id] = th
			}
		}
	}
	in.History = func(id uint64) []store.Message {
		ms, err := tx.ThreadMessages(id)
		if err != nil {
			return nil
		}
		return ms
	}
	d, ok := Build(in)
	return d, ok, nil
}

// logDigest records which threads the digest queued as outbox mail id
// shows, so that a reply to the digest as a whole can be matched to the
// one thread its quote keeps.
func logDigest(tx *store.Tx, d *Digest, id uint64) error {
	om, err := tx.OutMail(id)
	if err != nil {
		return fmt.Errorf("log digest: %w", err)
	}
	e := store.DigestLogEntry{Member: d.Member.Address, MessageID: om.MessageID, Due: d.Due}
	for _, sec := range d.Sections {
		for _, t := range sec.Threads {
			e.Threads = append(e.Threads, store.DigestThread{ID: t.ID, Team: t.Team, Subject: t.Subject})
		}
	}
	if err := tx.PutDigestLog(e); err != nil {
		return fmt.Errorf("log digest: %w", err)
	}
	return nil
}
