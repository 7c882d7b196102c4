package mailout

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tidings/tidings/store"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
		32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i, w := range want {
		if got := backoff(i + 1); got != w {
			t.Errorf("backoff after attempt %d = %v, want %v", i+1, got, w)
		}
	}
	if got := backoff(1000); got != time.Hour {
		t.Errorf("backoff(1000) = %v", got)
	}
}

// fakeTransport answers each attempt from a script and records when each
// attempt was made.
type fakeTransport struct {
	mu       sync.Mutex
	answers  []error // one per attempt; after the last, the last again
	attempts []time.Time
}

func (f *fakeTransport) Deliver(ctx context.Context, m store.OutMail, raw []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, time.Now())
	n := min(len(f.attempts), len(f.answers))
	return f.answers[n-1]
}

func (f *fakeTransport) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.attempts)
}

var errTemp = errors.New("451 4.3.0 try again later")

// runDeliverer starts d.Run in the bubble and returns a function that
// stops it and checks what it returned.
func runDeliverer(t *testing.T, d *Deliverer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// TestDelivererSchedule drives Run on the bubble's clock with a transport
// that answers from a script: the exact instants of the attempts and the
// final state of the mail.
func TestDelivererSchedule(t *testing.T) {
	t.Parallel()
	perm := &PermanentError{Err: errors.New("550 5.1.1 no such user")}
	for _, c := range []struct {
		name     string
		lifetime time.Duration
		answers  []error
		// attempts at these offsets from queueing
		want      []time.Duration
		wantState string
	}{
		{"at once", 0, []error{nil}, []time.Duration{0}, store.OutSent},
		{"temporary then sent", 0, []error{errTemp, errTemp, errTemp, nil},
			[]time.Duration{0, time.Minute, 3 * time.Minute, 7 * time.Minute}, store.OutSent},
		{"permanent at once", 0, []error{perm}, []time.Duration{0}, store.OutFailed},
		{"temporary then permanent", 0, []error{errTemp, fmt.Errorf("relay: %w", perm)},
			[]time.Duration{0, time.Minute}, store.OutFailed},
		{"lifetime over", 10 * time.Minute, []error{errTemp},
			[]time.Duration{0, time.Minute, 3 * time.Minute, 7 * time.Minute, 10 * time.Minute}, store.OutFailed},
		{"backoff capped at an hour", 0, []error{errTemp, errTemp, errTemp, errTemp, errTemp, errTemp, errTemp, errTemp, nil},
			[]time.Duration{0, 1 * time.Minute, 3 * time.Minute, 7 * time.Minute, 15 * time.Minute, 31 * time.Minute,
				63 * time.Minute, 123 * time.Minute, 183 * time.Minute}, store.OutSent},
		{"default lifetime of five days", 0, []error{errTemp}, nil, store.OutFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				st, _ := openStore(t)
				tr := &fakeTransport{answers: c.answers}
				d := &Deliverer{Store: st, Transport: tr, Lifetime: c.lifetime, Logger: testLogger(t)}
				stop := runDeliverer(t, d)
				defer stop()
				t0 := time.Now()
				id := queue(t, st, t0, testMail(1))[0]
				d.Notify()
				time.Sleep(6 * 24 * time.Hour)
				synctest.Wait()

				var got []time.Duration
				for _, at := range tr.times() {
					got = append(got, at.Sub(t0))
				}
				if c.want == nil {
					// Every hour after the first hour's doubling, until the
					// lifetime ends: the last attempt falls on its end.
					if n := len(got); n < 100 || got[n-1] != DefaultLifetime || got[n-2] != DefaultLifetime-time.Hour+3*time.Minute {
						t.Errorf("%d attempts, the last at %v", n, got[n-1])
					}
				} else if !slices.Equal(got, c.want) {
					t.Errorf("attempts at %v, want %v", got, c.want)
				}
				m, _ := outMail(t, st, id)
				if m.State != c.wantState || m.Attempts != len(got) || !m.Done.Equal(t0.Add(got[len(got)-1]).UTC()) {
					t.Errorf("record %+v, want %s after %d attempts", m, c.wantState, len(got))
				}
				if m.State == store.OutFailed && m.LastAnswer == "" {
					t.Error("a failed mail must keep the last answer")
				}
			})
		})
	}
}

// TestDelivererWakes: Run sleeps while nothing is due, wakes on Notify, and
// without a Notify still finds mail within maxSleep.
func TestDelivererWakes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st, _ := openStore(t)
		tr := &fakeTransport{answers: []error{nil}}
		d := &Deliverer{Store: st, Transport: tr, Logger: testLogger(t)}
		stop := runDeliverer(t, d)
		defer stop()
		synctest.Wait()

		t0 := time.Now()
		queue(t, st, t0, testMail(1))
		d.Notify()
		synctest.Wait()
		if got := tr.times(); len(got) != 1 || !got[0].Equal(t0) {
			t.Fatalf("after Notify: attempts %v, want one at once", got)
		}

		// Queued without a Notify: found at the next hourly look.
		queue(t, st, time.Now(), testMail(2))
		time.Sleep(maxSleep - time.Second)
		synctest.Wait()
		if got := tr.times(); len(got) != 1 {
			t.Fatalf("%d attempts before the hourly look", len(got))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := tr.times(); len(got) != 2 || !got[1].Equal(t0.Add(maxSleep)) {
			t.Errorf("attempts %v, want the second at %v", got, t0.Add(maxSleep))
		}

		// Queued for later (a retry's time): delivered when it falls due.
		err := st.Update(context.Background(), func(tx *store.Tx) error {
			m := &store.OutMail{MessageID: "later@example.com", Kind: "notice", To: []string{"a@example.com"},
				Queued: time.Now(), NextAttempt: time.Now().Add(10 * time.Minute)}
			return tx.Enqueue(m, []byte("Subject: later\r\n\r\n"))
		})
		if err != nil {
			t.Fatal(err)
		}
		d.Notify()
		time.Sleep(10*time.Minute - time.Nanosecond)
		synctest.Wait()
		if n := len(tr.times()); n != 2 {
			t.Fatalf("%d attempts before the mail fell due", n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if n := len(tr.times()); n != 3 {
			t.Errorf("%d attempts once the mail fell due, want 3", n)
		}
	})
}

// TestDelivererMaildirRun delivers through Run into the default Maildir.
func TestDelivererMaildirRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st, _ := openStore(t)
		dir := filepath.Join(t.TempDir(), "data", "outbox")
		d := &Deliverer{Store: st, Dir: dir, Logger: testLogger(t)}
		stop := runDeliverer(t, d)
		synctest.Wait()
		for _, sub := range []string{"", "tmp", "new", "cur"} {
			checkMode(t, filepath.Join(dir, sub), 0o700)
		}
		ids := queue(t, st, time.Now(), testMail(1), testMail(2))
		d.Notify()
		synctest.Wait()
		stop()
		if got := files(t, filepath.Join(dir, "new")); len(got) != len(ids) {
			t.Errorf("new/ = %q", got)
		}
		for _, id := range ids {
			if m, _ := outMail(t, st, id); m.State != store.OutSent {
				t.Errorf("mail %d: %s", id, m.State)
			}
		}
	})
}

func TestDelivererRunRefuses(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	for _, d := range []*Deliverer{{}, {Store: st}} {
		if err := d.Run(context.Background()); err == nil {
			t.Errorf("Run(%+v) = nil, want an error", d)
		}
	}
}
