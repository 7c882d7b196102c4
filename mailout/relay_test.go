package mailout

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tidings/tidings/store"
)

// relayServer is an SMTP relay on loopback, a go-smtp server whose answers
// the test scripts.
type relayServer struct {
	t    *testing.T
	addr string
	tls  *tls.Config // offered for STARTTLS, or implicit when implicit
	opts serverOpts

	mu       sync.Mutex
	srv      *smtp.Server
	dataAns  []error          // the answers to successive DATA; past the end, 250
	rcptAns  map[string]error // an answer to RCPT TO of an address
	got      []gotMail        // mail answered 250
	sessions []gotSession     // every connection's session, in order
	conns    map[*smtp.Conn]int
	ln       net.Listener
	open     int // sessions open now
	inData   int // sessions inside Data now
	// maxInData is the most sessions inside Data at once. Data returns
	// before its client hears the answer, so this never counts the next
	// connection a client opens as overlapping, as counting open sessions
	// would (a session ends on the server a little after its client is
	// done with it).
	maxInData int
	release   chan struct{} // when set, Data waits for it to close
}

type serverOpts struct {
	startTLS bool  // offer STARTTLS
	implicit bool  // TLS from the first byte
	auth     bool  // require AUTH PLAIN as relay/secret
	silent   bool  // accept connections and never greet
	mailAns  error // the answer to MAIL FROM, when set
}

type gotMail struct {
	from string
	to   []string
	raw  []byte
}

type gotSession struct {
	user  string
	tls   bool // TLS is on, from the start or after STARTTLS
	rcpts []string
}

var (
	ans451 = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	ans550 = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<bo@example.com>: user unknown"}
)

// newRelayServer starts a relay on 127.0.0.1:0, stopped when the test ends.
func newRelayServer(t *testing.T, o serverOpts) *relayServer {
	t.Helper()
	s := &relayServer{t: t, opts: o, rcptAns: map[string]error{}, conns: map[*smtp.Conn]int{}}
	if o.startTLS || o.implicit {
		s.tls = selfSigned(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.down)
	return s
}

func (s *relayServer) serve(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	if s.opts.silent {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				s.t.Cleanup(func() { c.Close() })
			}
		}()
		s.srv = smtp.NewServer(s)
		return
	}
	srv := smtp.NewServer(s)
	srv.Domain = "relay.test"
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	srv.ErrorLog = log.New(tWriter{s.t}, "relay server: ", 0)
	if s.opts.startTLS {
		srv.TLSConfig = s.tls
	}
	if s.opts.implicit {
		ln = tls.NewListener(ln, s.tls)
	}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

// down stops the relay: connections are refused until up.
func (s *relayServer) down() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.mu.Unlock()
	// The listener too: Serve may not have taken it yet.
	ln.Close()
	srv.Close()
}

// up starts the relay again on the same address.
func (s *relayServer) up() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("relay up again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

func (s *relayServer) mails() []gotMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

func (s *relayServer) allSessions() []gotSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sessions)
}

// NewSession implements smtp.Backend.
func (s *relayServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, isTLS := c.TLSConnectionState()
	s.open++
	// After STARTTLS the same connection gets a new session.
	if n, ok := s.conns[c]; ok {
		s.sessions[n].tls = isTLS
		return &relaySession{s: s, n: n}, nil
	}
	s.sessions = append(s.sessions, gotSession{tls: isTLS})
	s.conns[c] = len(s.sessions) - 1
	return &relaySession{s: s, n: len(s.sessions) - 1}, nil
}

type relaySession struct {
	s    *relayServer
	n    int // index in s.sessions
	auth bool
	from string
	to   []string
}

func (ss *relaySession) AuthMechanisms() []string {
	if !ss.s.opts.auth {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *relaySession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		ss.s.mu.Lock()
		defer ss.s.mu.Unlock()
		ss.s.sessions[ss.n].user = user + ":" + pass
		if user != "relay" || pass != "secret" {
			return smtp.ErrAuthFailed
		}
		ss.auth = true
		return nil
	}), nil
}

func (ss *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.auth && !ss.auth {
		return smtp.ErrAuthRequired
	}
	if ss.s.opts.mailAns != nil {
		return ss.s.opts.mailAns
	}
	ss.from = from
	return nil
}

func (ss *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	ss.s.sessions[ss.n].rcpts = append(ss.s.sessions[ss.n].rcpts, to)
	if err := ss.s.rcptAns[to]; err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *relaySession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.s
	s.mu.Lock()
	s.inData++
	s.maxInData = max(s.maxInData, s.inData)
	release := s.release
	s.mu.Unlock()
	if release != nil {
		<-release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inData--
	if len(s.dataAns) > 0 {
		ans := s.dataAns[0]
		s.dataAns = s.dataAns[1:]
		if ans != nil {
			return ans
		}
	}
	s.got = append(s.got, gotMail{from: ss.from, to: slices.Clone(ss.to), raw: raw})
	return nil
}

func (ss *relaySession) Reset() { ss.from, ss.to = "", nil }

func (ss *relaySession) Logout() error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	ss.s.open--
	return nil
}

// selfSigned makes a certificate for 127.0.0.1 and returns the server's
// configuration; clientTLS trusts it.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "relay.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// clientTLS trusts the relay's self-signed certificate.
func (s *relayServer) clientTLS() *tls.Config {
	pool := x509.NewCertPool()
	cert, err := x509.ParseCertificate(s.tls.Certificates[0].Certificate[0])
	if err != nil {
		s.t.Fatal(err)
	}
	pool.AddCert(cert)
	return &tls.Config{RootCAs: pool}
}

// manualClock is a clock the test moves by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

// relayDeliverer is a Deliverer to s on a clock the test moves, with no
// TLS (the relay is on loopback).
func relayDeliverer(t *testing.T, s *relayServer) (*Deliverer, *manualClock, *store.Store) {
	t.Helper()
	st, _ := openStore(t)
	clk := &manualClock{t: t0}
	r := &Relay{Addr: s.addr, TLS: TLSNone, Logger: testLogger(t)}
	return &Deliverer{Store: st, Transport: r, Now: clk.Now, Logger: testLogger(t)}, clk, st
}

// pass runs one delivery pass at instant at.
func pass(t *testing.T, d *Deliverer, clk *manualClock, at time.Time) {
	t.Helper()
	clk.Set(at)
	d.setup()
	if _, _, err := d.deliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// enqueue puts raw mail for recipients to into the outbox at t0.
func enqueue(t *testing.T, st *store.Store, to ...string) uint64 {
	t.Helper()
	m := testMail(1)
	m.Date = t0
	raw, err := Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	var id uint64
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		om := &store.OutMail{MessageID: m.MessageID, Kind: "digest", From: "eng@example.com", To: to, Queued: t0}
		if err := tx.Enqueue(om, raw); err != nil {
			return err
		}
		id = om.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRelayRetries drives the Deliverer against a real relay on a clock
// the test moves: what is tried when, and what the record says.
func TestRelayRetries(t *testing.T) {
	t.Parallel()

	t.Run("451 then 250", func(t *testing.T) {
		t.Parallel()
		s := newRelayServer(t, serverOpts{})
		s.dataAns = []error{ans451}
		d, clk, st := relayDeliverer(t, s)
		id := enqueue(t, st, "ana@example.com")

		pass(t, d, clk, t0)
		m, _ := outMail(t, st, id)
		if m.State != store.OutQueued || m.Attempts != 1 || !m.NextAttempt.Equal(t0.Add(time.Minute)) ||
			!strings.HasPrefix(m.LastAnswer, "451 4.3.0 Try again later") {
			t.Fatalf("after a 451: %+v", m)
		}
		pass(t, d, clk, t0.Add(59*time.Second))
		if n := len(s.allSessions()); n != 1 {
			t.Fatalf("%d sessions before the retry was due", n)
		}
		pass(t, d, clk, t0.Add(time.Minute))
		m, raw := outMail(t, st, id)
		if m.State != store.OutSent || m.Attempts != 2 || !m.Done.Equal(t0.Add(time.Minute)) {
			t.Errorf("after the 250: %+v", m)
		}
		got := s.mails()
		if len(got) != 1 || !bytes.Equal(got[0].raw, raw) || got[0].from != "eng@example.com" || !slices.Equal(got[0].to, []string{"ana@example.com"}) {
			t.Errorf("relay took %d mails: %+v", len(got), got)
		}
		pass(t, d, clk, t0.Add(time.Hour))
		if n := len(s.mails()); n != 1 {
			t.Errorf("delivered %d times", n)
		}
	})

	t.Run("550 at DATA fails at once", func(t *testing.T) {
		t.Parallel()
		s := newRelayServer(t, serverOpts{})
		s.dataAns = []error{ans550}
		d, clk, st := relayDeliverer(t, s)
		id := enqueue(t, st, "bo@example.com")
		pass(t, d, clk, t0)
		m, _ := outMail(t, st, id)
		if m.State != store.OutFailed || m.Attempts != 1 || !m.Done.Equal(t0) ||
			!strings.HasPrefix(m.LastAnswer, "550 5.1.1 <bo@example.com>: user unknown") {
			t.Errorf("after a 550: %+v", m)
		}
		pass(t, d, clk, t0.Add(24*time.Hour))
		if n := len(s.allSessions()); n != 1 {
			t.Errorf("%d sessions: a failed mail was tried again", n)
		}
	})

	t.Run("relay down for a while", func(t *testing.T) {
		t.Parallel()
		s := newRelayServer(t, serverOpts{})
		s.down()
		d, clk, st := relayDeliverer(t, s)
		id := enqueue(t, st, "ana@example.com")
		for _, at := range []time.Duration{0, time.Minute, 3 * time.Minute} {
			pass(t, d, clk, t0.Add(at))
		}
		m, _ := outMail(t, st, id)
		if m.State != store.OutQueued || m.Attempts != 3 || !m.NextAttempt.Equal(t0.Add(7*time.Minute)) ||
			!strings.Contains(m.LastAnswer, "connection refused") {
			t.Fatalf("with the relay down: %+v", m)
		}
		s.up()
		pass(t, d, clk, t0.Add(6*time.Minute))
		if len(s.mails()) != 0 {
			t.Fatal("tried before the retry was due")
		}
		pass(t, d, clk, t0.Add(7*time.Minute))
		m, _ = outMail(t, st, id)
		if m.State != store.OutSent || m.Attempts != 4 || len(s.mails()) != 1 {
			t.Errorf("with the relay back: %+v, %d mails at the relay", m, len(s.mails()))
		}
	})

	t.Run("relay down past the lifetime", func(t *testing.T) {
		t.Parallel()
		s := newRelayServer(t, serverOpts{})
		s.down()
		d, clk, st := relayDeliverer(t, s)
		d.Lifetime = 10 * time.Minute
		id := enqueue(t, st, "ana@example.com")
		for _, at := range []time.Duration{0, time.Minute, 3 * time.Minute, 7 * time.Minute, 10 * time.Minute} {
			pass(t, d, clk, t0.Add(at))
		}
		m, _ := outMail(t, st, id)
		if m.State != store.OutFailed || m.Attempts != 5 || !strings.HasPrefix(m.LastAnswer, "lifetime over: ") {
			t.Errorf("after the lifetime: %+v", m)
		}
	})

	t.Run("retried by hand after the lifetime", func(t *testing.T) {
		t.Parallel()
		s := newRelayServer(t, serverOpts{})
		s.down()
		d, clk, st := relayDeliverer(t, s)
		d.Lifetime = 10 * time.Minute
		id := enqueue(t, st, "ana@example.com")
		for _, at := range []time.Duration{0, time.Minute, 3 * time.Minute, 7 * time.Minute, 10 * time.Minute} {
			pass(t, d, clk, t0.Add(at))
		}
		// Requeued long after: a fresh lifetime, and the backoff starts
		// again from a minute.
		retried := t0.Add(24 * time.Hour)
		if err := st.Update(context.Background(), func(tx *store.Tx) error {
			_, err := tx.RetryOutMail(id, retried)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		pass(t, d, clk, retried)
		m, _ := outMail(t, st, id)
		if m.State != store.OutQueued || m.Attempts != 6 || !m.NextAttempt.Equal(retried.Add(time.Minute)) {
			t.Fatalf("first attempt after the retry: %+v", m)
		}
		s.up()
		pass(t, d, clk, retried.Add(time.Minute))
		m, _ = outMail(t, st, id)
		if m.State != store.OutSent || m.Attempts != 7 || len(s.mails()) != 1 {
			t.Errorf("second attempt after the retry: %+v", m)
		}
	})

	t.Run("recipients differ", func(t *testing.T) {
		t.Parallel()
		s := newRelayServer(t, serverOpts{})
		s.rcptAns["bo@example.com"] = ans550
		s.rcptAns["cy@example.com"] = ans451
		d, clk, st := relayDeliverer(t, s)
		id := enqueue(t, st, "ana@example.com", "bo@example.com", "cy@example.com")

		pass(t, d, clk, t0)
		m, _ := outMail(t, st, id)
		want := []store.RcptResult{
			{Addr: "ana@example.com", State: store.OutSent},
			{Addr: "bo@example.com", State: store.OutFailed, Answer: "550 5.1.1 <bo@example.com>: user unknown (to RCPT TO:<bo@example.com>)"},
			{Addr: "cy@example.com", State: store.OutQueued, Answer: "451 4.3.0 Try again later (to RCPT TO:<cy@example.com>)"},
		}
		if m.State != store.OutQueued || !slices.Equal(m.Recipients, want) || !m.NextAttempt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("after the first attempt: %+v\nwant recipients %+v", m, want)
		}
		if got := s.mails(); len(got) != 1 || !slices.Equal(got[0].to, []string{"ana@example.com"}) {
			t.Fatalf("relay took %+v", got)
		}

		// Only the recipient refused for now is tried again; with none
		// left to try and one refused for good, the mail is failed.
		s.mu.Lock()
		delete(s.rcptAns, "cy@example.com")
		s.mu.Unlock()
		pass(t, d, clk, t0.Add(time.Minute))
		m, _ = outMail(t, st, id)
		if ss := s.allSessions(); len(ss) != 2 || !slices.Equal(ss[1].rcpts, []string{"cy@example.com"}) {
			t.Errorf("second session: %+v, want only cy", ss)
		}
		if m.State != store.OutFailed || m.Recipients[2].State != store.OutSent || m.Recipients[1].State != store.OutFailed {
			t.Fatalf("after the second attempt: %+v", m)
		}

		// Requeued by hand once bo exists: only bo is sent to.
		s.mu.Lock()
		delete(s.rcptAns, "bo@example.com")
		s.mu.Unlock()
		if err := st.Update(context.Background(), func(tx *store.Tx) error {
			_, err := tx.RetryOutMail(id, t0.Add(time.Hour))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		pass(t, d, clk, t0.Add(time.Hour))
		m, _ = outMail(t, st, id)
		if ss := s.allSessions(); len(ss) != 3 || !slices.Equal(ss[2].rcpts, []string{"bo@example.com"}) {
			t.Errorf("third session: %+v, want only bo", ss)
		}
		if m.State != store.OutSent || m.Attempts != 3 {
			t.Errorf("after the retry: %+v", m)
		}
	})

	t.Run("every recipient refused", func(t *testing.T) {
		t.Parallel()
		s := newRelayServer(t, serverOpts{})
		s.rcptAns["bo@example.com"] = ans550
		d, clk, st := relayDeliverer(t, s)
		id := enqueue(t, st, "bo@example.com")
		pass(t, d, clk, t0)
		m, _ := outMail(t, st, id)
		if m.State != store.OutFailed || !strings.HasPrefix(m.LastAnswer, "550 5.1.1") || len(s.mails()) != 0 {
			t.Errorf("%+v", m)
		}
	})
}

func testOutMail(to ...string) (store.OutMail, []byte) {
	m := testMail(1)
	m.Date = t0
	raw, err := Compose(m)
	if err != nil {
		panic(err)
	}
	return store.OutMail{ID: 1, MessageID: m.MessageID, From: "eng@example.com", To: to}, raw
}

// TestRelaySecurity: STARTTLS, implicit TLS and AUTH PLAIN, and what
// happens when the relay lacks them.
func TestRelaySecurity(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		server   serverOpts
		relay    *Relay
		trust    bool   // trust the server's certificate
		wantErr  string // "" means delivered
		wantUser string
		wantTLS  bool
	}{
		{name: "starttls with auth", server: serverOpts{startTLS: true, auth: true},
			relay: &Relay{TLS: TLSStartTLS, Username: "relay", Password: "secret"}, trust: true,
			wantUser: "relay:secret", wantTLS: true},
		{name: "starttls is the default", server: serverOpts{startTLS: true},
			relay: &Relay{}, trust: true, wantTLS: true},
		{name: "starttls not offered", server: serverOpts{},
			relay: &Relay{TLS: TLSStartTLS}, wantErr: "STARTTLS"},
		{name: "certificate not trusted", server: serverOpts{startTLS: true},
			relay: &Relay{TLS: TLSStartTLS}, wantErr: "certificate"},
		{name: "implicit tls", server: serverOpts{implicit: true, auth: true},
			relay: &Relay{TLS: TLSImplicit, Username: "relay", Password: "secret"}, trust: true,
			wantUser: "relay:secret", wantTLS: true},
		{name: "wrong password", server: serverOpts{startTLS: true, auth: true},
			relay: &Relay{Username: "relay", Password: "wrong"}, trust: true,
			wantErr: "535 5.7.8", wantUser: "relay:wrong"},
		{name: "no auth offered", server: serverOpts{startTLS: true},
			relay: &Relay{Username: "relay", Password: "secret"}, trust: true, wantErr: "AUTH PLAIN"},
		{name: "plain on loopback", server: serverOpts{},
			relay: &Relay{TLS: TLSNone}},
		{name: "login needed, none configured", server: serverOpts{auth: true},
			relay: &Relay{TLS: TLSNone}, wantErr: "5.7.0"},
		{name: "sender the login may not use", server: serverOpts{mailAns: &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
			Message: "Sender address rejected: not owned by user relay"}},
			relay: &Relay{TLS: TLSNone}, wantErr: "553 5.7.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newRelayServer(t, c.server)
			r := c.relay
			r.Addr, r.Logger = s.addr, testLogger(t)
			if c.trust {
				r.TLSConfig = s.clientTLS()
			}
			m, raw := testOutMail("ana@example.com")
			err := r.Deliver(context.Background(), m, raw)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("Deliver: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("Deliver = %v, want an error with %q", err, c.wantErr)
			case c.wantErr != "" && permanent(err):
				t.Errorf("Deliver = %v: a relay's or configuration's fault must be temporary", err)
			}
			got := s.mails()
			if (len(got) == 1) != (c.wantErr == "") {
				t.Errorf("relay took %d mails", len(got))
			}
			ss := s.allSessions()
			if len(ss) != 1 {
				t.Fatalf("%d sessions", len(ss))
			}
			if ss[0].user != c.wantUser {
				t.Errorf("relay saw credentials %q, want %q", ss[0].user, c.wantUser)
			}
			if c.wantErr == "" && c.wantTLS != ss[0].tls {
				t.Errorf("mail sent with TLS: %v, want %v", ss[0].tls, c.wantTLS)
			}
		})
	}
}

// TestRelayTimeout: a relay that never answers is a temporary failure
// once the timeout passes.
func TestRelayTimeout(t *testing.T) {
	t.Parallel()
	s := newRelayServer(t, serverOpts{silent: true})
	for _, mode := range []string{TLSNone, TLSStartTLS} {
		r := &Relay{Addr: s.addr, TLS: mode, DialTimeout: 50 * time.Millisecond, CommandTimeout: 50 * time.Millisecond}
		m, raw := testOutMail("ana@example.com")
		err := r.Deliver(context.Background(), m, raw)
		var ne net.Error
		if err == nil || permanent(err) || !(errors.As(err, &ne) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "closed")) {
			t.Errorf("%s: Deliver = %v, want a temporary network error", mode, err)
		}
	}
	// Cancelling the context ends a delivery at once.
	r := &Relay{Addr: s.addr, TLS: TLSNone}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	m, raw := testOutMail("ana@example.com")
	go func() { done <- r.Deliver(ctx, m, raw) }()
	cancel()
	if err := <-done; err == nil {
		t.Error("Deliver after cancel: no error")
	}
}

// TestRelayConnectionsBounded: no more than MaxConnections sessions at once,
// and that many in parallel.
func TestRelayConnectionsBounded(t *testing.T) {
	t.Parallel()
	s := newRelayServer(t, serverOpts{})
	release := make(chan struct{})
	s.release = release
	r := &Relay{Addr: s.addr, TLS: TLSNone, MaxConnections: 2, Logger: testLogger(t)}
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			m, raw := testOutMail(fmt.Sprintf("m%d@example.com", i))
			errs <- r.Deliver(context.Background(), m, raw)
		})
	}
	// Wait until two sessions sit in DATA, then give a third every chance
	// to open.
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		in := s.inData
		s.mu.Unlock()
		if in >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions in DATA, want 2", in)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	s.mu.Lock()
	open := s.open
	s.mu.Unlock()
	if open != 2 {
		t.Errorf("%d sessions open with MaxConnections 2", open)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxInData != 2 || len(s.got) != n {
		t.Errorf("at most %d sessions at once, %d mails, want 2 and %d", s.maxInData, len(s.got), n)
	}
}

// TestRelayDKIM: what reaches the relay carries a signature that verifies,
// while the outbox keeps the mail unsigned.
func TestRelayDKIM(t *testing.T) {
	t.Parallel()
	s := newRelayServer(t, serverOpts{})
	d, clk, st := relayDeliverer(t, s)
	k := &DKIM{Domain: "example.com", Selector: "tidings", Key: testRSAKey()}
	d.Transport.(*Relay).DKIM = k
	id := enqueue(t, st, "ana@example.com")
	pass(t, d, clk, t0)
	got := s.mails()
	if len(got) != 1 {
		t.Fatalf("relay took %d mails", len(got))
	}
	vs := verifyDKIM(t, k, got[0].raw)
	if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "example.com" {
		t.Errorf("verifications %+v, want one valid", vs)
	}
	if _, raw := outMail(t, st, id); bytes.Contains(raw, []byte("DKIM-Signature")) || !bytes.HasSuffix(got[0].raw, raw) {
		t.Error("the outbox must keep the bytes as queued, and the relay get them after the signature")
	}
}

// TestRelayWithoutSMTPUTF8: an internationalised address the relay cannot
// take fails at once; waiting would not change the relay.
func TestRelayWithoutSMTPUTF8(t *testing.T) {
	t.Parallel()
	s := newRelayServer(t, serverOpts{})
	r := &Relay{Addr: s.addr, TLS: TLSNone, Logger: testLogger(t)}
	m, raw := testOutMail("zoë@exämple.com")
	if err := r.Deliver(context.Background(), m, raw); err == nil || !permanent(err) || !strings.Contains(err.Error(), "SMTPUTF8") {
		t.Fatalf("Deliver = %v, want a permanent failure naming SMTPUTF8", err)
	}
	if got := s.mails(); len(got) != 0 {
		t.Errorf("relay took %d mails", len(got))
	}
}
