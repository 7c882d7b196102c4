package mailout

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tidings/tidings/store"
)

func TestQueue(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	now := time.Date(2026, 11, 30, 8, 0, 0, 123, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		name, envelope, wantFrom string
	}{
		{"from header", "", "eng@example.com"},
		{"bounce address", "bounces@example.com", "bounces@example.com"},
		{"null sender", NullSender, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := testMail(1)
			m.MessageID = MessageID("test", c.name, "example.com")
			var id uint64
			err := st.Update(context.Background(), func(tx *store.Tx) error {
				var err error
				id, err = Queue(tx, m, "digest", "m1@example.com", c.envelope, now)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			got, raw := outMail(t, st, id)
			want := store.OutMail{
				ID: id, MessageID: m.MessageID, Kind: "digest", Member: "m1@example.com",
				From: c.wantFrom, To: []string{"m1@example.com"},
				Queued: now.UTC(), State: store.OutQueued, NextAttempt: now.UTC(), Size: len(raw),
			}
			if !got.Queued.Equal(want.Queued) || !got.NextAttempt.Equal(want.NextAttempt) {
				t.Errorf("queued %v, next %v, want %v", got.Queued, got.NextAttempt, now)
			}
			got.Queued, got.NextAttempt, want.Queued, want.NextAttempt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if !slices.Equal(got.To, want.To) {
				t.Errorf("To = %q, want %q", got.To, want.To)
			}
			got.To, want.To = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("record\n got %+v\nwant %+v", got, want)
			}
			// The date defaults to now, and the bytes are Compose's.
			m.Date = now
			composed, err := Compose(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, composed) {
				t.Errorf("queued bytes differ from Compose:\n%s\n---\n%s", raw, composed)
			}
		})
	}
}

// TestQueueInTransaction: a mail is queued if and only if the transaction
// that queues it commits, and a refused mail fails that transaction.
func TestQueueInTransaction(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	errLater := errors.New("the claim failed after queueing")
	err := st.Update(context.Background(), func(tx *store.Tx) error {
		if _, err := Queue(tx, testMail(1), "digest", "m1@example.com", "", now); err != nil {
			return err
		}
		return errLater
	})
	if !errors.Is(err, errLater) {
		t.Fatalf("err = %v", err)
	}
	bad := testMail(2)
	bad.To.Address = "m2@example.com\r\nBcc: victim@example.org"
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		_, err := Queue(tx, bad, "digest", "m2@example.com", "", now)
		return err
	})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("hostile address: err = %v, want ErrInvalid", err)
	}
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		_, err := Queue(tx, testMail(3), "digest", "m3@example.com", "not an address", now)
		return err
	})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("bad envelope sender: err = %v, want ErrInvalid", err)
	}
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		_, err := Queue(tx, testMail(4), "digest", "m4@example.com", "", time.Time{})
		return err
	})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("no time: err = %v, want ErrInvalid", err)
	}
	st.View(func(tx *store.Tx) error {
		n := 0
		tx.OutMails(func(store.OutMail) bool { n++; return true })
		if n != 0 {
			t.Errorf("%d mails in the outbox, want none", n)
		}
		return nil
	})
}
