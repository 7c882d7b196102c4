package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tidings/tidings/store"
)

// The scheduler's tests run inside testing/synctest bubbles: the timers Run
// sleeps on follow the bubble's fake clock, which jumps to the next timer
// as soon as every goroutine waits, and the Scheduler's Now is that clock
// shifted to the instant a test starts at. A year of slots takes well under
// a second, and every claim can be checked to the nanosecond.

// schedRig is a real store in t.TempDir with the Scheduler run, stopped and
// restarted on the fake clock, as the service would be.
type schedRig struct {
	t     *testing.T
	st    *store.Store
	shift time.Duration
	log   *slog.Logger

	mu       sync.Mutex
	claims   []schedClaim   // every Claim call that succeeded
	attempts []schedClaim   // every Claim call
	failNext map[string]int // member -> calls still to fail
	panics   map[string]int // member -> calls still to panic
	forget   bool           // succeed without recording LastDue

	nowCalls atomic.Int64
	sched    *Scheduler
	cancel   context.CancelFunc
	done     chan error
}

// schedFlood is more claims than any test here makes.
const schedFlood = 20000

type schedClaim struct {
	Slot
	At  time.Time // the clock when Claim was called
	Dup bool      // LastDue was already at or after Due
}

// newSchedRig must be called inside synctest.Test; the clock then reads
// start.
func newSchedRig(t *testing.T, start time.Time) *schedRig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "tidings.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &schedRig{t: t, st: st, shift: time.Until(start), log: schedTestLogger(t),
		failNext: map[string]int{}, panics: map[string]int{}}
	t.Cleanup(func() {
		if r.cancel != nil {
			r.stop()
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

func (r *schedRig) now() time.Time { return time.Now().Add(r.shift).UTC() }

// start runs a new Scheduler, as a fresh process would, and lets it do
// its first pass.
func (r *schedRig) start(catchUp time.Duration) {
	r.t.Helper()
	if r.cancel != nil {
		r.t.Fatal("scheduler already running")
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan error, 1)
	r.sched = &Scheduler{
		Store:   r.st,
		Now:     func() time.Time { r.nowCalls.Add(1); return r.now() },
		CatchUp: catchUp,
		Claim:   r.claim,
		Logger:  r.log,
	}
	go func() { r.done <- r.sched.Run(ctx) }()
	synctest.Wait()
}

// stop ends Run and waits for it to return.
func (r *schedRig) stop() {
	r.t.Helper()
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		r.t.Errorf("Run: %v", err)
	}
}

// sleepUntil moves the clock to at, letting the scheduler do everything
// that falls due on the way and at at itself.
func (r *schedRig) sleepUntil(at time.Time) {
	r.t.Helper()
	d := at.Sub(r.now())
	if d < 0 {
		r.t.Fatalf("sleepUntil %s: the clock is past it already (%s)", at, r.now())
	}
	time.Sleep(d)
	synctest.Wait()
}

// claim does what the real ClaimFunc does to the store: in one
// transaction, it claims the slot only if LastDue is still before it.
func (r *schedRig) claim(ctx context.Context, slot Slot) error {
	at := r.now()
	r.mu.Lock()
	r.attempts = append(r.attempts, schedClaim{Slot: slot, At: at})
	if len(r.attempts) == schedFlood {
		r.t.Errorf("more than %d claims: the scheduler claims in a loop", schedFlood)
	}
	if len(r.attempts) >= schedFlood {
		// Refuse, so that the backoff lets the fake clock move on and the
		// test ends instead of spinning.
		r.mu.Unlock()
		return errors.New("claim flood")
	}
	fail, panics, forget := r.failNext[slot.Member], r.panics[slot.Member], r.forget
	if fail > 0 {
		r.failNext[slot.Member]--
	}
	if panics > 0 {
		r.panics[slot.Member]--
	}
	r.mu.Unlock()
	if panics > 0 {
		panic("claim exploded")
	}
	if fail > 0 {
		return errors.New("claim refused for the test")
	}
	var dup bool
	err := r.st.Update(ctx, func(tx *store.Tx) error {
		dup = false
		st, _, err := tx.DigestState(slot.Member)
		if err != nil {
			return err
		}
		if !st.LastDue.Before(slot.Due) {
			dup = true
			return nil
		}
		if forget {
			return nil
		}
		st.Member = slot.Member
		st.LastDue = slot.Due
		if !slot.Skip {
			st.Cursor++ // stands for the digest queued
		}
		return tx.PutDigestState(st)
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.claims = append(r.claims, schedClaim{Slot: slot, At: at, Dup: dup})
	r.mu.Unlock()
	return nil
}

func (r *schedRig) putMember(m store.Member) {
	r.t.Helper()
	if err := r.st.Update(context.Background(), func(tx *store.Tx) error { return tx.PutMember(m) }); err != nil {
		r.t.Fatal(err)
	}
}

func (r *schedRig) putState(s store.DigestState) {
	r.t.Helper()
	if err := r.st.Update(context.Background(), func(tx *store.Tx) error { return tx.PutDigestState(s) }); err != nil {
		r.t.Fatal(err)
	}
}

func (r *schedRig) state(member string) store.DigestState {
	r.t.Helper()
	var s store.DigestState
	if err := r.st.View(func(tx *store.Tx) error {
		var err error
		s, _, err = tx.DigestState(member)
		return err
	}); err != nil {
		r.t.Fatal(err)
	}
	return s
}

// claimsOf returns the member's successful claims, in the order made.
func (r *schedRig) claimsOf(member string) []schedClaim {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []schedClaim
	for _, c := range r.claims {
		if c.Member == member {
			out = append(out, c)
		}
	}
	return out
}

// checkOnce fails the test if any slot was claimed twice, or claimed when
// the store had it already.
func (r *schedRig) checkOnce() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, c := range r.claims {
		key := c.Member + " " + c.Due.Format(time.RFC3339Nano)
		if seen[key] || c.Dup {
			r.t.Errorf("slot %s claimed twice", key)
		}
		seen[key] = true
	}
}

func schedMember(addr, zone, start, days string, joined time.Time) store.Member {
	return store.Member{Address: addr, Zone: zone, Start: start, Days: days, Joined: joined,
		Teams: map[string]string{"eng": store.ModeDigest}}
}

// TestSchedulerYear runs the scheduler through each year case on the fake
// clock: every slot is claimed once, at exactly its due instant, and they
// are the instants the calendar gives.
func TestSchedulerYear(t *testing.T) {
	t.Parallel()
	for _, c := range yearCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			want := expectedSlots(t, c)
			synctest.Test(t, func(t *testing.T) {
				from, end := walkStart(t, c), walkEnd(t, c)
				r := newSchedRig(t, from)
				r.putMember(schedMember("ana@example.com", c.zone, c.start, c.days, from))
				r.start(0)
				r.sleepUntil(end)
				r.stop()

				r.checkOnce()
				var got []time.Time
				for _, cl := range r.claimsOf("ana@example.com") {
					if cl.Skip || !cl.At.Equal(cl.Due) {
						t.Fatalf("slot %s claimed at %s, skip %v: want on time", cl.Due, cl.At, cl.Skip)
					}
					got = append(got, cl.Due)
				}
				compareSlots(t, mustSchedule(t, c.zone, c.start, c.days).Loc, got, want)
				if st := r.state("ana@example.com"); !st.LastDue.Equal(want[len(want)-1]) || st.Cursor != uint64(len(want)) {
					t.Errorf("state %+v, want LastDue %s after %d digests", st, want[len(want)-1], len(want))
				}
				// No polling: a pass per slot and one per hour of
				// sleep at most (see maxSleep), not a pass per tick.
				hours := int64(end.Sub(from)/time.Hour) + 1
				if n := r.nowCalls.Load(); n > hours+3*int64(len(want))+10 {
					t.Errorf("the clock was read %d times for %d slots over %d hours: polling?", n, len(want), hours)
				}
			})
		})
	}
}

// TestSchedulerDowntime stops the service before, across and long after
// due instants and starts it again (twice, to show that a restart sends
// nothing more): a slot missed by less than the catch-up is claimed once on
// start-up, an older one is claimed with Skip so that its content goes into
// the next digest, and of several missed slots only the latest counts.
func TestSchedulerDowntime(t *testing.T) {
	t.Parallel()
	// Europe/Berlin, 09:00 mon-fri, in March 2026 (CET, UTC+1): due at
	// 08:00Z on Thu 26 Feb, Fri 27 Feb, Mon 2 Mar, Tue 3 Mar, Wed 4 Mar.
	type want struct {
		due, at string
		skip    bool
	}
	tests := []struct {
		name            string
		catchUp         time.Duration
		stop, restart   string // the service is down in between
		end             string
		want            []want // claims after Thu 26 Feb's, in order
		lastDue, cursor string // the state at the end; cursor counts digests sent from Thu on
	}{
		{name: "down before the due time", stop: "2026-03-02T07:00:00Z", restart: "2026-03-02T07:50:00Z", end: "2026-03-03T12:00:00Z",
			want: []want{{"2026-02-27T08:00:00Z", "2026-02-27T08:00:00Z", false}, {"2026-03-02T08:00:00Z", "2026-03-02T08:00:00Z", false}, {"2026-03-03T08:00:00Z", "2026-03-03T08:00:00Z", false}}},
		{name: "down across the due time", stop: "2026-03-02T07:50:00Z", restart: "2026-03-02T09:00:00Z", end: "2026-03-03T12:00:00Z",
			want: []want{{"2026-02-27T08:00:00Z", "2026-02-27T08:00:00Z", false}, {"2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z", false}, {"2026-03-03T08:00:00Z", "2026-03-03T08:00:00Z", false}}},
		{name: "back just within the catch-up", stop: "2026-03-02T07:50:00Z", restart: "2026-03-02T19:59:59Z", end: "2026-03-03T12:00:00Z",
			want: []want{{"2026-02-27T08:00:00Z", "2026-02-27T08:00:00Z", false}, {"2026-03-02T08:00:00Z", "2026-03-02T19:59:59Z", false}, {"2026-03-03T08:00:00Z", "2026-03-03T08:00:00Z", false}}},
		{name: "back at the catch-up limit", stop: "2026-03-02T07:50:00Z", restart: "2026-03-02T20:00:00Z", end: "2026-03-03T12:00:00Z",
			want: []want{{"2026-02-27T08:00:00Z", "2026-02-27T08:00:00Z", false}, {"2026-03-02T08:00:00Z", "2026-03-02T20:00:00Z", true}, {"2026-03-03T08:00:00Z", "2026-03-03T08:00:00Z", false}}},
		{name: "back long after", stop: "2026-03-02T07:50:00Z", restart: "2026-03-03T07:00:00Z", end: "2026-03-03T12:00:00Z",
			want: []want{{"2026-02-27T08:00:00Z", "2026-02-27T08:00:00Z", false}, {"2026-03-02T08:00:00Z", "2026-03-03T07:00:00Z", true}, {"2026-03-03T08:00:00Z", "2026-03-03T08:00:00Z", false}}},
		{name: "down over a weekend, back before Monday's", stop: "2026-02-27T07:00:00Z", restart: "2026-03-02T07:30:00Z", end: "2026-03-03T12:00:00Z",
			want: []want{{"2026-02-27T08:00:00Z", "2026-03-02T07:30:00Z", true}, {"2026-03-02T08:00:00Z", "2026-03-02T08:00:00Z", false}, {"2026-03-03T08:00:00Z", "2026-03-03T08:00:00Z", false}}},
		{name: "down over a weekend, back after Monday's", stop: "2026-02-27T07:00:00Z", restart: "2026-03-02T10:00:00Z", end: "2026-03-03T12:00:00Z",
			// Friday's slot is passed over without a claim of its own;
			// its content is in Monday's.
			want: []want{{"2026-03-02T08:00:00Z", "2026-03-02T10:00:00Z", false}, {"2026-03-03T08:00:00Z", "2026-03-03T08:00:00Z", false}}},
		{name: "down for a week", stop: "2026-02-26T09:00:00Z", restart: "2026-03-04T20:30:00Z", end: "2026-03-05T12:00:00Z",
			want: []want{{"2026-03-04T08:00:00Z", "2026-03-04T20:30:00Z", true}, {"2026-03-05T08:00:00Z", "2026-03-05T08:00:00Z", false}}},
		{name: "a shorter catch-up", catchUp: 30 * time.Minute, stop: "2026-03-02T07:50:00Z", restart: "2026-03-02T08:30:00Z", end: "2026-03-03T12:00:00Z",
			want: []want{{"2026-02-27T08:00:00Z", "2026-02-27T08:00:00Z", false}, {"2026-03-02T08:00:00Z", "2026-03-02T08:30:00Z", true}, {"2026-03-03T08:00:00Z", "2026-03-03T08:00:00Z", false}}},
		{name: "a shorter catch-up, in time", catchUp: 30 * time.Minute, stop: "2026-03-02T07:50:00Z", restart: "2026-03-02T08:29:00Z", end: "2026-03-03T12:00:00Z",
			want: []want{{"2026-02-27T08:00:00Z", "2026-02-27T08:00:00Z", false}, {"2026-03-02T08:00:00Z", "2026-03-02T08:29:00Z", false}, {"2026-03-03T08:00:00Z", "2026-03-03T08:00:00Z", false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newSchedRig(t, mustUTC(t, "2026-02-26T08:30:00Z"))
				r.putMember(schedMember("ana@example.com", "Europe/Berlin", "09:00", "mon-fri", mustUTC(t, "2026-02-01T00:00:00Z")))
				r.putState(store.DigestState{Member: "ana@example.com", LastDue: mustUTC(t, "2026-02-26T08:00:00Z")})

				r.start(tc.catchUp)
				r.sleepUntil(mustUTC(t, tc.stop))
				r.stop()
				r.sleepUntil(mustUTC(t, tc.restart))
				r.start(tc.catchUp)
				// A second restart soon after sends nothing more.
				r.sleepUntil(mustUTC(t, tc.restart).Add(5 * time.Minute))
				r.stop()
				r.start(tc.catchUp)
				r.sleepUntil(mustUTC(t, tc.end))
				r.stop()

				r.checkOnce()
				got := r.claimsOf("ana@example.com")
				var gotS, wantS []string
				for _, c := range got {
					gotS = append(gotS, fmt.Sprintf("%s at %s skip=%v", c.Due.Format(time.RFC3339), c.At.Format(time.RFC3339), c.Skip))
				}
				sent := 0
				for _, w := range tc.want {
					wantS = append(wantS, fmt.Sprintf("%s at %s skip=%v", w.due, w.at, w.skip))
					if !w.skip {
						sent++
					}
				}
				if !slices.Equal(gotS, wantS) {
					t.Fatalf("claims:\n  %s\nwant:\n  %s", strings.Join(gotS, "\n  "), strings.Join(wantS, "\n  "))
				}
				st := r.state("ana@example.com")
				if last := tc.want[len(tc.want)-1]; !st.LastDue.Equal(mustUTC(t, last.due)) || st.Cursor != uint64(sent) {
					t.Errorf("state %+v, want LastDue %s and %d digests", st, last.due, sent)
				}
			})
		})
	}
}

// TestSchedulerZoneChange moves a member from Berlin to New York in June and
// on to Kolkata in September while the scheduler runs: each change takes
// effect for the next digest, no slot is claimed twice and no day gets two
// digests, and every instant is the one the new zone's calendar gives.
func TestSchedulerZoneChange(t *testing.T) {
	t.Parallel()
	legs := []yearCase{
		{name: "berlin", zone: "Europe/Berlin", start: "09:00", days: "mon-fri", from: "2026-01-01", to: "2026-06-15",
			special: map[string]string{"2026-06-15": "2026-06-15T07:00:00Z"}},
		// The move on Monday 15 June at 10:00Z, after Berlin's digest of the
		// day: New York's Monday 09:00 (13:00Z) is not sent.
		{name: "new york", zone: "America/New_York", start: "09:00", days: "mon-fri", from: "2026-06-16", to: "2026-09-14",
			special: map[string]string{"2026-06-16": "2026-06-16T13:00:00Z", "2026-09-14": "2026-09-14T13:00:00Z"}},
		// The move on Monday 14 September at 14:00Z, after New York's
		// digest; it is 19:30 in Kolkata, whose next is Tuesday 09:00.
		{name: "kolkata", zone: "Asia/Kolkata", start: "09:00", days: "sun-thu", from: "2026-09-15", to: "2026-12-31",
			special: map[string]string{"2026-09-15": "2026-09-15T03:30:00Z"}},
	}
	var want []time.Time
	for _, leg := range legs {
		want = append(want, expectedSlots(t, leg)...)
	}
	synctest.Test(t, func(t *testing.T) {
		from := walkStart(t, legs[0])
		r := newSchedRig(t, from)
		ana := schedMember("ana@example.com", "Europe/Berlin", "09:00", "mon-fri", from)
		r.putMember(ana)
		r.start(0)

		r.sleepUntil(mustUTC(t, "2026-06-15T10:00:00Z"))
		ana.Zone = "America/New_York"
		r.putMember(ana)
		r.sched.Notify()

		r.sleepUntil(mustUTC(t, "2026-09-14T14:00:00Z"))
		ana.Zone, ana.Days = "Asia/Kolkata", "sun-thu"
		r.putMember(ana)
		r.sched.Notify()

		r.sleepUntil(walkEnd(t, legs[2]))
		r.stop()

		r.checkOnce()
		var got []time.Time
		for _, c := range r.claimsOf("ana@example.com") {
			if c.Skip || !c.At.Equal(c.Due) {
				t.Fatalf("slot %s claimed at %s, skip %v: want on time", c.Due, c.At, c.Skip)
			}
			got = append(got, c.Due)
		}
		compareSlots(t, time.UTC, got, want)
	})
}

// TestSchedulerScheduleChange changes start times and days, with and
// without Notify, and while the service is down.
func TestSchedulerScheduleChange(t *testing.T) {
	t.Parallel()
	type change struct {
		at                string
		start, days, zone string
		notify            bool
		down              string // if set, the service is down from at until down
	}
	type want struct{ due, at string }
	tests := []struct {
		name    string
		initial string // start time before the changes; 09:00 if empty
		changes []change
		end     string
		want    []want
	}{
		{name: "later, after today's digest: from tomorrow",
			changes: []change{{at: "2026-03-02T10:00:00Z", start: "14:00", notify: true}}, end: "2026-03-04T00:00:00Z",
			want: []want{{"2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z"}, {"2026-03-03T14:00:00Z", "2026-03-03T14:00:00Z"}}},
		{name: "later, before today's digest: today",
			changes: []change{{at: "2026-03-02T08:00:00Z", start: "14:00", notify: true}}, end: "2026-03-04T00:00:00Z",
			want: []want{{"2026-03-02T14:00:00Z", "2026-03-02T14:00:00Z"}, {"2026-03-03T14:00:00Z", "2026-03-03T14:00:00Z"}}},
		{name: "earlier, before today's digest but after its new time: now",
			changes: []change{{at: "2026-03-02T10:00:00Z", start: "14:00", notify: true}, {at: "2026-03-03T10:00:00Z", start: "09:00", notify: true}},
			end:     "2026-03-05T00:00:00Z",
			want: []want{{"2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z"}, {"2026-03-03T09:00:00Z", "2026-03-03T10:00:00Z"},
				{"2026-03-04T09:00:00Z", "2026-03-04T09:00:00Z"}}},
		// The scheduler, started at 12:00Z on Sunday with Monday 14:00Z
		// to come, looks again every hour on the hour (maxSleep).
		{name: "earlier, in the next few minutes, with Notify: on time", initial: "14:00",
			changes: []change{{at: "2026-03-02T08:05:00Z", start: "08:30", notify: true}}, end: "2026-03-03T00:00:00Z",
			want: []want{{"2026-03-02T08:30:00Z", "2026-03-02T08:30:00Z"}}},
		{name: "earlier, in the next few minutes, without Notify: within the hour", initial: "14:00",
			changes: []change{{at: "2026-03-02T08:05:00Z", start: "08:30"}}, end: "2026-03-03T00:00:00Z",
			want: []want{{"2026-03-02T08:30:00Z", "2026-03-02T09:00:00Z"}}},
		{name: "days changed to exclude tomorrow",
			changes: []change{{at: "2026-03-02T10:00:00Z", days: "mon,wed,fri", notify: true}}, end: "2026-03-05T00:00:00Z",
			want: []want{{"2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z"}, {"2026-03-04T09:00:00Z", "2026-03-04T09:00:00Z"}}},
		// Moving west while down: Monday's digest went out in UTC at
		// 09:00; Monday 09:00 in New York (14:00Z) is not another.
		{name: "zone changed while down",
			changes: []change{{at: "2026-03-02T10:00:00Z", zone: "America/New_York", down: "2026-03-02T15:00:00Z"}}, end: "2026-03-04T00:00:00Z",
			want: []want{{"2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z"}, {"2026-03-03T14:00:00Z", "2026-03-03T14:00:00Z"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newSchedRig(t, mustUTC(t, "2026-03-01T12:00:00Z")) // a Sunday
				ana := schedMember("ana@example.com", "UTC", cmpOr(tc.initial, "09:00"), "mon-fri", mustUTC(t, "2026-02-01T00:00:00Z"))
				r.putMember(ana)
				r.putState(store.DigestState{Member: "ana@example.com", LastDue: mustUTC(t, "2026-02-27T09:00:00Z")})
				r.start(0)
				for _, c := range tc.changes {
					r.sleepUntil(mustUTC(t, c.at))
					if c.down != "" {
						r.stop()
					}
					ana.Start = cmpOr(c.start, ana.Start)
					ana.Days = cmpOr(c.days, ana.Days)
					ana.Zone = cmpOr(c.zone, ana.Zone)
					r.putMember(ana)
					if c.notify {
						r.sched.Notify()
					}
					if c.down != "" {
						r.sleepUntil(mustUTC(t, c.down))
						r.start(0)
					}
				}
				r.sleepUntil(mustUTC(t, tc.end))
				r.stop()

				r.checkOnce()
				var got, wantS []string
				for _, c := range r.claimsOf("ana@example.com") {
					got = append(got, fmt.Sprintf("%s at %s skip=%v", c.Due.Format(time.RFC3339), c.At.Format(time.RFC3339), c.Skip))
				}
				for _, w := range tc.want {
					wantS = append(wantS, fmt.Sprintf("%s at %s skip=false", w.due, w.at))
				}
				if !slices.Equal(got, wantS) {
					t.Fatalf("claims:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(wantS, "\n  "))
				}
			})
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestSchedulerMembers runs members in several zones and modes together: a
// member who joins while the scheduler sleeps is picked up on Notify, members
// without a digest team are never claimed, a member removed is claimed no
// more, and many members due at one instant are each claimed once, on
// time.
func TestSchedulerMembers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := mustUTC(t, "2026-03-01T12:00:00Z") // Sunday
		r := newSchedRig(t, start)
		zones := []string{"Europe/Berlin", "America/New_York", "Asia/Kolkata"}
		for i := range 120 {
			r.putMember(schedMember(fmt.Sprintf("m%03d@example.com", i), zones[i%3], "09:00", "mon-fri", start))
		}
		imm := schedMember("imm@example.com", "UTC", "09:00", "mon-fri", start)
		imm.Teams = map[string]string{"eng": store.ModeImmediate, "ops": store.ModeOff}
		r.putMember(imm)
		r.putMember(schedMember("gone@example.com", "UTC", "09:00", "mon-fri", start))
		r.start(0)

		// Monday: Kolkata 03:30Z, Berlin 08:00Z, New York 14:00Z.
		r.sleepUntil(mustUTC(t, "2026-03-02T10:00:00Z"))
		// A member joins at 10:00Z with a start at 10:30 UTC; another
		// leaves. The scheduler sleeps until New York's 14:00Z until told.
		r.putMember(schedMember("new@example.com", "UTC", "10:30", "mon-fri", mustUTC(t, "2026-03-02T10:00:00Z")))
		if err := r.st.Update(context.Background(), func(tx *store.Tx) error { return tx.RemoveMember("gone@example.com") }); err != nil {
			t.Fatal(err)
		}
		r.sched.Notify()
		r.sleepUntil(mustUTC(t, "2026-03-03T10:00:00Z"))
		r.stop()

		r.checkOnce()
		check := func(member string, want ...string) {
			t.Helper()
			var got []string
			for _, c := range r.claimsOf(member) {
				if !c.At.Equal(c.Due) || c.Skip {
					t.Errorf("%s: slot %s claimed at %s, skip %v: want on time", member, c.Due, c.At, c.Skip)
				}
				got = append(got, c.Due.Format(time.RFC3339))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: claims %v, want %v", member, got, want)
			}
		}
		wantDue := map[string][]string{
			"Asia/Kolkata":     {"2026-03-02T03:30:00Z", "2026-03-03T03:30:00Z"},
			"Europe/Berlin":    {"2026-03-02T08:00:00Z", "2026-03-03T08:00:00Z"},
			"America/New_York": {"2026-03-02T14:00:00Z"},
		}
		for i := range 120 {
			check(fmt.Sprintf("m%03d@example.com", i), wantDue[zones[i%3]]...)
		}
		check("imm@example.com")
		check("gone@example.com", "2026-03-02T09:00:00Z")
		check("new@example.com", "2026-03-02T10:30:00Z")
	})
}

// TestSchedulerClaimFailure: a failing claim is tried again after a minute,
// then two, then four; a panicking one likewise; meanwhile other members are
// claimed on time; and a claim failing for longer than the catch-up ends as
// a Skip.
func TestSchedulerClaimFailure(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := mustUTC(t, "2026-03-01T12:00:00Z")
		r := newSchedRig(t, start)
		r.putMember(schedMember("ana@example.com", "UTC", "09:00", "mon-fri", start))
		r.putMember(schedMember("bo@example.com", "UTC", "09:02", "mon-fri", start))
		r.putMember(schedMember("cy@example.com", "UTC", "09:00", "mon-fri", start))
		r.putMember(schedMember("dee@example.com", "UTC", "09:00", "mon-fri", start))
		r.failNext["ana@example.com"] = 3
		r.panics["cy@example.com"] = 1
		r.failNext["dee@example.com"] = 1000
		r.start(0)
		r.sleepUntil(mustUTC(t, "2026-03-03T12:00:00Z"))
		r.stop()

		r.checkOnce()
		r.mu.Lock()
		var anaTries []string
		for _, a := range r.attempts {
			if a.Member == "ana@example.com" {
				anaTries = append(anaTries, a.At.Format("15:04"))
			}
		}
		r.mu.Unlock()
		if want := []string{"09:00", "09:01", "09:03", "09:07", "09:00"}; !slices.Equal(anaTries, want) {
			t.Errorf("ana's attempts at %v, want %v (the last on Tuesday)", anaTries, want)
		}
		check := func(member string, want ...string) {
			t.Helper()
			var got []string
			for _, c := range r.claimsOf(member) {
				got = append(got, fmt.Sprintf("%s at %s skip=%v", c.Due.Format(time.RFC3339), c.At.Format(time.RFC3339), c.Skip))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: claims %v, want %v", member, got, want)
			}
		}
		check("ana@example.com", "2026-03-02T09:00:00Z at 2026-03-02T09:07:00Z skip=false", "2026-03-03T09:00:00Z at 2026-03-03T09:00:00Z skip=false")
		check("bo@example.com", "2026-03-02T09:02:00Z at 2026-03-02T09:02:00Z skip=false", "2026-03-03T09:02:00Z at 2026-03-03T09:02:00Z skip=false")
		check("cy@example.com", "2026-03-02T09:00:00Z at 2026-03-02T09:01:00Z skip=false", "2026-03-03T09:00:00Z at 2026-03-03T09:00:00Z skip=false")
		// Dee's claims fail for good: tried again after 1, 2, 4 … minutes,
		// then hourly; past the catch-up (from 21:00Z) as a Skip, which
		// fails too, and from Tuesday 09:00Z for Tuesday's slot.
		if got := r.claimsOf("dee@example.com"); len(got) != 0 {
			t.Errorf("dee: claims %+v, want none", got)
		}
		r.mu.Lock()
		var deeTries []time.Time
		for _, a := range r.attempts {
			if a.Member == "dee@example.com" {
				deeTries = append(deeTries, a.At)
			}
		}
		r.mu.Unlock()
		for i := 1; i < len(deeTries); i++ {
			if gap := deeTries[i].Sub(deeTries[i-1]); gap < time.Minute || gap > time.Hour {
				t.Fatalf("dee's attempts %s and %s: %s apart", deeTries[i-1], deeTries[i], gap)
			}
		}
		if n := len(deeTries); n < 25 || n > 40 {
			t.Errorf("dee: %d attempts over 27 hours, want hourly after the backoff", n)
		}
	})
}

// TestSchedulerForgetfulClaim: a Claim that returns nil without recording
// the slot in the store is not called again for that slot by the same
// process, so a bug there cannot turn into a busy loop or a flood of mail.
func TestSchedulerForgetfulClaim(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := mustUTC(t, "2026-03-01T12:00:00Z")
		r := newSchedRig(t, start)
		r.putMember(schedMember("ana@example.com", "UTC", "09:00", "mon-fri", start))
		r.forget = true
		r.start(0)
		r.sleepUntil(mustUTC(t, "2026-03-04T00:00:00Z"))
		r.stop()
		var got []string
		for _, c := range r.claimsOf("ana@example.com") {
			got = append(got, c.Due.Format(time.RFC3339)+" at "+c.At.Format(time.RFC3339))
		}
		want := []string{"2026-03-02T09:00:00Z at 2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z at 2026-03-03T09:00:00Z"}
		if !slices.Equal(got, want) {
			t.Errorf("claims %v, want %v", got, want)
		}
	})
}

// TestSchedulerDue asks what is due without running the loop, as `digest
// schedule` does.
func TestSchedulerDue(t *testing.T) {
	t.Parallel()
	st, err := store.Open(filepath.Join(t.TempDir(), "tidings.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	joined := mustUTC(t, "2026-02-01T00:00:00Z")
	members := []store.Member{
		schedMember("late@example.com", "UTC", "09:00", "mon-fri", joined),                              // last digest Mon: Tue's owed 3h
		schedMember("missed@example.com", "UTC", "09:00", "mon-fri", joined),                            // last digest a week ago
		schedMember("future@example.com", "UTC", "14:00", "mon-fri", joined),                            // Tue's at 14:00 to come
		schedMember("kolkata@example.com", "Asia/Kolkata", "", "", joined),                              // defaults: 09:00 mon-fri: 03:30Z owed
		schedMember("fresh@example.com", "UTC", "11:00", "mon-fri", mustUTC(t, "2026-03-03T10:30:00Z")), // joined before 11:00
		schedMember("badzone@example.com", "Atlantis/Lost", "09:00", "mon-fri", joined),
		{Address: "imm@example.com", Teams: map[string]string{"eng": store.ModeImmediate}, Joined: joined},
	}
	states := map[string]string{
		"late@example.com":    "2026-03-02T09:00:00Z",
		"missed@example.com":  "2026-02-24T09:00:00Z",
		"future@example.com":  "2026-03-02T14:00:00Z",
		"kolkata@example.com": "2026-03-02T03:30:00Z",
	}
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		for _, m := range members {
			if err := tx.PutMember(m); err != nil {
				return err
			}
			if s, ok := states[m.Address]; ok {
				if err := tx.PutDigestState(store.DigestState{Member: m.Address, LastDue: mustUTC(t, s)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &Scheduler{Store: st, Logger: schedTestLogger(t)}
	got, err := s.Due(mustUTC(t, "2026-03-03T12:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Slot{
		{Member: "kolkata@example.com", Due: mustUTC(t, "2026-03-03T03:30:00Z")},
		{Member: "late@example.com", Due: mustUTC(t, "2026-03-03T09:00:00Z")},
		{Member: "missed@example.com", Due: mustUTC(t, "2026-03-03T09:00:00Z")},
		{Member: "fresh@example.com", Due: mustUTC(t, "2026-03-03T11:00:00Z")},
	}
	if !slices.EqualFunc(got, want, func(a, b Slot) bool { return a.Member == b.Member && a.Due.Equal(b.Due) && a.Skip == b.Skip }) {
		t.Errorf("Due = %+v\nwant  %+v", got, want)
	}
	// Twelve hours later the owed ones are past the catch-up.
	got, err = s.Due(mustUTC(t, "2026-03-03T21:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sl := range got {
		if wantSkip := !sl.Due.After(mustUTC(t, "2026-03-03T09:00:00Z")); sl.Skip != wantSkip {
			t.Errorf("at 21:00Z: %+v, want skip %v", sl, wantSkip)
		}
	}
	if len(got) != 5 {
		t.Errorf("at 21:00Z: %d slots, want 5 (future's 14:00 now owed too): %+v", len(got), got)
	}
}

func TestSchedulerRunNeedsStoreAndClaim(t *testing.T) {
	t.Parallel()
	if err := (&Scheduler{}).Run(context.Background()); err == nil {
		t.Error("Run without a store or claim: no error")
	}
	// Notify before Run and without one never blocks.
	var s Scheduler
	s.Notify()
	s.Notify()
}

// schedTestLogger sends log lines to t.Log until the test's clean-ups are
// over, so that a late line cannot fail the test.
func schedTestLogger(t testing.TB) *slog.Logger {
	w := &schedLogWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type schedLogWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *schedLogWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}
