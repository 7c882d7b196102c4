package store

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
)

func TestMailboxPos(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := context.Background()
	const key = "user@imap.example.com:993/INBOX"

	err := s.View(func(tx *Tx) error {
		if _, ok, err := tx.MailboxPos(key); ok || err != nil {
			t.Errorf("before any write: ok %v, err %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	put := MailboxPos{UIDValidity: 7, LastUID: 42,
		Pending: []PendingUID{{UID: 42}, {UID: 40, Refused: true}, {UID: 42}}}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.PutMailboxPos(key, put) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.PutMailboxPos("", put) }); err == nil {
		t.Error("an empty key was accepted")
	}
	// Another mailbox of the same user is another position.
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.PutMailboxPos(key+"x", MailboxPos{UIDValidity: 1, LastUID: 1})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(filepath.Clean(path), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := MailboxPos{UIDValidity: 7, LastUID: 42, Pending: []PendingUID{{UID: 40, Refused: true}, {UID: 42}}}
	err = s.View(func(tx *Tx) error {
		got, ok, err := tx.MailboxPos(key)
		if err != nil || !ok {
			t.Fatalf("after reopening: ok %v, err %v", ok, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after reopening: %+v, want %+v (sorted, without the duplicate)", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if put.Pending[0].UID != 42 {
		t.Error("PutMailboxPos reordered the caller's slice")
	}
}
