package mailin

import (
	"context"
	"sync"
	"time"
)

// budget counts the bytes of message bodies that sessions hold in memory,
// against a limit shared by the whole server, so that many large messages
// at once are deferred (451) rather than exhausting memory. Its methods are
// safe for concurrent use.
type budget struct {
	limit int64

	mu      sync.Mutex
	used    int64
	waiting int           // callers of take waiting now
	freed   chan struct{} // closed, and replaced, when bytes are given back
}

func newBudget(limit int64) *budget {
	return &budget{limit: limit, freed: make(chan struct{})}
}

// tryTake takes n bytes if they are free now, and never waits.
func (b *budget) tryTake(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

// take takes n bytes, waiting for them at most wait, or until ctx ends. It
// reports whether it got them. Only a caller that holds none may wait, so
// that waiters never hold back the bytes others wait for.
func (b *budget) take(ctx context.Context, n int64, wait time.Duration) bool {
	b.mu.Lock()
	if b.used+n <= b.limit {
		b.used += n
		b.mu.Unlock()
		return true
	}
	b.waiting++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.waiting--
		b.mu.Unlock()
	}()

	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		b.mu.Lock()
		if b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			return true
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// force takes n bytes whether or not they are free: for memory a session
// already holds, which refusing would not give back.
func (b *budget) force(n int64) {
	b.mu.Lock()
	b.used += n
	b.mu.Unlock()
}

// give returns n bytes and wakes whoever waits for them.
func (b *budget) give(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
}

// state is how many bytes are taken and how many callers wait, for tests.
func (b *budget) state() (used int64, waiting int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.waiting
}
