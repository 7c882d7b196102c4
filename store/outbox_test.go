package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOutbox(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	var ids []uint64
	for i, at := range []time.Time{t0.Add(time.Minute), t0, t0.Add(time.Hour)} {
		err := s.Update(ctx, func(tx *Tx) error {
			m := &OutMail{MessageID: "out@x", Kind: "digest", From: "eng@x", To: []string{"ana@x"}, Queued: t0, NextAttempt: at}
			if err := tx.Enqueue(m, []byte("raw "+string(rune('a'+i)))); err != nil {
				return err
			}
			ids = append(ids, m.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := s.Update(ctx, func(tx *Tx) error {
		due, err := tx.DueOutMail(t0.Add(time.Minute), 10)
		if err != nil {
			return err
		}
		if len(due) != 2 || due[0].ID != ids[1] || due[1].ID != ids[0] {
			t.Errorf("due = %+v, want mails %d then %d", due, ids[1], ids[0])
		}
		// Deliver one, retry the other later.
		due[0].State, due[0].Attempts, due[0].Done, due[0].LastAnswer = OutSent, 1, t0, "delivered"
		if err := tx.UpdateOutMail(due[0]); err != nil {
			return err
		}
		due[1].Attempts, due[1].NextAttempt, due[1].LastAnswer = 1, t0.Add(2*time.Hour), "451 4.3.0 try later"
		if err := tx.UpdateOutMail(due[1]); err != nil {
			return err
		}
		if next, ok := tx.NextOutDue(); !ok || !next.Equal(t0.Add(time.Hour)) {
			t.Errorf("next due %v %v, want %v", next, ok, t0.Add(time.Hour))
		}
		raw, err := tx.OutRaw(ids[1])
		if err != nil || string(raw) != "raw b" {
			t.Errorf("raw %q %v: the bytes must survive an update", raw, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		due, _ := tx.DueOutMail(t0.Add(3*time.Hour), 10)
		if len(due) != 2 || due[0].ID != ids[2] || due[1].ID != ids[0] {
			t.Errorf("later due = %+v", due)
		}
		return nil
	})
}

func TestDigestState(t *testing.T) {
	s, _ := openTest(t)
	due := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	err := s.Update(context.Background(), func(tx *Tx) error {
		if _, ok, err := tx.DigestState("ana@x"); ok || err != nil {
			t.Errorf("state before the first digest: %v %v", ok, err)
		}
		return tx.PutDigestState(DigestState{Member: "Ana@X", Cursor: 7, LastDue: due, LastOut: 3})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		st, ok, err := tx.DigestState("ana@x")
		if !ok || err != nil || st.Cursor != 7 || !st.LastDue.Equal(due) || st.LastOut != 3 {
			t.Errorf("state %+v %v %v", st, ok, err)
		}
		return nil
	})
}

// A file written at schema 1 is migrated to the current schema on open,
// keeping its data.
func TestMigrateFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := migrations[0](tx); err != nil {
			return err
		}
		if err := tx.Bucket(bTeams).Put([]byte("eng"), []byte(`{"name":"eng","address":"eng@x"}`)); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Put(keySchema, u64(1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(); v != schemaVersion {
		t.Errorf("schema %d after open, want %d", v, schemaVersion)
	}
	err = s.Update(context.Background(), func(tx *Tx) error {
		if _, err := tx.Team("eng"); err != nil {
			return err
		}
		return tx.Enqueue(&OutMail{Queued: time.Now()}, []byte("x"))
	})
	if err != nil {
		t.Errorf("after migration: %v", err)
	}
}

func TestSecretIsMadeOnceAndKept(t *testing.T) {
	s, _ := openTest(t)
	var first, second []byte
	s.Update(context.Background(), func(tx *Tx) error { first, _ = tx.Secret(); return nil })
	s.View(func(tx *Tx) error { second, _ = tx.Secret(); return nil })
	if len(first) != 32 || string(first) != string(second) {
		t.Errorf("secret %x then %x", first, second)
	}
}

func TestRetryOutMail(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	later := t0.Add(6 * time.Hour)
	var failed, queued, sent uint64
	err := s.Update(ctx, func(tx *Tx) error {
		for _, id := range []*uint64{&failed, &queued, &sent} {
			m := &OutMail{MessageID: "out@x", Kind: "digest", From: "eng@x", To: []string{"ana@x", "bo@x"}, Queued: t0}
			if err := tx.Enqueue(m, []byte("raw")); err != nil {
				return err
			}
			*id = m.ID
		}
		m, _ := tx.OutMail(failed)
		m.State, m.Attempts, m.Done, m.LastAnswer = OutFailed, 3, t0.Add(time.Hour), "550 5.1.1 no such user"
		m.Moving = true // given up between the Maildir's two steps
		m.Recipients = []RcptResult{{Addr: "ana@x", State: OutSent}, {Addr: "bo@x", State: OutFailed, Answer: "550 5.1.1 no such user"}}
		if err := tx.UpdateOutMail(m); err != nil {
			return err
		}
		m, _ = tx.OutMail(queued)
		m.Attempts, m.NextAttempt = 2, t0.Add(time.Hour)
		if err := tx.UpdateOutMail(m); err != nil {
			return err
		}
		m, _ = tx.OutMail(sent)
		m.State, m.Attempts, m.Done = OutSent, 1, t0
		return tx.UpdateOutMail(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx *Tx) error {
		m, err := tx.RetryOutMail(failed, later)
		if err != nil {
			return err
		}
		if m.State != OutQueued || !m.NextAttempt.Equal(later) || !m.Done.IsZero() || !m.Retried.Equal(later) || m.RetriedAfter != 3 || m.Attempts != 3 || !m.Moving {
			t.Errorf("retried failed mail: %+v", m)
		}
		if p := m.Pending(); len(p) != 1 || p[0] != "bo@x" {
			t.Errorf("pending after retry %v, want only the failed recipient bo@x", p)
		}
		m, err = tx.RetryOutMail(queued, later)
		if err != nil || m.State != OutQueued || !m.NextAttempt.Equal(later) || !m.Retried.IsZero() {
			t.Errorf("retried queued mail: %+v %v", m, err)
		}
		if p := m.Pending(); len(p) != 2 {
			t.Errorf("pending of a mail without recipient results %v, want all of To", p)
		}
		if _, err := tx.RetryOutMail(sent, later); err == nil {
			t.Error("retrying a sent mail: no error")
		}
		if _, err := tx.RetryOutMail(999, later); !errors.Is(err, ErrNotFound) {
			t.Errorf("retrying a missing mail: %v, want ErrNotFound", err)
		}
		due, err := tx.DueOutMail(later, 10)
		if err != nil || len(due) != 2 {
			t.Errorf("due after retry: %+v %v, want the two requeued mails", due, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
