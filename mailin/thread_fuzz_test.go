package mailin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidings/tidings/store"
)

// FuzzThread delivers a conversation described by the fuzz input — ids,
// In-Reply-To, References, subjects and dates drawn from small sets so that
// they collide — in the order given, and checks the forest's invariants:
// every message in exactly one live thread, relatives in the same thread,
// thread counts and thread order covering every message once.
func FuzzThread(f *testing.F) {
	f.Add([]byte{0, 8, 0, 0, 1, 0, 0, 0, 2, 1, 1, 0, 0})
	f.Add([]byte{1, 0, 0, 1, 0, 1, 0, 2})             // a loop
	f.Add([]byte{3, 2, 2, 1, 2, 1, 5, 4, 3, 0, 0, 1}) // placeholders
	f.Add([]byte{0, 8, 3, 1, 2, 3, 1, 9, 4, 8, 0, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 400 {
			return
		}
		p, st := threadTestPipeline(t)
		subjects := []string{"Plan", "Re: Plan", "Re: [eng] Plan", "Other", "AW: Other"}
		base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		id := func(b byte) string { return fmt.Sprintf("m%d@x", b%8) }
		next := func() (byte, bool) {
			if len(data) == 0 {
				return 0, false
			}
			b := data[0]
			data = data[1:]
			return b, true
		}
		delivered := map[string]bool{}
		for n := 0; n < 40; n++ {
			b, ok := next()
			if !ok {
				break
			}
			pm := &Parsed{MessageID: id(b), From: Address{Addr: "ana@example.com"}}
			if b, ok := next(); ok && b%9 != 8 {
				pm.InReplyTo = []string{id(b)}
			}
			if c, ok := next(); ok {
				for range c % 4 {
					if r, ok := next(); ok {
						pm.References = append(pm.References, id(r))
					}
				}
			}
			if s, ok := next(); ok {
				pm.Subject = subjects[int(s)%len(subjects)]
				pm.Date = base.Add(time.Duration(s) * 7 * time.Hour)
			}
			err := st.Update(context.Background(), func(tx *store.Tx) error {
				_, rej, err := p.store1(tx, Delivery{Teams: []string{"eng"}, Raw: []byte(fmt.Sprint(n, pm)), SkipSenderCheck: true}, pm, base)
				if rej != nil {
					return rej
				}
				return err
			})
			if err != nil {
				t.Fatalf("deliver %s: %v", pm.MessageID, err)
			}
			delivered[pm.MessageID] = true
		}
		checkForest(t, st, len(delivered))
	})
}

// checkForest asserts the invariants of a team's thread forest.
func checkForest(t *testing.T, st *store.Store, want int) {
	t.Helper()
	err := st.View(func(tx *store.Tx) error {
		var msgs []store.Message
		if err := tx.MessagesSince(0, func(m store.Message) bool { msgs = append(msgs, m); return true }); err != nil {
			return err
		}
		if len(msgs) != want {
			return fmt.Errorf("%d messages stored, want %d", len(msgs), want)
		}
		threadOf := map[string]uint64{}
		for _, m := range msgs {
			n, ok, err := tx.Node(m.Team, m.MessageID)
			if err != nil || !ok || n.Seq != m.Seq || n.Thread != m.Thread {
				return fmt.Errorf("message %s (thread %d): node %+v ok=%v err=%v", m.MessageID, m.Thread, n, ok, err)
			}
			if _, err := tx.Thread(m.Thread); err != nil {
				return fmt.Errorf("message %s: %w", m.MessageID, err)
			}
			threadOf[m.MessageID] = m.Thread
		}
		for _, m := range msgs {
			for _, r := range append(m.References, m.InReplyTo) {
				if th, ok := threadOf[r]; ok && th != m.Thread {
					return fmt.Errorf("%s in thread %d but its relative %s in %d", m.MessageID, m.Thread, r, th)
				}
			}
		}
		ths, err := tx.Threads("eng")
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, th := range ths {
			ms, err := tx.ThreadMessages(th.ID)
			if err != nil {
				return err
			}
			if len(ms) != th.Count {
				return fmt.Errorf("thread %d: count %d, thread order has %d", th.ID, th.Count, len(ms))
			}
			for _, m := range ms {
				if seen[m.MessageID] || m.Thread != th.ID {
					return fmt.Errorf("message %s shown twice or in the wrong thread", m.MessageID)
				}
				seen[m.MessageID] = true
			}
		}
		if len(seen) != want {
			return fmt.Errorf("threads show %d messages, want %d", len(seen), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
