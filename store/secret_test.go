package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestSecretInAViewBeforeFirstUse(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	err := s.View(func(tx *Tx) error {
		_, _, err := tx.Secrets(time.Now())
		return err
	})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Secrets in a view of a new file: %v, want ErrNotFound", err)
	}
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	secrets := func(now time.Time) (cur []byte, prev [][]byte) {
		t.Helper()
		err := s.View(func(tx *Tx) error {
			var err error
			cur, prev, err = tx.Secrets(now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return cur, prev
	}
	rotate := func(now time.Time, grace time.Duration) {
		t.Helper()
		if err := s.Update(ctx, func(tx *Tx) error { return tx.RotateSecret(now, grace) }); err != nil {
			t.Fatal(err)
		}
	}

	var first []byte
	err := s.Update(ctx, func(tx *Tx) error {
		var prev [][]byte
		var err error
		first, prev, err = tx.Secrets(t0)
		if len(prev) != 0 {
			t.Errorf("previous secrets before any rotation: %d", len(prev))
		}
		return err
	})
	if err != nil || len(first) != 32 {
		t.Fatalf("first secret %x, %v", first, err)
	}

	rotate(t0, 24*time.Hour)
	second, prev := secrets(t0.Add(time.Hour))
	if len(second) != 32 || bytes.Equal(second, first) {
		t.Fatalf("rotation kept the secret: %x", second)
	}
	if len(prev) != 1 || !bytes.Equal(prev[0], first) {
		t.Fatalf("previous after one rotation = %x, want [%x]", prev, first)
	}
	// Secret is the current one, for callers that know nothing of rotation.
	s.View(func(tx *Tx) error {
		if cur, err := tx.Secret(); err != nil || !bytes.Equal(cur, second) {
			t.Errorf("Secret after rotation = %x, %v; want %x", cur, err, second)
		}
		return nil
	})
	if _, prev := secrets(t0.Add(24 * time.Hour)); len(prev) != 0 {
		t.Errorf("the first secret is still accepted when its grace has ended: %d previous", len(prev))
	}

	// A second rotation within the first grace keeps both earlier secrets,
	// the latest first.
	rotate(t0.Add(2*time.Hour), 48*time.Hour)
	third, prev := secrets(t0.Add(3 * time.Hour))
	if len(prev) != 2 || !bytes.Equal(prev[0], second) || !bytes.Equal(prev[1], first) {
		t.Errorf("previous after two rotations = %x, want [%x %x]", prev, second, first)
	}
	if _, prev := secrets(t0.Add(30 * time.Hour)); len(prev) != 1 || !bytes.Equal(prev[0], second) {
		t.Errorf("previous after the first grace = %x, want [%x]", prev, second)
	}

	// A rotation after a grace has ended deletes that secret for good.
	rotate(t0.Add(60*time.Hour), 0)
	fourth, prev := secrets(t0.Add(60 * time.Hour))
	if len(prev) != 0 || bytes.Equal(fourth, third) {
		t.Errorf("a rotation without grace: previous %x", prev)
	}
	s.View(func(tx *Tx) error {
		if r, err := tx.retiredSecrets(); err != nil || len(r) != 0 {
			t.Errorf("retired secrets kept past their grace: %+v, %v", r, err)
		}
		return nil
	})

	// A rotation without grace within another's grace (a leak found soon
	// after a routine rotation) refuses every older secret at once.
	rotate(t0.Add(60*time.Hour+time.Minute), 72*time.Hour)
	rotate(t0.Add(60*time.Hour+2*time.Minute), 0)
	if _, prev := secrets(t0.Add(60*time.Hour + 3*time.Minute)); len(prev) != 0 {
		t.Errorf("after a rotation with grace 0: %d older secrets still accepted", len(prev))
	}
	fourth, _ = secrets(t0.Add(60*time.Hour + 3*time.Minute))

	if err := s.Update(ctx, func(tx *Tx) error { return tx.RotateSecret(t0, -time.Second) }); err == nil {
		t.Error("a negative grace period is accepted")
	}

	// All of it survives closing and opening the file again.
	rotate(t0.Add(61*time.Hour), time.Hour)
	want, wantPrev := secrets(t0.Add(61 * time.Hour))
	s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.View(func(tx *Tx) error {
		cur, prev, err := tx.Secrets(t0.Add(61 * time.Hour))
		if err != nil || !bytes.Equal(cur, want) || len(prev) != 1 || !bytes.Equal(prev[0], wantPrev[0]) || !bytes.Equal(prev[0], fourth) {
			t.Errorf("after reopening: %x %x %v", cur, prev, err)
		}
		return nil
	})
}

func TestRotateSecretInNewFile(t *testing.T) {
	t.Parallel()
	s, err := Open(filepath.Join(t.TempDir(), "t.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Rotating before anything was signed still leaves a current secret.
	if err := s.Update(context.Background(), func(tx *Tx) error { return tx.RotateSecret(now, time.Hour) }); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		cur, prev, err := tx.Secrets(now)
		if err != nil || len(cur) != 32 || len(prev) != 1 || bytes.Equal(cur, prev[0]) {
			t.Errorf("Secrets = %x, %x, %v", cur, prev, err)
		}
		return nil
	})
}
