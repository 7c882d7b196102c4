package digest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/tidings/tidings/store"
)

// Slot is one member's digest due at one instant.
type Slot struct {
	Member string
	Due    time.Time // UTC
	// Skip means the slot was missed by more than the catch-up allows: it
	// is claimed without a digest, so that it counts as done, and what it
	// would have held goes into the next one (the cursor stays put).
	Skip bool
}

// ClaimFunc claims a due slot. In one transaction it checks that the
// member's DigestState.LastDue is still before slot.Due (so that a second
// call for the same slot does nothing), sets LastDue to slot.Due, and unless
// slot.Skip builds and queues the digest and advances the cursor. It must
// set LastDue even when the digest is empty and not sent. A nil error means
// the slot is done; after an error the Scheduler tries again later.
type ClaimFunc func(ctx context.Context, slot Slot) error

// Defaults for the Scheduler's zero fields.
const (
	DefaultCatchUp  = 12 * time.Hour
	DefaultParallel = 8
)

const (
	// maxSleep bounds one wait, so that a step of the wall clock (a
	// suspended machine, a clock set by hand) or a member changed without
	// a Notify delays a digest by an hour at most. Timers run on the
	// monotonic clock, which knows nothing of either.
	maxSleep = time.Hour
	// A failed claim is tried again after retryMin, doubling to retryMax.
	retryMin = time.Minute
	retryMax = time.Hour
)

// Scheduler claims each member's digest slots as they fall due. It looks at
// every member with at least one team in mode digest, works out their next
// slot from DigestState.LastDue (or Member.Joined for a new member), sleeps
// on one timer until the earliest, and calls Claim for every slot that is
// due. Notify makes it look again at once, after members have changed.
//
// Catch-up: a slot that fell due while the service was down is claimed on
// start-up if it fell due less than CatchUp ago; of several missed slots only
// the latest counts. An older one is claimed with Skip, so that it counts as
// done and its content rolls into the next digest.
//
// The fields must be set before Run and not changed after.
type Scheduler struct {
	Store *store.Store
	// Now is the clock; nil means time.Now. Run waits with time.Timer, so
	// a test that moves Now must move the timers too: run it inside
	// testing/synctest and let Now be time.Now shifted to the instant the
	// test wants to start at.
	Now func() time.Time
	// CatchUp is how long after its due time a missed slot is still sent;
	// zero means DefaultCatchUp.
	CatchUp time.Duration
	// Defaults fill in what member records leave empty.
	Defaults Defaults
	// Claim claims one slot; it must be set. Run calls it for up to
	// Parallel members at once, so that their transactions can share a
	// commit.
	Claim ClaimFunc
	// Parallel is how many claims run at once; zero means DefaultParallel.
	Parallel int
	// Logger receives the scheduler's log lines; nil discards them.
	Logger *slog.Logger

	wakeOnce sync.Once
	wakeC    chan struct{}
}

// Notify makes Run work out every member's next slot again now. It never
// blocks, and may be called before Run starts or after it ends.
func (s *Scheduler) Notify() {
	select {
	case s.wake() <- struct{}{}:
	default: // a wake-up is pending already
	}
}

func (s *Scheduler) wake() chan struct{} {
	s.wakeOnce.Do(func() { s.wakeC = make(chan struct{}, 1) })
	return s.wakeC
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) catchUp() time.Duration {
	if s.CatchUp > 0 {
		return s.CatchUp
	}
	return DefaultCatchUp
}

func (s *Scheduler) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger.With("component", "digest")
}

// Due returns the slots due at now, earliest first: for each member at most
// one, the latest that is owed. A member whose schedule cannot be read (an
// unknown zone, say) is logged and left out.
func (s *Scheduler) Due(now time.Time) ([]Slot, error) {
	due, _, err := s.scan(now, nil, s.log())
	return due, err
}

// scan returns the slots due at now and the earliest slot still to come
// (zero if none). claimed holds, per member, the last slot this process has
// claimed, which counts even where the store says otherwise (a Claim that
// did not record it must not make Run claim it again and again).
func (s *Scheduler) scan(now time.Time, claimed map[string]time.Time, log *slog.Logger) (due []Slot, next time.Time, err error) {
	if s.Store == nil {
		return nil, time.Time{}, errors.New("digest: scheduler without a store")
	}
	type member struct {
		m       store.Member
		lastDue time.Time
	}
	var ms []member
	err = s.Store.View(func(tx *store.Tx) error {
		all, err := tx.Members()
		if err != nil {
			return err
		}
		for _, m := range all {
			if !GetsDigest(m) {
				continue
			}
			st, _, err := tx.DigestState(m.Address)
			if err != nil {
				return err
			}
			ms = append(ms, member{m, st.LastDue})
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("digest: read members: %w", err)
	}
	catchUp := s.catchUp()
	for _, x := range ms {
		sched, err := ScheduleOf(x.m, s.Defaults)
		if err != nil {
			log.Warn("member left out of digests", "member", x.m.Address, "error", err)
			continue
		}
		last := x.lastDue
		if c := claimed[x.m.Address]; c.After(last) {
			last = c
		}
		at := sched.owed(x.m, last, now)
		switch {
		case at.IsZero():
		case at.After(now):
			if next.IsZero() || at.Before(next) {
				next = at
			}
		default:
			due = append(due, Slot{Member: x.m.Address, Due: at, Skip: now.Sub(at) >= catchUp})
		}
	}
	slices.SortFunc(due, func(a, b Slot) int {
		return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.Member, b.Member))
	})
	return due, next, nil
}

// retry is when a member whose claim failed is tried again.
type retry struct {
	at    time.Time
	delay time.Duration
}

// Run claims slots as they fall due until ctx ends, then returns nil once
// the claims in flight have returned. It returns an error only when the
// Scheduler is not set up (no Store or Claim); trouble with the store or a
// claim is logged and tried again later.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.Store == nil || s.Claim == nil {
		return errors.New("digest: scheduler needs a store and a claim function")
	}
	log := s.log()
	parallel := cmp.Or(max(s.Parallel, 0), DefaultParallel)
	claimed := map[string]time.Time{}
	retries := map[string]retry{}
	log.Info("scheduler started", "catch_up", s.catchUp())

	for ctx.Err() == nil {
		now := s.now()
		due, next, err := s.scan(now, claimed, log)
		if err != nil {
			log.Error("cannot work out due digests", "error", err)
			next = now.Add(retryMin)
		}
		// Members whose last claim failed wait for their retry time.
		ready := make([]Slot, 0, len(due))
		for _, slot := range due {
			r, failed := retries[slot.Member]
			switch {
			case !failed:
				ready = append(ready, slot)
			case !r.at.After(now):
				ready = append(ready, slot)
			case next.IsZero() || r.at.Before(next):
				next = r.at
			}
		}
		if len(ready) > 0 {
			for _, o := range s.claimAll(ctx, ready, parallel, log) {
				if o.err == nil {
					claimed[o.slot.Member] = o.slot.Due
					delete(retries, o.slot.Member)
					continue
				}
				if ctx.Err() != nil {
					break
				}
				r := retries[o.slot.Member]
				r.delay = min(max(2*r.delay, retryMin), retryMax)
				r.at = s.now().Add(r.delay)
				retries[o.slot.Member] = r
				log.Error("digest claim failed", "member", o.slot.Member, "due", o.slot.Due,
					"skip", o.slot.Skip, "retry_in", r.delay, "error", o.err)
			}
			continue // claims take time: look again before sleeping
		}
		// Forget retries of members no longer due (removed, or their
		// schedule changed), so that the map cannot grow.
		for member := range retries {
			if !slices.ContainsFunc(due, func(sl Slot) bool { return sl.Member == member }) {
				delete(retries, member)
			}
		}

		wait := maxSleep
		if !next.IsZero() {
			wait = min(next.Sub(now), maxSleep)
		}
		if wait <= 0 {
			continue
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-s.wake():
		}
		timer.Stop()
	}
	log.Info("scheduler stopped")
	return nil
}

type outcome struct {
	slot Slot
	err  error
}

// claimAll claims the slots, up to parallel at once, and returns each
// outcome. It stops starting claims when ctx ends.
func (s *Scheduler) claimAll(ctx context.Context, slots []Slot, parallel int, log *slog.Logger) []outcome {
	out := make([]outcome, len(slots))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, slot := range slots {
		out[i].slot = slot
		select {
		case <-ctx.Done():
			out[i].err = ctx.Err()
			continue
		case sem <- struct{}{}:
		}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i].err = s.claimOne(ctx, slot)
			switch {
			case out[i].err != nil:
			case slot.Skip:
				log.Warn("digest missed by more than the catch-up; its content goes into the next",
					"member", slot.Member, "due", slot.Due)
			default:
				log.Debug("digest slot claimed", "member", slot.Member, "due", slot.Due)
			}
		})
	}
	wg.Wait()
	return out
}

// claimOne calls Claim, turning a panic into an error: one member's broken
// digest must not stop everyone else's.
func (s *Scheduler) claimOne(ctx context.Context, slot Slot) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("digest: claim panicked: %v", r)
		}
	}()
	return s.Claim(ctx, slot)
}
