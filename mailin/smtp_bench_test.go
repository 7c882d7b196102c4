package mailin

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSMTPIngest sends 4 KiB messages from a member over parallel SMTP
// sessions on loopback into a real store that fsyncs every commit, and
// reports the rate at which they were answered 250.
func BenchmarkSMTPIngest(b *testing.B) {
	for _, sessions := range []int{1, 20} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			e := newSMTPEnv(b, SMTPOptions{Logger: slog.New(slog.DiscardHandler)})
			// Time inside the pipeline (parse, thread, group commit with
			// fsync), to tell it apart from the SMTP exchange.
			var inDeliver atomic.Int64
			e.srv.deliver = func(ctx context.Context, d Delivery) (Outcome, error) {
				t0 := time.Now()
				defer func() { inDeliver.Add(int64(time.Since(t0))) }()
				return e.p.Deliver(ctx, d)
			}
			clients := make([]*rawClient, sessions)
			for i := range clients {
				clients[i] = dialRaw(b, e.addr)
				clients[i].hello()
			}
			filler := strings.Repeat(strings.Repeat("lorem ipsum ", 6)+"\r\n", 64)

			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for _, c := range clients {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						m := msg(memberAddr, engAddr, "bench", fmt.Sprintf("bench-%d@example.org", i), "")
						m += filler[:4096-len(m)-2] + "\r\n"
						c.conn.SetDeadline(time.Now().Add(time.Minute))
						// Pipelined as a client with PIPELINING would send it.
						c.send("MAIL FROM:<" + memberAddr + ">\r\nRCPT TO:<" + engAddr + ">\r\nDATA\r\n")
						for _, want := range []int{250, 250, 354} {
							if code, text, err := c.reply(); err != nil || code != want {
								b.Errorf("got %d %s %v, want %d", code, text, err, want)
								return
							}
						}
						c.send(m + ".\r\n")
						if code, text, err := c.reply(); err != nil || code != 250 {
							b.Errorf("message %d: %d %s %v", i, code, text, err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(inDeliver.Load())/float64(b.N)/1e3, "µs-deliver/msg")
			if n := len(e.messages(b)); n != b.N {
				b.Fatalf("stored %d of %d messages", n, b.N)
			}
		})
	}
}
