package mailin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tidings/tidings/store"
)

// The world every SMTP test runs in: team eng (ana is a member), team ops
// (no members), and a stranger.
const (
	engAddr    = "eng@example.com"
	opsAddr    = "ops@example.com"
	memberAddr = "ana@example.org"
	outsider   = "mallory@elsewhere.example"
)

// tlog is a slog destination that writes to t.Log until the test's
// clean-ups are over, so that a late line cannot fail the test.
type tlog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *tlog) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

func testLogger(t testing.TB) *slog.Logger {
	w := &tlog{t: t}
	// Registered first, so it runs after every other clean-up.
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type smtpEnv struct {
	st   *store.Store
	p    *Pipeline
	srv  *SMTPServer
	addr string
}

// newSMTPEnv opens a fresh store with the two teams, and serves SMTP on
// 127.0.0.1:0 until the test ends.
func newSMTPEnv(t testing.TB, opts SMTPOptions) *smtpEnv {
	t.Helper()
	log := testLogger(t)
	st, err := store.Open(t.TempDir()+"/tidings.db", store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		for _, tm := range []store.Team{{Name: "eng", Address: engAddr}, {Name: "ops", Address: opsAddr}} {
			if err := tx.AddTeam(tm); err != nil {
				return err
			}
		}
		return tx.PutMember(store.Member{Address: memberAddr, Name: "Ana", Zone: "Europe/Berlin",
			Start: "09:00", Days: "mon-fri", Teams: map[string]string{"eng": store.ModeDigest}})
	})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipeline(st, PipelineOptions{Domain: "example.com", Logger: log})
	if opts.Logger == nil {
		opts.Logger = log
	}
	srv := NewSMTPServer(p, opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &smtpEnv{st: st, p: p, srv: srv, addr: l.Addr().String()}
}

// messages returns everything stored, in order.
func (e *smtpEnv) messages(t testing.TB) []store.Message {
	t.Helper()
	var ms []store.Message
	err := e.st.View(func(tx *store.Tx) error {
		return tx.MessagesSince(0, func(m store.Message) bool { ms = append(ms, m); return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func (e *smtpEnv) raw(t testing.TB, seq uint64) []byte {
	t.Helper()
	var raw []byte
	if err := e.st.View(func(tx *store.Tx) error {
		var err error
		raw, err = tx.Raw(seq)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return raw
}

func (e *smtpEnv) wantStored(t testing.TB, n int) []store.Message {
	t.Helper()
	ms := e.messages(t)
	if len(ms) != n {
		t.Fatalf("stored %d messages, want %d: %+v", len(ms), n, ms)
	}
	return ms
}

// msg builds a small message with CRLF line endings.
func msg(from, to, subject, messageID, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 30 Nov 2026 09:00:00 +0100\r\n", from, to, subject)
	if messageID != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", messageID)
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

// rawClient speaks SMTP byte for byte, for the cases a well-behaved client
// library would not send.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	r    *textproto.Reader
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	c := &rawClient{t: t, conn: conn, r: textproto.NewReader(bufio.NewReader(conn))}
	c.expect(220, "")
	return c
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// reply reads one (possibly multi-line) reply.
func (c *rawClient) reply() (int, string, error) {
	return c.r.ReadResponse(0)
}

// expect reads one reply and checks its code and, unless empty, that its
// text starts with the enhanced code enh.
func (c *rawClient) expect(code int, enh string) string {
	c.t.Helper()
	got, text, err := c.reply()
	if err != nil {
		c.t.Fatalf("want %d %s, read error: %v", code, enh, err)
	}
	if got != code || !strings.HasPrefix(text, enh) {
		c.t.Fatalf("got %d %s, want %d %s", got, text, code, enh)
	}
	return text
}

func (c *rawClient) cmd(line string, code int, enh string) string {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.expect(code, enh)
}

// hello says EHLO and returns the extension lines.
func (c *rawClient) hello() string {
	c.t.Helper()
	return c.cmd("EHLO client.example", 250, "")
}

// begin opens a transaction for to and gets the 354.
func (c *rawClient) begin(from string, to ...string) {
	c.t.Helper()
	c.hello()
	c.cmd("MAIL FROM:<"+from+">", 250, "2.0.0")
	for _, rcpt := range to {
		c.cmd("RCPT TO:<"+rcpt+">", 250, "2.0.0")
	}
	c.cmd("DATA", 354, "")
}

// expectClosed reads until the server closes the connection, and fails on
// any reply other than those allowed.
func (c *rawClient) expectClosed(allowed ...int) {
	c.t.Helper()
	for {
		code, text, err := c.reply()
		if err != nil {
			var nerr net.Error
			if errors.As(err, &nerr) && nerr.Timeout() {
				c.t.Fatalf("connection still open: %v", err)
			}
			return
		}
		ok := false
		for _, a := range allowed {
			ok = ok || code == a
		}
		if !ok {
			c.t.Fatalf("got %d %s before the connection closed", code, text)
		}
	}
}

// dialClient returns a go-smtp client after EHLO.
func dialClient(t testing.TB, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.example"); err != nil {
		t.Fatal(err)
	}
	return c
}

// wantSMTPError checks that err is the reply code.enh.
func wantSMTPError(t testing.TB, err error, code int, enh smtp.EnhancedCode) *smtp.SMTPError {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want %d %v", err, code, enh)
	}
	if se.Code != code || se.EnhancedCode != enh {
		t.Fatalf("got %d %v %q, want %d %v", se.Code, se.EnhancedCode, se.Message, code, enh)
	}
	return se
}

func TestSMTPMemberStored(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	c := dialClient(t, e.addr)
	m := msg("Ana <"+memberAddr+">", engAddr, "Release plan", "plan-1@example.org", "Ship it on Monday.\r\n")
	if err := c.SendMail(memberAddr, []string{engAddr}, strings.NewReader(m)); err != nil {
		t.Fatal(err)
	}
	ms := e.wantStored(t, 1)
	if ms[0].Team != "eng" || ms[0].MessageID != "plan-1@example.org" || ms[0].From != memberAddr {
		t.Errorf("stored %+v", ms[0])
	}
	if got := string(e.raw(t, ms[0].Seq)); got != m {
		t.Errorf("raw bytes differ:\n%q\nwant\n%q", got, m)
	}
}

func TestSMTPNullSender(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	c := dialRaw(t, e.addr)
	c.hello()
	c.cmd("MAIL FROM:<>", 250, "2.0.0")
	c.cmd("RCPT TO:<"+engAddr+">", 250, "2.0.0")
}

func TestSMTPUnknownRecipient(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	c := dialClient(t, e.addr)
	if err := c.Mail(memberAddr, nil); err != nil {
		t.Fatal(err)
	}
	se := wantSMTPError(t, c.Rcpt("nobody@example.com", nil), 550, smtp.EnhancedCode{5, 1, 1})
	if want := "<nobody@example.com>: no such team address here"; se.Message != want {
		t.Errorf("reply %q, want %q", se.Message, want)
	}
	// The session goes on: a good recipient is still taken.
	if err := c.Rcpt(engAddr, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPTooManyRecipients(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{MaxRecipients: 2})
	c := dialClient(t, e.addr)
	if err := c.Mail(memberAddr, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.Rcpt(engAddr, nil); err != nil {
			t.Fatal(err)
		}
	}
	wantSMTPError(t, c.Rcpt(opsAddr, nil), 452, smtp.EnhancedCode{4, 5, 3})
}

func TestSMTPTooManyBadRecipients(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{MaxBadRecipients: 3})

	t.Run("one by one", func(t *testing.T) {
		c := dialRaw(t, e.addr)
		c.hello()
		c.cmd("MAIL FROM:<"+outsider+">", 250, "2.0.0")
		for i := range 3 {
			c.cmd(fmt.Sprintf("RCPT TO:<guess%d@example.com>", i), 550, "5.1.1")
		}
		// A good recipient does not reset the count.
		c.cmd("RCPT TO:<"+engAddr+">", 250, "2.0.0")
		c.cmd("RCPT TO:<guess3@example.com>", 421, "4.7.0")
		c.expectClosed()
	})

	t.Run("pipelined", func(t *testing.T) {
		c := dialRaw(t, e.addr)
		c.hello()
		var b strings.Builder
		b.WriteString("MAIL FROM:<" + outsider + ">\r\n")
		for i := range 10 {
			fmt.Fprintf(&b, "RCPT TO:<guess%d@example.com>\r\n", i)
		}
		b.WriteString("RCPT TO:<" + engAddr + ">\r\nDATA\r\n")
		c.send(b.String())
		c.expect(250, "2.0.0")
		for range 3 {
			c.expect(550, "5.1.1")
		}
		c.expect(421, "4.7.0")
		// Commands go-smtp had already buffered may still be answered, but
		// none is taken: the same 421, and go-smtp's own 502 for a DATA
		// without recipients.
		for {
			code, text, err := c.reply()
			var nerr net.Error
			if errors.As(err, &nerr) && nerr.Timeout() {
				t.Fatalf("connection still open: %v", err)
			}
			if err != nil {
				break
			}
			if !(code == 421 && strings.HasPrefix(text, "4.7.0") || code == 502) {
				t.Fatalf("got %d %s after the 421", code, text)
			}
		}
	})

	t.Run("count spans transactions", func(t *testing.T) {
		c := dialRaw(t, e.addr)
		c.hello()
		for i := range 3 {
			c.cmd("MAIL FROM:<"+outsider+">", 250, "2.0.0")
			c.cmd(fmt.Sprintf("RCPT TO:<guess%d@example.com>", i), 550, "5.1.1")
			c.cmd("RSET", 250, "")
		}
		c.cmd("MAIL FROM:<"+outsider+">", 250, "2.0.0")
		c.cmd("RCPT TO:<again@example.com>", 421, "4.7.0")
		c.expectClosed()
	})
}

func TestSMTPOversize(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{MaxMessageBytes: 2048})

	t.Run("body", func(t *testing.T) {
		c := dialRaw(t, e.addr)
		c.begin(memberAddr, engAddr)
		body := strings.Repeat("All work and no play makes Jack a dull boy.\r\n", 100) // 4,500 bytes
		c.send(msg(memberAddr, engAddr, "big", "big-1@example.org", body) + ".\r\n")
		text := c.expect(552, "5.3.4")
		if !strings.Contains(text, "2048") {
			t.Errorf("reply %q does not name the limit", text)
		}
		// The body was read to its end: the session is in step.
		c.cmd("NOOP", 250, "2.0.0")
		e.wantStored(t, 0)
	})

	t.Run("limit is exclusive", func(t *testing.T) {
		// go-smtp v0.25.1 refuses a body once it reaches MaxMessageBytes,
		// so the largest message taken is one byte smaller. The count is
		// of the message, not the end marker.
		sized := func(n int, id string) string {
			m := msg(memberAddr, engAddr, "sized", id, "")
			return m + strings.Repeat("x", n-len(m)-2) + "\r\n"
		}
		c := dialRaw(t, e.addr)
		c.begin(memberAddr, engAddr)
		c.send(sized(2047, "fits-1@example.org") + ".\r\n")
		if code, text, err := c.reply(); err != nil || code == 552 {
			t.Fatalf("a message of 2047 bytes got %d %s %v", code, text, err)
		}
		c.begin(memberAddr, engAddr)
		c.send(sized(2048, "fits-2@example.org") + ".\r\n")
		c.expect(552, "5.3.4")
	})

	t.Run("declared size", func(t *testing.T) {
		// RFC 1870 §6.1: a SIZE the server will not take is refused at
		// MAIL, before the body is sent; the limit is exclusive here too.
		for _, tt := range []struct {
			size int
			code int
			enh  string
		}{
			{4096, 552, "5.3.4"},
			{2048, 552, "5.3.4"},
			{2047, 250, "2.0.0"},
			{0, 250, "2.0.0"},
		} {
			c := dialRaw(t, e.addr)
			c.hello()
			c.cmd(fmt.Sprintf("MAIL FROM:<%s> SIZE=%d", memberAddr, tt.size), tt.code, tt.enh)
			// The session goes on.
			c.cmd("NOOP", 250, "2.0.0")
		}
	})
}

func TestSMTPLineTooLong(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{MaxLineLength: 1000})

	t.Run("command", func(t *testing.T) {
		c := dialRaw(t, e.addr)
		c.hello()
		c.send("MAIL FROM:<" + strings.Repeat("a", 1200) + "@example.org>\r\n")
		c.expect(500, "5.4.0")
		c.expectClosed()
	})

	t.Run("body", func(t *testing.T) {
		c := dialRaw(t, e.addr)
		c.begin(memberAddr, engAddr)
		c.send(msg(memberAddr, engAddr, "long", "long-1@example.org", strings.Repeat("y", 1200)+"\r\n") + ".\r\n")
		text := c.expect(500, "5.5.2")
		if !strings.Contains(text, "1000") {
			t.Errorf("reply %q does not name the limit", text)
		}
		// go-smtp adds its own 500 as it closes.
		c.expectClosed(500)
		e.wantStored(t, 0)
	})

	t.Run("at the limit", func(t *testing.T) {
		// 998 characters and CRLF: the longest line RFC 5321 allows.
		c := dialRaw(t, e.addr)
		c.begin(memberAddr, engAddr)
		c.send(msg(memberAddr, engAddr, "long", "long-2@example.org", strings.Repeat("z", 998)+"\r\n") + ".\r\n")
		if code, text, err := c.reply(); err != nil || code == 500 {
			t.Fatalf("a line of 998 characters got %d %s %v", code, text, err)
		}
	})
}

func TestSMTPSender(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	tests := []struct {
		name     string
		from     string
		rcpt     string
		wantTeam string // named in the refusal
	}{
		{"stranger", outsider, engAddr, "eng"},
		{"member of another team", memberAddr, opsAddr, "ops"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialClient(t, e.addr)
			m := msg(tt.from, tt.rcpt, "hello", fmt.Sprintf("sender-%d@example.org", i), "Hi.\r\n")
			se := wantSMTPError(t, c.SendMail(tt.from, []string{tt.rcpt}, strings.NewReader(m)), 550, smtp.EnhancedCode{5, 7, 1})
			if !strings.Contains(se.Message, "team "+tt.wantTeam) || !strings.Contains(se.Message, tt.from) {
				t.Errorf("refusal %q names neither team %s nor %s", se.Message, tt.wantTeam, tt.from)
			}
		})
	}
	e.wantStored(t, 0)
}

func TestSMTPDuplicate(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	m := msg(memberAddr, engAddr, "twice", "twice-1@example.org", "Said once.\r\n")
	for range 2 {
		c := dialClient(t, e.addr)
		if err := c.SendMail(memberAddr, []string{engAddr}, strings.NewReader(m)); err != nil {
			t.Fatal(err)
		}
	}
	e.wantStored(t, 1)
}

func TestSMTPStoreFailureIsTemporary(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	c := dialClient(t, e.addr)
	if err := c.Mail(memberAddr, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(engAddr, nil); err != nil {
		t.Fatal(err)
	}
	// The store goes away under the server, between RCPT and the end of DATA.
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, msg(memberAddr, engAddr, "lost", "lost-1@example.org", "Try again.\r\n"))
	se := wantSMTPError(t, w.Close(), 451, smtp.EnhancedCode{4, 3, 0})
	if se.Message != genericTemporary.Message {
		t.Errorf("reply %q leaks detail; want the generic text", se.Message)
	}
	// A recipient cannot be looked up either: 451 again, never 5xx.
	if err := c.Mail(memberAddr, nil); err != nil {
		t.Fatal(err)
	}
	wantSMTPError(t, c.Rcpt(engAddr, nil), 451, smtp.EnhancedCode{4, 3, 0})
}

// TestSMTPDeliverErrors covers what the pipeline cannot be made to do on
// purpose: a wrapped error, a wrapped rejection, a panic.
func TestSMTPDeliverErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		deliver func(context.Context, Delivery) (Outcome, error)
		code    int
		enh     smtp.EnhancedCode
	}{
		{"wrapped error", func(context.Context, Delivery) (Outcome, error) {
			return Outcome{}, fmt.Errorf("store message: %w", errors.New("disk on fire"))
		}, 451, smtp.EnhancedCode{4, 3, 0}},
		{"wrapped rejection", func(context.Context, Delivery) (Outcome, error) {
			return Outcome{}, fmt.Errorf("deliver: %w", &Rejection{Code: 554, Enhanced: [3]int{5, 6, 0}, Reason: "not mail"})
		}, 554, smtp.EnhancedCode{5, 6, 0}},
		{"panic", func(context.Context, Delivery) (Outcome, error) {
			panic("parser bug")
		}, 451, smtp.EnhancedCode{4, 3, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSMTPEnv(t, SMTPOptions{})
			e.srv.deliver = tt.deliver
			c := dialClient(t, e.addr)
			m := msg(memberAddr, engAddr, "x", "x-1@example.org", "x\r\n")
			se := wantSMTPError(t, c.SendMail(memberAddr, []string{engAddr}, strings.NewReader(m)), tt.code, tt.enh)
			if strings.Contains(se.Message, "fire") || strings.Contains(se.Message, "bug") {
				t.Errorf("reply %q leaks detail", se.Message)
			}
			// The server and the session survive.
			if err := c.Noop(); err != nil {
				t.Fatal(err)
			}
			if err := dialClient(t, e.addr).Noop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSMTPReply(t *testing.T) {
	t.Parallel()
	s := NewSMTPServer(nil, SMTPOptions{Domain: "mx.example.com", MaxMessageBytes: 1000})
	tests := []struct {
		name string
		err  error
		code int
		enh  smtp.EnhancedCode
	}{
		{"rejection", &Rejection{Code: 550, Enhanced: [3]int{5, 7, 1}, Reason: "no"}, 550, smtp.EnhancedCode{5, 7, 1}},
		{"wrapped rejection", fmt.Errorf("a: %w", &Rejection{Code: 552, Enhanced: [3]int{5, 3, 4}, Reason: "big"}), 552, smtp.EnhancedCode{5, 3, 4}},
		{"rejection with a bad code", &Rejection{Code: 250, Reason: "?"}, 554, smtp.EnhancedCode{5, 0, 0}},
		{"rejection with a mismatched enhanced code", &Rejection{Code: 550, Enhanced: [3]int{2, 0, 0}, Reason: "?"}, 550, smtp.EnhancedCode{5, 0, 0}},
		{"unknown recipient", &unknownRecipientError{addr: "x@y"}, 550, smtp.EnhancedCode{5, 1, 1}},
		{"too large", fmt.Errorf("read: %w", smtp.ErrDataTooLarge), 552, smtp.EnhancedCode{5, 3, 4}},
		{"line too long", fmt.Errorf("read: %w", smtp.ErrTooLongLine), 500, smtp.EnhancedCode{5, 5, 2}},
		{"smuggling", errSmuggling, 550, smtp.EnhancedCode{5, 5, 2}},
		{"timeout", fmt.Errorf("read: %w", &net.OpError{Op: "read", Err: timeoutError{}}), 421, smtp.EnhancedCode{4, 4, 2}},
		{"shutting down", errShuttingDown, 421, smtp.EnhancedCode{4, 3, 2}},
		{"too many connections", errTooManyConnections, 421, smtp.EnhancedCode{4, 4, 5}},
		{"too many connections from one address", errTooManyFromIP, 421, smtp.EnhancedCode{4, 7, 0}},
		{"budget exhausted", fmt.Errorf("read: %w", errInsufficientResources), 451, smtp.EnhancedCode{4, 3, 1}},
		{"too many bad recipients", errTooManyBadRecipients, 421, smtp.EnhancedCode{4, 7, 0}},
		{"store closed", fmt.Errorf("store: %w", store.ErrClosed), 451, smtp.EnhancedCode{4, 3, 0}},
		{"other smtp error", &smtp.SMTPError{Code: 554, Message: "x"}, 451, smtp.EnhancedCode{4, 3, 0}},
		{"unexpected EOF", io.ErrUnexpectedEOF, 451, smtp.EnhancedCode{4, 3, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.reply(tt.err)
			if r.Code != tt.code || r.EnhancedCode != tt.enh || r.Message == "" {
				t.Errorf("reply(%v) = %d %v %q, want %d %v", tt.err, r.Code, r.EnhancedCode, r.Message, tt.code, tt.enh)
			}
		})
	}
	if r := s.reply(nil); r != nil {
		t.Errorf("reply(nil) = %v", r)
	}
	if err := s.replyError(nil); err != nil {
		t.Errorf("replyError(nil) = %#v, want a nil error", err)
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
