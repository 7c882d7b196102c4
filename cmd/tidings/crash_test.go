package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCrashLosesNothingAcknowledged sends from several concurrent SMTP
// clients, kills serve with SIGKILL in the middle of the stream, restarts
// it, and checks that every Message-ID that was answered 250 is stored
// exactly once — and that nothing is stored twice. It does this over
// several kill cycles.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng", "--address", "eng@localhost")
	in.MustRun("member", "add", "ana@example.com", "--team", "eng")

	const clients, cycles, ackedBeforeKill = 8, 3, 150
	acked := map[string]bool{}
	attempted := map[string]bool{}
	var mu sync.Mutex
	date := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

	for cycle := range cycles {
		var (
			wg    sync.WaitGroup
			stop  atomic.Bool
			count atomic.Int64
		)
		for c := range clients {
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					id := fmt.Sprintf("crash-%d-%d-%d@example.com", cycle, c, i)
					// Unique subjects that do not look like replies: each
					// message is a thread of its own.
					msg := mailAt("Ana <ana@example.com>", "eng@localhost", "Crash test "+id, id, date)
					mu.Lock()
					attempted[id] = true
					mu.Unlock()
					r, err := sendMail(in.SMTPAddr, "ana@example.com", []string{"eng@localhost"}, msg)
					if err != nil {
						return // the server is gone
					}
					if r.Code != 250 {
						t.Errorf("%s: %s", id, r)
						return
					}
					mu.Lock()
					acked[id] = true
					mu.Unlock()
					count.Add(1)
				}
			})
		}
		deadline := time.Now().Add(time.Minute)
		for count.Load() < ackedBeforeKill && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		in.Kill()
		stop.Store(true)
		wg.Wait()
		if count.Load() < ackedBeforeKill {
			t.Fatalf("cycle %d: only %d messages acknowledged before the kill", cycle, count.Load())
		}

		in.Start()
		stored := map[string]int{}
		for _, th := range threadsJSON(t, in) {
			for _, id := range th.MessageIDs {
				stored[id]++
			}
		}
		mu.Lock()
		for id := range acked {
			if stored[id] != 1 {
				t.Errorf("cycle %d: acknowledged %s stored %d times", cycle, id, stored[id])
			}
		}
		for id, n := range stored {
			if !attempted[id] || n != 1 {
				t.Errorf("cycle %d: %s stored %d times (attempted: %v)", cycle, id, n, attempted[id])
			}
		}
		t.Logf("cycle %d: %d acknowledged in all, %d stored (the rest were in flight at the kill)", cycle, len(acked), len(stored))
		mu.Unlock()
	}

	// Sending an acknowledged message again after the crashes is answered
	// 250 and still stored once.
	var again string
	for id := range acked {
		again = id
		break
	}
	if r := in.Send("ana@example.com", []string{"eng@localhost"},
		mailAt("Ana <ana@example.com>", "eng@localhost", "Crash test "+again, again, date)); r.Code != 250 {
		t.Errorf("resend of %s: %s", again, r)
	}
	n := 0
	for _, th := range threadsJSON(t, in) {
		for _, id := range th.MessageIDs {
			if id == again {
				n++
			}
		}
	}
	if n != 1 {
		t.Errorf("%s stored %d times after a resend", again, n)
	}
	in.Stop()
}
