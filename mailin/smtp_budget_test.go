package mailin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// sizedMsg is a message from the member to eng of exactly n bytes (n of at
// least 300), with CRLF line endings.
func sizedMsg(subject, id string, n int) string {
	var b strings.Builder
	b.WriteString(msg(memberAddr, engAddr, subject, id, ""))
	line := strings.Repeat("0123456789", 7) + "\r\n"
	for b.Len()+len(line) <= n-2 {
		b.WriteString(line)
	}
	b.WriteString(strings.Repeat("x", n-2-b.Len()) + "\r\n")
	return b.String()
}

// holdDeliveries makes the delivery of each message with the subject
// "hold" wait until release is called; held gets a value as each starts
// waiting. The message's bytes stay counted against the budget meanwhile.
func holdDeliveries(t *testing.T, e *smtpEnv) (held <-chan struct{}, release func()) {
	t.Helper()
	h := make(chan struct{}, 16)
	r := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(r) }) }
	// Runs before the server's shutdown, which would wait for the delivery.
	t.Cleanup(release)
	e.srv.deliver = func(ctx context.Context, d Delivery) (Outcome, error) {
		if bytes.Contains(d.Raw, []byte("\r\nSubject: hold\r\n")) {
			h <- struct{}{}
			select {
			case <-r:
			case <-ctx.Done():
				return Outcome{}, ctx.Err()
			}
		}
		return e.p.Deliver(ctx, d)
	}
	return h, release
}

// wantBudget checks the bytes the server counts as in flight.
func wantBudget(t *testing.T, e *smtpEnv, want int64) {
	t.Helper()
	if used, _ := e.srv.budget.state(); used != want {
		t.Fatalf("budget in use %d, want %d", used, want)
	}
}

func TestSMTPBudget(t *testing.T) {
	t.Parallel()
	const budget = 128 << 10
	hold := sizedMsg("hold", "hold@example.org", budget-2<<10) // leaves 2 KiB, less than a step

	// start serves a fresh server with the budget, and has one session hold
	// most of it inside a delivery until release is called.
	start := func(t *testing.T, limit int64, wait time.Duration) (e *smtpEnv, a *rawClient, release func()) {
		e = newSMTPEnv(t, SMTPOptions{MaxInflightBytes: limit})
		e.srv.budgetWait = wait
		held, release := holdDeliveries(t, e)
		a = dialRaw(t, e.addr)
		a.begin(memberAddr, engAddr)
		a.send(hold + ".\r\n")
		<-held
		// A body without SIZE is counted in 64 KiB steps while it is read,
		// then as the one buffer it is joined into.
		wantBudget(t, e, int64(len(hold)))
		return e, a, release
	}
	small := msg(memberAddr, engAddr, "small", "small@example.org", "Hello.\r\n")

	t.Run("exhausted", func(t *testing.T) {
		t.Parallel()
		e, a, release := start(t, budget, 50*time.Millisecond)
		b := dialRaw(t, e.addr)
		b.begin(memberAddr, engAddr)
		b.send(small + ".\r\n")
		b.expect(451, "4.3.1")
		b.cmd("NOOP", 250, "2.0.0")

		// Once the held message is answered its bytes are free again, and
		// the server takes mail as before.
		release()
		a.expect(250, "2.0.0")
		wantBudget(t, e, 0)
		b.begin(memberAddr, engAddr)
		b.send(small + ".\r\n")
		b.expect(250, "2.0.0")
		wantBudget(t, e, 0)
		e.wantStored(t, 2)
	})

	t.Run("exhausted mid-body", func(t *testing.T) {
		t.Parallel()
		// Room for one more 64 KiB step, not two.
		e, a, release := start(t, budget+64<<10, 50*time.Millisecond)
		b := dialRaw(t, e.addr)
		b.begin(memberAddr, engAddr)
		b.send(sizedMsg("big", "big@example.org", 200<<10) + ".\r\n")
		b.expect(451, "4.3.1")
		// The rest of the body was read and discarded, not taken for
		// commands, and what the session held was given back.
		b.cmd("NOOP", 250, "2.0.0")
		wantBudget(t, e, int64(len(hold)))

		release()
		a.expect(250, "2.0.0")
		b.begin(memberAddr, engAddr)
		b.send(small + ".\r\n")
		b.expect(250, "2.0.0")
		wantBudget(t, e, 0)
		e.wantStored(t, 2)
	})

	t.Run("declared size exhausted", func(t *testing.T) {
		t.Parallel()
		e, a, release := start(t, budget, 50*time.Millisecond)
		b := dialRaw(t, e.addr)
		b.hello()
		b.cmd(fmt.Sprintf("MAIL FROM:<%s> SIZE=%d", memberAddr, len(small)), 250, "2.0.0")
		b.cmd("RCPT TO:<"+engAddr+">", 250, "2.0.0")
		b.cmd("DATA", 354, "")
		b.send(small + ".\r\n")
		b.expect(451, "4.3.1")
		release()
		a.expect(250, "2.0.0")
		wantBudget(t, e, 0)
	})

	t.Run("waits for budget", func(t *testing.T) {
		t.Parallel()
		e, a, release := start(t, budget, time.Minute)
		b := dialRaw(t, e.addr)
		b.begin(memberAddr, engAddr)
		b.send(small + ".\r\n")
		// A session that holds nothing waits for the bytes to come free.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			if _, waiting := e.srv.budget.state(); waiting == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the second session does not wait for the budget")
			}
		}
		release()
		a.expect(250, "2.0.0")
		b.expect(250, "2.0.0")
		wantBudget(t, e, 0)
		e.wantStored(t, 2)
	})
}

// TestSMTPBudgetSmallerThanMessage: a message larger than the whole budget
// is taken when it arrives alone.
func TestSMTPBudgetSmallerThanMessage(t *testing.T) {
	t.Parallel()
	const size = 80 << 10 // more than one step of reading
	e := newSMTPEnv(t, SMTPOptions{MaxInflightBytes: 16 << 10})
	for i, declare := range []bool{false, true} {
		m := sizedMsg("large", fmt.Sprintf("large-%d@example.org", i), size)
		c := dialRaw(t, e.addr)
		c.hello()
		mail := "MAIL FROM:<" + memberAddr + ">"
		if declare {
			mail += fmt.Sprintf(" SIZE=%d", len(m))
		}
		c.cmd(mail, 250, "2.0.0")
		c.cmd("RCPT TO:<"+engAddr+">", 250, "2.0.0")
		c.cmd("DATA", 354, "")
		c.send(m + ".\r\n")
		c.expect(250, "2.0.0")
		wantBudget(t, e, 0)
	}
	for _, sm := range e.wantStored(t, 2) {
		if sm.Size != size {
			t.Errorf("stored %d bytes, want %d", sm.Size, size)
		}
	}
}

// TestSMTPDeclaredSize: a body is stored as sent (line endings made CRLF)
// whether the SIZE declared with it is exact, too small or far too large.
func TestSMTPDeclaredSize(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	// Larger than a step of reading.
	big := func(id string) string { return sizedMsg("declared", id, 80<<10) }
	// Bare LF endings but the last, which ends the body.
	bare := func(id string) string {
		m := big(id)
		return strings.ReplaceAll(m[:len(m)-2], "\r\n", "\n") + "\r\n"
	}
	tests := []struct {
		name     string
		sent     string
		declared int
	}{
		{"exact", big("d-exact@example.org"), 80 << 10},
		{"too small", big("d-small@example.org"), 40 << 10},
		{"far too large", msg(memberAddr, engAddr, "declared", "d-large@example.org", "Hi.\r\n"), 10 << 20},
		{"bare LF, exact", bare("d-bare@example.org"), len(bare("d-bare@example.org"))},
		{"bare LF, too small", bare("d-bare-small@example.org"), 40 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, e.addr)
			c.hello()
			c.cmd(fmt.Sprintf("MAIL FROM:<%s> SIZE=%d", memberAddr, tt.declared), 250, "2.0.0")
			c.cmd("RCPT TO:<"+engAddr+">", 250, "2.0.0")
			c.cmd("DATA", 354, "")
			c.send(tt.sent + ".\r\n")
			c.expect(250, "2.0.0")
			wantBudget(t, e, 0)
			id := headerMessageID([]byte(tt.sent))
			want := strings.ReplaceAll(strings.ReplaceAll(tt.sent, "\r\n", "\n"), "\n", "\r\n")
			for _, sm := range e.messages(t) {
				if sm.MessageID == id {
					if got := e.raw(t, sm.Seq); string(got) != want {
						t.Fatalf("stored %d bytes that differ from the %d sent", len(got), len(want))
					}
					return
				}
			}
			t.Fatalf("%s not stored", id)
		})
	}
}

// TestInflightRead reads bodies around the chunk size, through readers
// that return short reads, and checks the bytes and what is counted.
func TestInflightRead(t *testing.T) {
	t.Parallel()
	s := NewSMTPServer(nil, SMTPOptions{MaxInflightBytes: 1 << 20})
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"half":     iotest.HalfReader,
		"one byte": iotest.OneByteReader,
		"data+EOF": iotest.DataErrReader,
	}
	for _, n := range []int{0, 1, 100, bodyChunk - 1, bodyChunk, bodyChunk + 1, 3 * bodyChunk, 3*bodyChunk + 17} {
		in := bytes.Repeat([]byte("abcdefg\r\n"), n/9+1)[:n]
		for _, declared := range []int{0, n, n / 2, 10*n + 1} {
			for name, wrap := range readers {
				t.Run(fmt.Sprintf("%d/declared=%d/%s", n, declared, name), func(t *testing.T) {
					f := inflight{s: s}
					raw, got, err := f.read(wrap(bytes.NewReader(in)), int64(declared))
					if err != nil || got != int64(n) || !bytes.Equal(raw, in) {
						t.Fatalf("read %d bytes, err %v; equal %v", got, err, bytes.Equal(raw, in))
					}
					if f.held < int64(len(raw)) {
						t.Errorf("held %d for %d bytes", f.held, len(raw))
					}
					if declared == 0 && cap(raw) != n {
						t.Errorf("joined into %d bytes of capacity for %d", cap(raw), n)
					}
					if declared > 0 && cap(raw) > max(2*n, declared+sizeSlack) {
						t.Errorf("capacity %d for %d bytes declared as %d", cap(raw), n, declared)
					}
					f.settle(int64(cap(raw)))
					if used, _ := s.budget.state(); used < int64(cap(raw)) {
						t.Errorf("budget in use %d, below the %d held", used, cap(raw))
					}
					f.release()
				})
			}
		}
	}
	if used, waiting := s.budget.state(); used != 0 || waiting != 0 {
		t.Errorf("budget left at %d with %d waiting", used, waiting)
	}
}
