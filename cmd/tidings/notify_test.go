package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/store"
)

// TestCommitWaker: wake comes after the transaction that triggered it has
// committed, so that the deliverer finds the mail it queued; under many
// concurrent transactions, each one's mail is seen by a wake after it.
func TestCommitWaker(t *testing.T) {
	t.Parallel()
	st, err := store.Open(filepath.Join(t.TempDir(), "tidings.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var (
		mu      sync.Mutex
		seen    = map[string]bool{} // teams visible at some wake
		wakes   int
		wakeErr error
	)
	wake := func() {
		mu.Lock()
		defer mu.Unlock()
		wakes++
		err := st.View(func(tx *store.Tx) error {
			tms, err := tx.Teams()
			for _, tm := range tms {
				seen[tm.Name] = true
			}
			return err
		})
		if err != nil && wakeErr == nil {
			wakeErr = err
		}
	}
	c := &commitWaker{st: st, wake: wake}

	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("t%d", i)
			err := st.Update(context.Background(), func(tx *store.Tx) error {
				c.trigger()
				// Slow enough that the waker's commit would come first if
				// it did not wait behind this one.
				time.Sleep(time.Millisecond)
				return tx.AddTeam(store.Team{Name: name, Address: name + "@example.com"})
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// The last wake may still be on its way: wait for the waker to rest.
	for {
		c.mu.Lock()
		idle := !c.waiting
		c.mu.Unlock()
		if idle {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if wakeErr != nil {
		t.Fatal(wakeErr)
	}
	for i := range n {
		if name := fmt.Sprintf("t%d", i); !seen[name] {
			t.Errorf("team %s committed, but no wake came after it", name)
		}
	}
	if wakes == 0 || wakes > n {
		t.Errorf("%d wakes for %d transactions", wakes, n)
	}

	// A transaction that fails still wakes (there is nothing new to find).
	before := wakes
	mu.Unlock()
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		c.trigger()
		return errors.New("refused")
	})
	if err == nil {
		t.Fatal("want the transaction's error")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := wakes
		mu.Unlock()
		if got > before || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	if wakes == before {
		t.Error("no wake after a failed transaction")
	}
}
