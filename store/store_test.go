package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tidings.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestTeamsAndMembers(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	err := s.Update(ctx, func(tx *Tx) error {
		return tx.AddTeam(Team{Name: "eng", Address: "Eng@Example.com"})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx *Tx) error { return tx.AddTeam(Team{Name: "eng", Address: "x@example.com"}) })
	if !errors.Is(err, ErrExists) {
		t.Errorf("second add: %v, want ErrExists", err)
	}
	err = s.Update(ctx, func(tx *Tx) error { return tx.AddTeam(Team{Name: "ops", Address: "eng@example.com"}) })
	if !errors.Is(err, ErrExists) {
		t.Errorf("taken address: %v, want ErrExists", err)
	}
	err = s.Update(ctx, func(tx *Tx) error {
		return tx.PutMember(Member{Address: "Ana@Example.com", Zone: "Europe/Berlin", Teams: map[string]string{"eng": ModeDigest}})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error {
		tm, err := tx.TeamByAddress("ENG@example.com")
		if err != nil || tm.Name != "eng" {
			return fmt.Errorf("TeamByAddress = %+v, %v", tm, err)
		}
		m, err := tx.Member("ana@example.COM")
		if err != nil || m.Teams["eng"] != ModeDigest {
			return fmt.Errorf("Member = %+v, %v", m, err)
		}
		if _, err := tx.Member("bo@example.com"); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("unknown member: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.RemoveMember("ana@example.com") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.RemoveMember("ana@example.com") }); !errors.Is(err, ErrNotFound) {
		t.Errorf("second remove: %v", err)
	}
}

// A failing call in a shared transaction must not take its siblings' writes
// with it, nor leave its own half-done writes behind.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx *Tx) error {
				m := &Message{Team: "eng", MessageID: fmt.Sprintf("m%d@x", i), Hash: fmt.Sprint(i)}
				if err := tx.AddMessage(m, []byte("raw")); err != nil {
					return err
				}
				if i%7 == 0 {
					return fmt.Errorf("refused %d", i)
				}
				if i%11 == 0 {
					panic("boom")
				}
				return nil
			})
		})
	}
	wg.Wait()
	want := 0
	for i, err := range errs {
		bad := i%7 == 0 || i%11 == 0
		if bad != (err != nil) {
			t.Errorf("call %d: err %v", i, err)
		}
		if !bad {
			want++
		}
	}
	got := 0
	err := s.View(func(tx *Tx) error {
		return tx.MessagesSince(0, func(m Message) bool {
			var i int
			fmt.Sscanf(m.MessageID, "m%d@x", &i)
			if i%7 == 0 || i%11 == 0 {
				t.Errorf("failed call's message %s was stored", m.MessageID)
			}
			got++
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("stored %d messages, want %d", got, want)
	}
}

func TestReopenAndBackup(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	if err := s.Update(ctx, func(tx *Tx) error { return tx.AddTeam(Team{Name: "eng", Address: "eng@x"}) }); err != nil {
		t.Fatal(err)
	}
	// A second opener is refused while the first holds the file.
	if _, err := Open(path, Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: %v, want ErrLocked", err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := s.BackupFile(backup); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(*Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close: %v", err)
	}
	for _, p := range []string{path, backup} {
		s2, err := Open(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := s2.SchemaVersion()
		if err != nil || v != schemaVersion {
			t.Errorf("%s: schema %d, %v", p, v, err)
		}
		if err := s2.View(func(tx *Tx) error { _, err := tx.Team("eng"); return err }); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		s2.Close()
	}
}

func BenchmarkUpdateParallel(b *testing.B) {
	for _, sessions := range []int{1, 20} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			raw := make([]byte, 4096)
			b.SetParallelism(sessions)
			b.ResetTimer()
			start := time.Now()
			var mu sync.Mutex
			n := 0
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					n++
					id := n
					mu.Unlock()
					err := s.Update(context.Background(), func(tx *Tx) error {
						return tx.AddMessage(&Message{Team: "eng", MessageID: fmt.Sprint(id)}, raw)
					})
					if err != nil {
						b.Error(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
