package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// States of an outgoing mail.
const (
	OutQueued = "queued" // waiting for its next attempt
	OutSent   = "sent"   // delivered: the relay answered 250, or the file is in the Maildir
	OutFailed = "failed" // given up: a permanent refusal, or its lifetime ran out
)

// OutMail is one mail in the outbox. Its bytes, Message-ID included, are
// fixed when it is queued, so that every attempt sends the same mail.
type OutMail struct {
	ID          uint64    `json:"id"`
	MessageID   string    `json:"message_id"`
	Kind        string    `json:"kind"`             // "digest", "notice", …
	Member      string    `json:"member,omitempty"` // the member it is for, if any
	From        string    `json:"from"`             // envelope sender
	To          []string  `json:"to"`               // envelope recipients
	Queued      time.Time `json:"queued"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastAnswer  string    `json:"last_answer,omitempty"`
	Done        time.Time `json:"done,omitempty"` // when it was sent or given up
	Size        int       `json:"size"`
	// Moving is set while a delivery is between two durable steps (for the
	// Maildir: the file complete in tmp/, not yet renamed into new/), so
	// that a restart finishes it instead of delivering it again.
	Moving bool `json:"moving,omitempty"`
	// Recipients is each envelope recipient's own result, kept by relay
	// delivery (a relay may take a mail for some recipients and refuse it
	// for others). Empty means every recipient shares the mail's state.
	Recipients []RcptResult `json:"recipients,omitempty"`
	// Retried is when RetryOutMail last requeued the mail, and
	// RetriedAfter how many attempts it had then: the lifetime and the
	// backoff start again from there.
	Retried      time.Time `json:"retried,omitzero"`
	RetriedAfter int       `json:"retried_after,omitempty"`
}

// RcptResult is what became of a mail for one envelope recipient.
type RcptResult struct {
	Addr   string `json:"addr"`
	State  string `json:"state"`            // OutQueued, OutSent or OutFailed
	Answer string `json:"answer,omitempty"` // the relay's answer, for a refusal
}

// Pending returns the recipients that still wait for delivery: those
// queued in Recipients, or all of To when Recipients is empty.
func (m OutMail) Pending() []string {
	if len(m.Recipients) == 0 {
		return append([]string(nil), m.To...)
	}
	var out []string
	for _, r := range m.Recipients {
		if r.State == OutQueued {
			out = append(out, r.Addr)
		}
	}
	return out
}

// Outbox records are stored like messages: one value holding the JSON
// record and the raw bytes. The due index orders queued mail by its next
// attempt: key = next attempt (Unix nanoseconds, big-endian) + ID.

func dueKey(at time.Time, id uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
	binary.BigEndian.PutUint64(k[8:], id)
	return k
}

// Enqueue adds a mail to the outbox, queued for an attempt at
// m.NextAttempt (at once when zero). It assigns m.ID.
func (t *Tx) Enqueue(m *OutMail, raw []byte) error {
	id, err := t.b(bOutbox).NextSequence()
	if err != nil {
		return err
	}
	m.ID, m.State, m.Size = id, OutQueued, len(raw)
	if m.NextAttempt.IsZero() {
		m.NextAttempt = m.Queued
	}
	rec, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("store: encode outbox %d: %w", id, err)
	}
	v := make([]byte, 4, 4+len(rec)+len(raw))
	binary.BigEndian.PutUint32(v, uint32(len(rec)))
	v = append(append(v, rec...), raw...)
	if err := t.b(bOutbox).Put(u64(id), v); err != nil {
		return err
	}
	return t.b(bOutboxDue).Put(dueKey(m.NextAttempt, id), nil)
}

// OutMail returns the outbox record id.
func (t *Tx) OutMail(id uint64) (OutMail, error) {
	var m OutMail
	v := t.b(bOutbox).Get(u64(id))
	if v == nil {
		return m, fmt.Errorf("outbox mail %d: %w", id, ErrNotFound)
	}
	rec, _, err := splitMessage(v)
	if err == nil {
		err = json.Unmarshal(rec, &m)
	}
	if err != nil {
		return m, fmt.Errorf("store: decode outbox %d: %w", id, err)
	}
	return m, nil
}

// OutRaw returns the bytes of outbox mail id.
func (t *Tx) OutRaw(id uint64) ([]byte, error) {
	v := t.b(bOutbox).Get(u64(id))
	if v == nil {
		return nil, fmt.Errorf("outbox mail %d: %w", id, ErrNotFound)
	}
	_, raw, err := splitMessage(v)
	if err != nil {
		return nil, fmt.Errorf("store: outbox %d: %w", id, err)
	}
	return bytes.Clone(raw), nil
}

// UpdateOutMail rewrites an outbox record after an attempt (its bytes stay)
// and keeps the due index in step: only queued mail is in it.
func (t *Tx) UpdateOutMail(m OutMail) error {
	old, err := t.OutMail(m.ID)
	if err != nil {
		return err
	}
	if old.State == OutQueued {
		if err := t.b(bOutboxDue).Delete(dueKey(old.NextAttempt, old.ID)); err != nil {
			return err
		}
	}
	v := t.b(bOutbox).Get(u64(m.ID))
	_, raw, err := splitMessage(v)
	if err != nil {
		return fmt.Errorf("store: outbox %d: %w", m.ID, err)
	}
	rec, err := json.Marshal(m)
	if err != nil {
		return err
	}
	nv := make([]byte, 4, 4+len(rec)+len(raw))
	binary.BigEndian.PutUint32(nv, uint32(len(rec)))
	nv = append(append(nv, rec...), raw...)
	if err := t.b(bOutbox).Put(u64(m.ID), nv); err != nil {
		return err
	}
	if m.State == OutQueued {
		return t.b(bOutboxDue).Put(dueKey(m.NextAttempt, m.ID), nil)
	}
	return nil
}

// DueOutMail returns up to limit queued mails whose next attempt is at or
// before now, earliest first.
func (t *Tx) DueOutMail(now time.Time, limit int) ([]OutMail, error) {
	var out []OutMail
	c := t.b(bOutboxDue).Cursor()
	end := uint64(now.UnixNano())
	for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
		if binary.BigEndian.Uint64(k) > end {
			break
		}
		m, err := t.OutMail(binary.BigEndian.Uint64(k[8:]))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// NextOutDue returns when the earliest queued mail is due.
func (t *Tx) NextOutDue() (time.Time, bool) {
	k, _ := t.b(bOutboxDue).Cursor().First()
	if k == nil {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC(), true
}

// OutMails calls fn for every outbox record, oldest first, until fn
// returns false.
func (t *Tx) OutMails(fn func(OutMail) bool) error {
	c := t.b(bOutbox).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		m, err := t.OutMail(binary.BigEndian.Uint64(k))
		if err != nil {
			return err
		}
		if !fn(m) {
			return nil
		}
	}
	return nil
}

// RetryOutMail makes outbox mail id due at now and returns its record as
// written. A failed mail is queued again, for its failed recipients only
// (those already delivered to stay delivered), with a fresh lifetime and
// backoff counted from now; a queued one is only brought forward. A sent
// mail is left alone, with an error.
func (t *Tx) RetryOutMail(id uint64, now time.Time) (OutMail, error) {
	m, err := t.OutMail(id)
	if err != nil {
		return m, err
	}
	now = now.UTC()
	switch m.State {
	case OutSent:
		return m, fmt.Errorf("outbox mail %d was sent at %s: nothing to retry", id, m.Done.Format(time.RFC3339))
	case OutFailed:
		for i := range m.Recipients {
			if m.Recipients[i].State == OutFailed {
				m.Recipients[i].State = OutQueued
			}
		}
		// Moving stays: a mail given up while moving may be in new/
		// already, and the Deliverer finishes it from what tmp/ holds
		// rather than writing it again.
		m.State, m.Done = OutQueued, time.Time{}
		m.Retried, m.RetriedAfter = now, m.Attempts
	}
	m.NextAttempt = now
	if err := t.UpdateOutMail(m); err != nil {
		return m, err
	}
	return m, nil
}
