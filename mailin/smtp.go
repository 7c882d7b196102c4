package mailin

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// Defaults of SMTPOptions.
const (
	DefaultSMTPListen          = "127.0.0.1:2525"
	DefaultMaxMessageBytes     = 25 << 20
	DefaultMaxRecipients       = 50
	DefaultMaxLineLength       = 2000 // twice the RFC 5321 §4.5.3.1.6 limit, as go-smtp does
	DefaultSMTPReadTimeout     = 5 * time.Minute
	DefaultSMTPWriteTimeout    = time.Minute
	DefaultMaxConnections      = 200
	DefaultMaxConnectionsPerIP = 50 // room for a relay on the same host: Postfix opens up to 20 per destination, and closing ones linger
	DefaultMaxInflightBytes    = 256 << 20
	DefaultMaxBadRecipients    = 20
	DefaultSMTPShutdownGrace   = 30 * time.Second

	// defaultBudgetWait is how long a session that holds no budget waits
	// for some before its message is deferred.
	defaultBudgetWait = 10 * time.Second

	// minLineLength is the longest text line (with CRLF) RFC 5321
	// §4.5.3.1.6 obliges every server to take.
	minLineLength = 1000
)

// ErrSMTPClosed is returned by Serve and ListenAndServe when the server was
// shut down before they were called.
var ErrSMTPClosed = errors.New("mailin: smtp server closed")

// SMTPOptions configure an SMTPServer. The zero value is safe: every zero
// field takes the default noted beside it.
type SMTPOptions struct {
	// Listen is the address ListenAndServe binds (default "127.0.0.1:2525").
	Listen string
	// Domain is the host name in the greeting (default "localhost").
	Domain string
	// TLS enables STARTTLS when set. Nil offers plain text only.
	TLS *tls.Config
	// MaxMessageBytes bounds the size of a message, counted as it arrives
	// (default 25 MiB) and advertised as SIZE. go-smtp v0.25.1 treats it as
	// exclusive: a message that reaches it is refused with 552 5.3.4.
	MaxMessageBytes int64
	// MaxRecipients is how many recipients one message may have (default 50);
	// further RCPTs get 452 4.5.3.
	MaxRecipients int
	// MaxLineLength is the longest line taken, in commands and in the body
	// (default 2000; values below RFC 5321's 1000 are raised to 1000).
	MaxLineLength int
	// ReadTimeout bounds the wait for each command line (default 5 min).
	// go-smtp sets it once at DATA, so it also bounds reading the whole body.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing each reply (default 1 min).
	WriteTimeout time.Duration
	// MaxConnections is how many connections are served at once (default
	// 200). Beyond it a connection gets a 421 line and is closed.
	MaxConnections int
	// MaxConnectionsPerIP is how many of those may come from one IPv4
	// address, or one IPv6 /64 (default 50); beyond it a connection gets
	// 421 4.7.0 and is closed. Loopback is counted like any address.
	MaxConnectionsPerIP int
	// MaxInflightBytes bounds the bytes of message bodies held in memory at
	// once, by all sessions together (default 256 MiB). A session counts a
	// body as it arrives: all of a declared SIZE before reading, otherwise in
	// steps of 64 KiB; it gives the bytes back once the message is answered.
	// A session that holds none waits up to 10 s for some; one already
	// reading a body never waits. When the bytes cannot be had the message
	// gets 451 4.3.1, after the rest of it has been read and discarded, and
	// the sender tries again later. One session counts at most the whole
	// budget: a message larger than the budget is taken when it arrives
	// alone, so memory held for bodies stays under about
	// max(MaxInflightBytes, MaxMessageBytes), plus what the pipeline makes
	// of the messages (which the budget bounds in proportion), plus brief
	// copies while a body is joined or its line endings rewritten.
	MaxInflightBytes int64
	// MaxBadRecipients is how many unknown recipients one connection may try
	// (default 20); the next one is answered 421 and the connection closed.
	MaxBadRecipients int
	// ShutdownGrace is how long ListenAndServe lets sessions finish once its
	// context ends (default 30 s).
	ShutdownGrace time.Duration
	// Logger receives one line per message and the server's errors; nil
	// discards them.
	Logger *slog.Logger
}

func (o *SMTPOptions) applyDefaults() {
	if o.Listen == "" {
		o.Listen = DefaultSMTPListen
	}
	if o.Domain == "" {
		o.Domain = "localhost"
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.MaxRecipients <= 0 {
		o.MaxRecipients = DefaultMaxRecipients
	}
	if o.MaxLineLength <= 0 {
		o.MaxLineLength = DefaultMaxLineLength
	}
	if o.MaxLineLength < minLineLength {
		o.MaxLineLength = minLineLength
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultSMTPReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultSMTPWriteTimeout
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxConnectionsPerIP <= 0 {
		o.MaxConnectionsPerIP = DefaultMaxConnectionsPerIP
	}
	if o.MaxInflightBytes <= 0 {
		o.MaxInflightBytes = DefaultMaxInflightBytes
	}
	if o.MaxBadRecipients <= 0 {
		o.MaxBadRecipients = DefaultMaxBadRecipients
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = DefaultSMTPShutdownGrace
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// SMTPServer takes team mail by SMTP and hands each message to a Pipeline.
// It answers 250 only once the pipeline has the message on disk.
type SMTPServer struct {
	p    *Pipeline
	opts SMTPOptions
	log  *slog.Logger
	srv  *smtp.Server

	// deliver is p.Deliver; tests replace it to make deliveries fail or panic.
	deliver func(context.Context, Delivery) (Outcome, error)

	// ctx is what deliveries run under: Shutdown lets them finish, Close
	// cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	idPrefix string
	nextID   atomic.Uint64

	// budget counts the message bytes sessions hold (MaxInflightBytes);
	// chunks recycles the buffers bodies are read into.
	budget     *budget
	budgetWait time.Duration // tests shorten it
	chunks     sync.Pool

	closing   atomic.Bool // set by Shutdown and Close; read under mu or lock-free
	mu        sync.Mutex  // guards listeners, conns and perIP against closing
	listeners []*smtpListener
	conns     map[*smtpConn]struct{}
	perIP     map[netip.Addr]int // connections by ipKey

	stopOnce sync.Once
	stopped  chan struct{} // closed once every connection has ended, or on Close
}

// NewSMTPServer returns a server that delivers through p. It does not
// listen until Serve or ListenAndServe is called.
func NewSMTPServer(p *Pipeline, opts SMTPOptions) *SMTPServer {
	opts.applyDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	var rnd [4]byte
	_, _ = rand.Read(rnd[:]) // never fails (crypto/rand doc); only makes IDs distinct across restarts
	s := &SMTPServer{
		p:        p,
		opts:     opts,
		log:      opts.Logger.With("component", "smtp"),
		deliver:  p.Deliver,
		ctx:      ctx,
		cancel:   cancel,
		idPrefix: hex.EncodeToString(rnd[:]),
		conns:    make(map[*smtpConn]struct{}),
		perIP:    make(map[netip.Addr]int),
		stopped:  make(chan struct{}),

		budget:     newBudget(opts.MaxInflightBytes),
		budgetWait: defaultBudgetWait,
	}
	s.chunks.New = func() any { return new(chunk) }
	srv := smtp.NewServer(&backend{s: s})
	srv.Domain = opts.Domain
	srv.TLSConfig = opts.TLS
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = opts.MaxRecipients
	srv.MaxLineLength = opts.MaxLineLength
	srv.ReadTimeout = opts.ReadTimeout
	srv.WriteTimeout = opts.WriteTimeout
	srv.ErrorLog = errorLog{s.log}
	// No AUTH is offered for inbound mail, and Debug stays nil: a trace would
	// log whole messages.
	s.srv = srv
	return s
}

// ListenAndServe listens on the configured address and serves until ctx
// ends or Shutdown or Close is called. When ctx ends it shuts down
// gracefully, giving sessions ShutdownGrace to finish. It returns nil after
// a shutdown, once the sessions have ended.
func (s *SMTPServer) ListenAndServe(ctx context.Context) error {
	l, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("smtp: listen %s: %w", s.opts.Listen, err)
	}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownGrace)
		defer cancel()
		if err := s.Shutdown(sctx); err != nil {
			s.log.Warn("shutdown cut sessions off", "error", err)
		}
	})
	defer stop()
	return s.Serve(l)
}

// Serve accepts connections on l until Shutdown or Close. It returns nil
// after Shutdown once every session has ended, and at once after Close; any
// other error ends it early. Serve takes ownership of l.
func (s *SMTPServer) Serve(l net.Listener) error {
	sl := &smtpListener{Listener: l, s: s}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrSMTPClosed
	}
	s.listeners = append(s.listeners, sl)
	s.mu.Unlock()
	s.log.Info("listening", "addr", l.Addr().String(), "starttls", s.opts.TLS != nil)

	err := s.srv.Serve(sl)
	if s.closing.Load() {
		<-s.stopped
		return nil
	}
	if err != nil {
		return fmt.Errorf("smtp: serve %s: %w", l.Addr(), err)
	}
	return nil
}

// Addr is the address of the first listener being served, or nil before
// Serve has been called.
func (s *SMTPServer) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listeners) == 0 {
		return nil
	}
	return s.listeners[0].Addr()
}

// Shutdown stops accepting connections, says 421 to idle sessions, lets
// those inside a mail transaction finish it (their message is stored and
// answered as usual, then they are closed too) and returns once every
// connection has ended. If ctx ends first it closes the rest at once, as
// Close does, and returns ctx's error.
func (s *SMTPServer) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.closing.Swap(true)
	ls := append([]*smtpListener(nil), s.listeners...)
	conns := make([]*smtpConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	if first {
		for _, l := range ls {
			l.Close()
		}
		go func() {
			// go-smtp's Shutdown waits for every connection goroutine.
			if err := s.srv.Shutdown(context.Background()); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
				s.log.Warn("shutdown", "error", err)
			}
			s.stopOnce.Do(func() { close(s.stopped) })
		}()
		for _, c := range conns {
			c.shutdownIdle()
		}
	}

	select {
	case <-s.stopped:
		return nil
	case <-ctx.Done():
		s.Close()
		return fmt.Errorf("smtp: shutdown: %w", ctx.Err())
	}
}

// Close closes the listeners and every connection at once. Messages whose
// DATA has not been answered are not acknowledged, so their senders retry.
func (s *SMTPServer) Close() error {
	s.mu.Lock()
	s.closing.Store(true)
	ls := append([]*smtpListener(nil), s.listeners...)
	conns := make([]*smtpConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	s.cancel()
	for _, l := range ls {
		l.Close()
	}
	for _, c := range conns {
		c.Close()
	}
	if err := s.srv.Close(); err == nil {
		// Shutdown was not called, so nothing else will say we stopped.
		s.stopOnce.Do(func() { close(s.stopped) })
	}
	return nil
}

// newConnID names a connection in log lines.
func (s *SMTPServer) newConnID() string {
	return fmt.Sprintf("%s-%d", s.idPrefix, s.nextID.Add(1))
}

// track registers a new connection, or says why it must be refused.
func (s *SMTPServer) track(c net.Conn) (*smtpConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil, errShuttingDown
	}
	ip, hasIP := ipKey(c.RemoteAddr())
	if hasIP && s.perIP[ip] >= s.opts.MaxConnectionsPerIP {
		return nil, errTooManyFromIP
	}
	if len(s.conns) >= s.opts.MaxConnections {
		return nil, errTooManyConnections
	}
	sc := &smtpConn{Conn: c, s: s, id: s.newConnID(), ip: ip}
	s.conns[sc] = struct{}{}
	if hasIP {
		s.perIP[ip]++
	}
	return sc, nil
}

func (s *SMTPServer) forget(c *smtpConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; !ok {
		return
	}
	delete(s.conns, c)
	if c.ip.IsValid() {
		if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
			delete(s.perIP, c.ip)
		}
	}
}

// ipKey is what connections are counted by for MaxConnectionsPerIP: the
// IPv4 address, or the IPv6 /64, since one IPv6 host commonly has a whole
// /64 to pick addresses from.
func ipKey(a net.Addr) (netip.Addr, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Addr{}, false
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, err := ip.Prefix(64)
		if err != nil {
			return netip.Addr{}, false
		}
		ip = p.Addr()
	}
	return ip, true
}

// refuse answers a connection that is not served with a 421 line and closes
// it. RFC 5321 §3.1 lets a server do so in place of the greeting.
func (s *SMTPServer) refuse(c net.Conn, why error) {
	defer c.Close()
	s.log.Warn("connection refused", "remote", c.RemoteAddr().String(), "reason", why.Error())
	writeReply(c, s.reply(why), 10*time.Second)
}

// smtpListener counts connections so that no more than MaxConnections are
// served, and refuses new ones during shutdown without stopping go-smtp's
// accept loop early.
type smtpListener struct {
	net.Listener
	s    *SMTPServer
	once sync.Once
	err  error
}

func (l *smtpListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		sc, why := l.s.track(c)
		if why != nil {
			go l.s.refuse(c, why)
			continue
		}
		return sc, nil
	}
}

// Close may be called by both Shutdown and go-smtp; only the first closes.
func (l *smtpListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

// smtpConn is one client connection as accepted, before any TLS.
type smtpConn struct {
	net.Conn
	s  *SMTPServer
	id string
	ip netip.Addr // ipKey of the remote address; zero when not counted

	closeOnce sync.Once

	mu   sync.Mutex
	sess *session // the current session; nil before EHLO and after STARTTLS
	bad  int      // unknown recipients tried on this connection
}

func (c *smtpConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.s.forget(c) })
	return err
}

// CloseRead ends the reading side only, so that a reply still goes out
// before go-smtp, reading EOF next, closes the connection.
func (c *smtpConn) CloseRead() error {
	if cr, ok := c.Conn.(interface{ CloseRead() error }); ok {
		return cr.CloseRead()
	}
	return c.Close()
}

// shutdownIdle says 421 to a connection that is not inside a mail
// transaction and hangs up; one inside a transaction is left to finish it.
func (c *smtpConn) shutdownIdle() {
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	if sess == nil {
		// Before EHLO, or between STARTTLS and EHLO, when a plain-text reply
		// could not be written anyway.
		c.Close()
		return
	}
	sess.hangUpIfIdle()
}

// hangUp closes the reading side of conn, beneath any TLS layer, so that
// go-smtp writes the pending reply and then ends the connection on EOF.
func hangUp(conn net.Conn) {
	for {
		switch v := conn.(type) {
		case interface{ CloseRead() error }:
			v.CloseRead()
			return
		case *tls.Conn:
			conn = v.NetConn()
		default:
			conn.Close()
			return
		}
	}
}

// writeReply writes one reply line straight to conn, for the replies
// go-smtp does not write itself (refusals, shutdown).
func writeReply(conn net.Conn, r *smtp.SMTPError, timeout time.Duration) {
	conn.SetWriteDeadline(time.Now().Add(timeout))
	fmt.Fprintf(conn, "%d %d.%d.%d %s\r\n", r.Code, r.EnhancedCode[0], r.EnhancedCode[1], r.EnhancedCode[2], r.Message)
}

// errorLog carries go-smtp's own error lines (accept failures, broken
// connections, recovered panics) into slog.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Printf(format string, v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (l errorLog) Println(v ...any) { l.log.Warn(strings.TrimSpace(fmt.Sprintln(v...))) }
