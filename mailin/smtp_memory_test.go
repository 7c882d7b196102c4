package mailin

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSMTPMemory sends one 20 MB message on each of 40 concurrent
// sessions, from 40 loopback addresses, to a server with the default
// options, and reports the peak heap in use while they were answered, the
// process's peak RSS, and how each was answered. It measures memory, not
// speed: run it alone and once, e.g.
//
//	go test -run '^$' -bench 'SMTPMemory/^declared$/store' -benchtime 1x ./mailin
//
// Peak RSS is the process's, so compare it between runs of one
// sub-benchmark each. "declared" sends SIZE= with MAIL FROM, as MTAs do; "undeclared" does not,
// as the go-smtp client does not. "store" delivers through the pipeline;
// "discard" answers 250 without parsing or storing, to tell the SMTP
// server's own share apart.
func BenchmarkSMTPMemory(b *testing.B) {
	if testing.Short() {
		b.Skip("sends 800 MB and takes over a GiB of memory")
	}
	const (
		sessions = 40
		size     = 20 << 20
	)
	// One body shared by every client, so that the clients' own memory does
	// not hide the server's.
	line := strings.Repeat("All work and no play makes Jack a dull boy. ", 2)[:76] + "\r\n"
	body := bytes.Repeat([]byte(line), size/len(line))

	for _, declared := range []bool{false, true} {
		for _, store := range []bool{true, false} {
			name := "undeclared"
			if declared {
				name = "declared"
			}
			if store {
				name += "/store"
			} else {
				name += "/discard"
			}
			b.Run(name, func(b *testing.B) {
				for range b.N {
					e := newSMTPEnv(b, SMTPOptions{Logger: slog.New(slog.DiscardHandler)})
					if !store {
						e.srv.deliver = func(context.Context, Delivery) (Outcome, error) { return Outcome{}, nil }
					}
					runtime.GC()
					var base runtime.MemStats
					runtime.ReadMemStats(&base)

					stop := make(chan struct{})
					var peak atomic.Uint64
					sampled := make(chan struct{})
					go func() {
						defer close(sampled)
						t := time.NewTicker(10 * time.Millisecond)
						defer t.Stop()
						for {
							var ms runtime.MemStats
							runtime.ReadMemStats(&ms)
							if ms.HeapInuse > peak.Load() {
								peak.Store(ms.HeapInuse)
							}
							select {
							case <-stop:
								return
							case <-t.C:
							}
						}
					}()

					var mu sync.Mutex
					codes := map[string]int{}
					var wg sync.WaitGroup
					for i := range sessions {
						wg.Go(func() {
							code, err := sendSized(e.addr, fmt.Sprintf("127.0.0.%d", 10+i), i, body, declared)
							mu.Lock()
							defer mu.Unlock()
							if err != nil {
								codes["error"]++
								b.Logf("session %d: %v", i, err)
								return
							}
							codes[code]++
						})
					}
					wg.Wait()
					close(stop)
					<-sampled

					b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "MiB-peak-heap")
					if hwm := peakRSS(); hwm > 0 {
						b.ReportMetric(float64(hwm)/(1<<20), "MiB-peak-rss")
					}
					for code, n := range codes {
						b.ReportMetric(float64(n), "replies-"+code)
					}
				}
			})
		}
	}
}

// sendSized sends one message with body from the local address laddr and
// returns the final reply's code and enhanced code, e.g. "250-2.0.0".
func sendSized(addr, laddr string, i int, body []byte, declared bool) (string, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(laddr)}, Timeout: 10 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Minute))
	r := textproto.NewReader(bufio.NewReader(conn))
	w := bufio.NewWriterSize(conn, 64<<10)
	head := msg(memberAddr, engAddr, "big", fmt.Sprintf("big-%d@example.org", i), "")

	expect := func(want int) (string, error) {
		code, text, err := r.ReadResponse(0)
		enh, _, _ := strings.Cut(text, " ")
		got := strconv.Itoa(code) + "-" + enh
		if err == nil && code != want {
			err = fmt.Errorf("got %d %s, want %d", code, text, want)
		}
		return got, err
	}
	if _, err := expect(220); err != nil {
		return "", err
	}
	mail := "MAIL FROM:<" + memberAddr + ">"
	if declared {
		mail += fmt.Sprintf(" SIZE=%d", len(head)+len(body))
	}
	fmt.Fprintf(w, "EHLO client.example\r\n%s\r\nRCPT TO:<%s>\r\nDATA\r\n", mail, engAddr)
	if err := w.Flush(); err != nil {
		return "", err
	}
	for _, want := range []int{250, 250, 250, 354} {
		if got, err := expect(want); err != nil {
			return got, nil // refused before the body: the reply is the result
		}
	}
	w.WriteString(head)
	w.Write(body)
	w.WriteString(".\r\n")
	if err := w.Flush(); err != nil {
		return "", err
	}
	got, _ := expect(250)
	return got, nil
}

// peakRSS is the process's peak resident set size in bytes, from Linux's
// /proc/self/status; 0 where that cannot be read.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
