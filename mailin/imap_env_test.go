package mailin

// The world the IMAP poller's tests run in: go-imap's in-memory server on
// 127.0.0.1:0, optionally behind a proxy that can cut connections and
// hide EXISTS pushes, a fresh store with team eng (ana a member), and a
// Prometheus registry of the test's own.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings/tidings/store"
)

const (
	imapUser = "team@example.com"
	imapPass = "s3cret pass"
)

type imapEnv struct {
	st      *store.Store
	pipe    *Pipeline
	user    *imapmemserver.User
	addr    string // where the poller connects: the server, or the proxy
	server  string // the server itself, for the test's own client
	pwFile  string
	tls     *tls.Config // the client side of the server's certificate, if any
	proxy   *imapProxy
	reg     *prometheus.Registry
	metrics *IMAPMetrics
	logs    *syncBuf
	log     *slog.Logger
}

// imapEnvOptions shape the server. The zero value is a plain IMAP4rev2
// server (IDLE, MOVE, UIDPLUS) reached directly.
type imapEnvOptions struct {
	caps  imap.CapSet // nil: IMAP4rev1 + IMAP4rev2
	tls   string      // "", "implicit" or "starttls"
	proxy bool
}

func newIMAPEnv(t *testing.T, o imapEnvOptions) *imapEnv {
	t.Helper()
	logs := &syncBuf{}
	tl := testLogger(t)
	log := slog.New(teeHandler{tl.Handler(), slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})})
	st, err := store.Open(filepath.Join(t.TempDir(), "tidings.db"), store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.AddTeam(store.Team{Name: "eng", Address: engAddr}); err != nil {
			return err
		}
		return tx.PutMember(store.Member{Address: memberAddr, Name: "Ana", Zone: "Europe/Berlin",
			Start: "09:00", Days: "mon-fri", Teams: map[string]string{"eng": store.ModeDigest}})
	})
	if err != nil {
		t.Fatal(err)
	}

	mem := imapmemserver.New()
	user := imapmemserver.NewUser(imapUser, imapPass)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	caps := o.caps
	if caps == nil {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	}
	sopts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: o.tls == "",
		Logger:       slogPrintf{log},
	}
	e := &imapEnv{st: st, pipe: NewPipeline(st, PipelineOptions{Domain: "example.com", Logger: log}), user: user,
		reg: prometheus.NewRegistry(), logs: logs, log: log}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.tls != "" {
		serverConf, clientConf := testTLS(t)
		e.tls = clientConf
		if o.tls == "implicit" {
			l = tls.NewListener(l, serverConf)
		} else {
			sopts.TLSConfig = serverConf
		}
	}
	srv := imapserver.New(sopts)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	e.server, e.addr = l.Addr().String(), l.Addr().String()
	if o.proxy {
		e.proxy = newIMAPProxy(t, e.server)
		e.addr = e.proxy.addr
	}
	e.metrics, err = NewIMAPMetrics(e.reg)
	if err != nil {
		t.Fatal(err)
	}
	e.pwFile = filepath.Join(t.TempDir(), "imap.pw")
	if err := os.WriteFile(e.pwFile, []byte(imapPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// options are a poller's options for this server, short timings included.
func (e *imapEnv) options() IMAPOptions {
	tlsMode := "none"
	if e.tls != nil {
		tlsMode = "implicit"
	}
	return IMAPOptions{
		Address: e.addr, TLS: tlsMode, TLSConfig: e.tls,
		Username: imapUser, PasswordFile: e.pwFile, Team: "eng",
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		// Renewed often: the in-memory server can miss an EXISTS push.
		IdleRenew: 300 * time.Millisecond,
		Logger:    e.log, Metrics: e.metrics,
	}
}

// run starts a poller and returns a function that stops it and waits for
// it; the test's end stops it too.
func (e *imapEnv) run(t *testing.T, opts IMAPOptions, tune ...func(*IMAPPoller)) (*IMAPPoller, func()) {
	t.Helper()
	p, err := NewIMAPPoller(e.pipe, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tune {
		f(p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("the poller did not stop within 20s")
		}
	}
	t.Cleanup(stop)
	return p, stop
}

// appendMail puts a message into a mailbox of the server, as delivery would.
func (e *imapEnv) appendMail(t *testing.T, mailbox, raw string) {
	t.Helper()
	if _, err := e.user.Append(mailbox, bytes.NewReader([]byte(raw)), &imap.AppendOptions{}); err != nil {
		t.Fatalf("append to %s: %v", mailbox, err)
	}
}

// imapMsg is a message as the server holds it.
type imapMsg struct {
	UID       uint32
	MessageID string
	Flags     []imap.Flag
}

func (m imapMsg) has(f imap.Flag) bool {
	for _, g := range m.Flags {
		if strings.EqualFold(string(g), string(f)) {
			return true
		}
	}
	return false
}

// mailbox lists a mailbox through a client of the test's own.
func (e *imapEnv) mailbox(t *testing.T, name string) []imapMsg {
	t.Helper()
	ms, err := e.tryMailbox(name)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// tryMailbox is mailbox for one that may not exist yet.
func (e *imapEnv) tryMailbox(name string) ([]imapMsg, error) {
	var c *imapclient.Client
	var err error
	if e.tls != nil {
		c, err = imapclient.DialTLS(e.server, &imapclient.Options{TLSConfig: e.tls})
		if err != nil {
			// The server may speak STARTTLS instead.
			c, err = imapclient.DialStartTLS(e.server, &imapclient.Options{TLSConfig: e.tls})
		}
	} else {
		c, err = imapclient.DialInsecure(e.server, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", e.server, err)
	}
	defer c.Close()
	if err := c.Login(imapUser, imapPass).Wait(); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	sel, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", name, err)
	}
	if sel.NumMessages == 0 {
		return nil, nil
	}
	bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", name, err)
	}
	var out []imapMsg
	for _, b := range bufs {
		m := imapMsg{UID: uint32(b.UID), Flags: b.Flags}
		if b.Envelope != nil {
			m.MessageID = b.Envelope.MessageID
		}
		out = append(out, m)
	}
	return out, nil
}

// waitFor polls cond until it holds, or fails the test after 20 s: the
// tests wait on state, never on a push or a fixed sleep.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *imapEnv) messages(t *testing.T) []store.Message {
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

func (e *imapEnv) waitStored(t *testing.T, n int) []store.Message {
	t.Helper()
	waitFor(t, "messages stored", func() bool { return len(e.messages(t)) >= n })
	ms := e.messages(t)
	if len(ms) != n {
		t.Fatalf("stored %d messages, want %d", len(ms), n)
	}
	return ms
}

func (e *imapEnv) pos(t *testing.T, key string) store.MailboxPos {
	t.Helper()
	var pos store.MailboxPos
	err := e.st.View(func(tx *store.Tx) error {
		var err error
		pos, _, err = tx.MailboxPos(key)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

// metric is the value of one series in the env's registry (0 if absent).
func (e *imapEnv) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}
	return 0
}

// imapProxy relays connections to an IMAP server. It can cut them all,
// counts the IDLE commands clients send, and can hide EXISTS pushes.
type imapProxy struct {
	addr       string
	idles      atomic.Int64
	hideExists atomic.Bool
	// fail, when set, makes the server seem to refuse the client commands
	// it matches (after the tag): their tagged answer becomes a NO, and
	// with swallow everything the server says before it is dropped too,
	// as from a server that could not read the messages asked for.
	fail    atomic.Pointer[regexp.Regexp]
	swallow atomic.Bool

	mu      sync.Mutex
	conns   []net.Conn
	failing map[string]bool // tags of commands being made to fail
}

// failTagged rewrites a server line for a command being made to fail, or
// drops it; it reports what to send instead (nil: nothing).
func (p *imapProxy) failTagged(line []byte) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failing) == 0 {
		return line
	}
	tag, _, _ := strings.Cut(string(line), " ")
	if p.failing[tag] {
		delete(p.failing, tag)
		return []byte(tag + " NO [OVERQUOTA] refused by the test\r\n")
	}
	if p.swallow.Load() {
		return nil
	}
	return line
}

var existsLine = regexp.MustCompile(`^\* \d+ EXISTS\r\n$`)

func newIMAPProxy(t *testing.T, target string) *imapProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &imapProxy{addr: l.Addr().String()}
	t.Cleanup(func() { l.Close(); p.drop() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go p.pipe(c, s, func(line []byte) []byte {
				if p.hideExists.Load() && existsLine.Match(line) {
					return nil
				}
				return p.failTagged(line)
			})
			go p.pipe(s, c, func(line []byte) []byte {
				f := strings.Fields(string(line))
				if len(f) == 2 && strings.EqualFold(f[1], "IDLE") {
					p.idles.Add(1)
				}
				if re := p.fail.Load(); re != nil && len(f) > 1 && re.MatchString(strings.TrimPrefix(string(line), f[0]+" ")) {
					p.mu.Lock()
					if p.failing == nil {
						p.failing = map[string]bool{}
					}
					p.failing[f[0]] = true
					p.mu.Unlock()
				}
				return line
			})
		}
	}()
	return p
}

// pipe copies line by line from src to dst, as edit has each line (nil:
// left out).
func (p *imapProxy) pipe(dst, src net.Conn, edit func([]byte) []byte) {
	defer dst.Close()
	defer src.Close()
	r := bufio.NewReader(src)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			line = edit(line)
		}
		if len(line) > 0 {
			if _, werr := dst.Write(line); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// drop closes every connection relayed so far, as a server restart would.
func (p *imapProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// testTLS makes a self-signed certificate for 127.0.0.1 and the two sides'
// configurations.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imap test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

// syncBuf collects log output for assertions.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// teeHandler sends each record to two handlers.
type teeHandler [2]slog.Handler

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h[0].Enabled(ctx, l) || h[1].Enabled(ctx, l)
}

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, x := range h {
		if x.Enabled(ctx, r.Level) {
			if err := x.Handle(ctx, r.Clone()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{h[0].WithAttrs(as), h[1].WithAttrs(as)}
}

func (h teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{h[0].WithGroup(name), h[1].WithGroup(name)}
}

// slogPrintf is the in-memory server's logger.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(format string, args ...any) {
	l.log.Debug("imap test server", "line", strings.TrimSpace(fmt.Sprintf(format, args...)))
}
