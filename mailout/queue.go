package mailout

import (
	"fmt"
	"time"

	"github.com/tidings/tidings/store"
)

// NullSender is the envelopeFrom for the null reverse-path, <>: what an
// automatic answer to a sender should use (RFC 3834 § 3.3), so that nothing
// answers it back.
const NullSender = "<>"

// Queue composes m and adds it to the outbox in tx, due at once, for
// delivery to m.To. It is meant to run inside the transaction that decides
// the mail is sent (a digest's claim, say): the mail is queued if and only
// if that transaction commits. Compose is deterministic, so a transaction
// that the store runs again composes the same bytes.
//
// kind ("digest", "notice", …) and member are recorded with the mail.
// envelopeFrom is the SMTP reverse-path: "" means m.From, NullSender the
// null path. m.Date defaults to now. Queue returns the outbox ID. Call the
// Deliverer's Notify after the transaction commits.
func Queue(tx *store.Tx, m Mail, kind, member, envelopeFrom string, now time.Time) (uint64, error) {
	if now.IsZero() {
		// It would sort before every due time and never fall due.
		return 0, fmt.Errorf("mailout: queue %s: %w: no time", kind, ErrInvalid)
	}
	if m.Date.IsZero() {
		m.Date = now
	}
	raw, err := Compose(m)
	if err != nil {
		return 0, fmt.Errorf("mailout: queue %s for %s: %w", kind, m.To.Address, err)
	}
	to, err := addrSpec(m.To.Address)
	if err != nil {
		return 0, fmt.Errorf("mailout: queue %s: %w: to: %w", kind, ErrInvalid, err)
	}
	var from string
	switch envelopeFrom {
	case NullSender:
	case "":
		from, err = addrSpec(m.From.Address)
	default:
		from, err = addrSpec(envelopeFrom)
	}
	if err != nil {
		return 0, fmt.Errorf("mailout: queue %s for %s: %w: envelope from: %w", kind, to, ErrInvalid, err)
	}
	now = now.UTC()
	om := &store.OutMail{
		MessageID:   m.MessageID,
		Kind:        kind,
		Member:      member,
		From:        from,
		To:          []string{to},
		Queued:      now,
		NextAttempt: now,
	}
	if err := tx.Enqueue(om, raw); err != nil {
		return 0, fmt.Errorf("mailout: queue %s for %s: %w", kind, to, err)
	}
	return om.ID, nil
}
