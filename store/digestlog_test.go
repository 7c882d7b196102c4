package store

import (
	"context"
	"testing"
	"time"
)

func TestDigestLogKeepsTheNewestPerMember(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx *Tx) error {
		for i := range digestLogKeep + 5 {
			for _, m := range []string{"ana@example.com", "ana@example.co"} {
				e := DigestLogEntry{Member: m, MessageID: "d" + string(rune('a'+i)) + "@x",
					Due: base.AddDate(0, 0, i), Threads: []DigestThread{{ID: uint64(i + 1), Team: "eng", Subject: "s"}}}
				if err := tx.PutDigestLog(e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		got, err := tx.DigestLog("ANA@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != digestLogKeep {
			t.Fatalf("%d entries, want %d", len(got), digestLogKeep)
		}
		if got[0].Threads[0].ID != digestLogKeep+5 || got[len(got)-1].Threads[0].ID != 6 {
			t.Errorf("entries %d..%d, want newest %d first down to 6", got[0].Threads[0].ID, got[len(got)-1].Threads[0].ID, digestLogKeep+5)
		}
		for _, e := range got {
			if e.Member != "ana@example.com" {
				t.Errorf("entry of %s in ana@example.com's log", e.Member)
			}
		}
		if none, _ := tx.DigestLog("bo@example.com"); len(none) != 0 {
			t.Errorf("bo has %d entries", len(none))
		}
		return nil
	})
}

func TestAnswered(t *testing.T) {
	s, _ := openTest(t)
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	if err := s.Update(context.Background(), func(tx *Tx) error {
		if _, ok := tx.LastAnswered("help:ana@example.com"); ok {
			t.Error("answered before any answer")
		}
		return tx.PutAnswered("help:Ana@Example.com", at)
	}); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		got, ok := tx.LastAnswered("help:ana@example.com")
		if !ok || !got.Equal(at) {
			t.Errorf("LastAnswered = %v, %v; want %v", got, ok, at)
		}
		return nil
	})
}
