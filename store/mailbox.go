package store

import (
	"cmp"
	"fmt"
	"slices"
)

// MailboxPos is how far the IMAP poller has come in one mailbox. It is
// written in the transaction that stores (or dedupes, or refuses) each
// fetched message, so that a crash can neither skip a message nor make the
// poller fetch one it has already decided.
type MailboxPos struct {
	// UIDValidity is the mailbox's UIDVALIDITY (RFC 9051 §2.3.1.1) when
	// LastUID was read: UIDs from another validity mean nothing.
	UIDValidity uint32 `json:"uid_validity"`
	// LastUID is the highest UID decided; the next fetch starts above it.
	LastUID uint32 `json:"last_uid"`
	// Pending are the messages decided here whose mark on the server
	// (\Seen, a move, or \Flagged for a refused one) may not have been
	// made yet: the poller makes it, then clears them.
	Pending []PendingUID `json:"pending,omitempty"`
}

// PendingUID is a message the poller still has to mark on the server.
type PendingUID struct {
	UID uint32 `json:"uid"`
	// Refused is set when the sender check refused it: it is to be
	// flagged and left where it is, not marked seen or moved.
	Refused bool `json:"refused,omitempty"`
}

// MailboxPos returns the position recorded under key (a name for the
// server, user and mailbox chosen by the poller); ok is false when there is
// none yet.
func (t *Tx) MailboxPos(key string) (pos MailboxPos, ok bool, err error) {
	ok, err = getJSON(t.b(bMailboxes), []byte(key), &pos)
	if err != nil {
		err = fmt.Errorf("mailbox position %s: %w", key, err)
	}
	return pos, ok, err
}

// PutMailboxPos records the position under key.
func (t *Tx) PutMailboxPos(key string, pos MailboxPos) error {
	if key == "" {
		return fmt.Errorf("store: put mailbox position: empty key")
	}
	// Sorted, so that the record reads the same however it was built.
	pos.Pending = slices.Clone(pos.Pending)
	slices.SortFunc(pos.Pending, func(a, b PendingUID) int { return cmp.Compare(a.UID, b.UID) })
	pos.Pending = slices.CompactFunc(pos.Pending, func(a, b PendingUID) bool { return a.UID == b.UID })
	if err := putJSON(t.b(bMailboxes), []byte(key), pos); err != nil {
		return fmt.Errorf("put mailbox position %s: %w", key, err)
	}
	return nil
}
