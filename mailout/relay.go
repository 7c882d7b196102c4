package mailout

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tidings/tidings/store"
)

// The ways to reach a relay (Relay.TLS).
const (
	TLSStartTLS = "starttls" // plain connection, then STARTTLS (RFC 3207), which must be offered
	TLSImplicit = "implicit" // TLS from the first byte (RFC 8314 § 3.3)
	TLSNone     = "none"     // no TLS at all: for a relay on the same host
)

// Defaults of Relay's timeouts.
const (
	DefaultDialTimeout    = 30 * time.Second
	DefaultCommandTimeout = 5 * time.Minute  // RFC 5321 § 4.5.3.2 asks at least this of most commands
	DefaultDataTimeout    = 10 * time.Minute // RFC 5321 § 4.5.3.2.6: the answer to the final dot
)

// Relay is a Transport that sends each mail through an SMTP relay (a
// submission server or a smarthost): one connection per mail, with at
// most MaxConnections open at once. Addr is required; the zero value of
// every other field is a sensible default. Set its fields before the first
// Deliver and leave them; Deliver is safe for concurrent use.
//
// Errors map onto the Deliverer's retries like this: an answer in the
// 5xx range to MAIL, RCPT or DATA is permanent; 4xx answers, connection
// trouble and timeouts are temporary. So is any failure before MAIL — no
// STARTTLS on offer, a certificate that does not verify, AUTH refused —
// since those are a relay's or a configuration's fault, and mail waits
// for them to be fixed rather than being dropped. A RCPT refusal is kept
// per recipient (*RcptError).
type Relay struct {
	// Addr is the relay's host:port.
	Addr string
	// TLS is TLSStartTLS ("" means the same), TLSImplicit or TLSNone.
	TLS string
	// TLSConfig verifies the relay; nil means the system's roots and the
	// host of Addr. Its ServerName defaults to that host.
	TLSConfig *tls.Config
	// Username and Password, when Username is set, log in with AUTH PLAIN
	// (RFC 4616) after TLS.
	Username string
	Password string
	// LocalName is the name given in EHLO; "" means "localhost". Before
	// STARTTLS the client always says "localhost".
	LocalName string
	// MaxConnections caps the connections open at once; zero means
	// DefaultParallel. Deliver waits for a free one.
	MaxConnections int
	// DialTimeout bounds connecting (and the TLS handshake of implicit
	// TLS); CommandTimeout each command's answer; DataTimeout sending the
	// message and the answer to it. Zero means the Default of each.
	DialTimeout    time.Duration
	CommandTimeout time.Duration
	DataTimeout    time.Duration
	// DKIM, when set, signs each mail as it is sent.
	DKIM   *DKIM
	Logger *slog.Logger

	once sync.Once
	sem  chan struct{}
	log  *slog.Logger
}

func (r *Relay) setup() {
	r.once.Do(func() {
		n := r.MaxConnections
		if n <= 0 {
			n = DefaultParallel
		}
		r.sem = make(chan struct{}, n)
		l := r.Logger
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		r.log = l.With("component", "mailout", "relay", r.Addr)
	})
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Deliver sends raw from m.From to the recipients in m.To, signed when DKIM
// is set. It blocks until the relay has answered the message, a timeout
// passes, or ctx ends (which closes the connection).
func (r *Relay) Deliver(ctx context.Context, m store.OutMail, raw []byte) error {
	r.setup()
	if len(m.To) == 0 {
		return errors.New("mailout: relay: no recipients")
	}
	if r.DKIM != nil {
		signed, err := r.DKIM.Sign(raw)
		if err != nil {
			return err // the key's trouble: temporary, fixed by a restart
		}
		raw = signed
	}
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.sem }()

	c, conn, err := r.connect(ctx)
	if err != nil {
		return fmt.Errorf("relay %s: %w", r.Addr, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	err = r.send(c, conn, m, raw)
	if err == nil {
		// The mail is taken; a failed QUIT changes nothing.
		c.Quit()
	}
	return err
}

// connect dials the relay and brings the session to the point where MAIL
// may be sent: greeting, EHLO, TLS, AUTH. It returns the client and the
// underlying TCP connection, whose deadlines bound what the client does
// not.
func (r *Relay) connect(ctx context.Context) (*smtp.Client, net.Conn, error) {
	host, _, err := net.SplitHostPort(r.Addr)
	if err != nil {
		return nil, nil, err
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if r.TLSConfig != nil {
		tlsConf = r.TLSConfig.Clone()
	}
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = host
	}
	dialTimeout := orDefault(r.DialTimeout, DefaultDialTimeout)
	cmdTimeout := orDefault(r.CommandTimeout, DefaultCommandTimeout)
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(dctx, "tcp", r.Addr)
	if err != nil {
		return nil, nil, err
	}
	// Until the session is ready, ctx's end and a stuck server both close
	// the connection: the client sets its own deadline per command, but
	// STARTTLS runs before its timeout can be set.
	watch := context.AfterFunc(ctx, func() { conn.Close() })
	stuck := time.AfterFunc(dialTimeout+4*cmdTimeout, func() { conn.Close() })
	defer watch()
	defer stuck.Stop()
	fail := func(step string, err error) (*smtp.Client, net.Conn, error) {
		conn.Close()
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%s: %w", step, ctx.Err())
		}
		return nil, nil, fmt.Errorf("%s: %w", step, asReply(err))
	}

	var c *smtp.Client
	switch r.TLS {
	case TLSImplicit:
		tc := tls.Client(conn, tlsConf)
		hctx, cancel := context.WithTimeout(ctx, dialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return fail("tls", err)
		}
		c = smtp.NewClient(tc)
	case TLSNone:
		c = smtp.NewClient(conn)
	default:
		c, err = smtp.NewClientStartTLS(conn, tlsConf)
		if err != nil {
			return fail("starttls", err)
		}
	}
	c.CommandTimeout = cmdTimeout
	c.SubmissionTimeout = orDefault(r.DataTimeout, DefaultDataTimeout)
	if err := c.Hello(cmp.Or(r.LocalName, "localhost")); err != nil {
		return fail("ehlo", err)
	}
	if r.Username != "" {
		if !c.SupportsAuth(sasl.Plain) {
			return fail("auth", errors.New("the relay does not offer AUTH PLAIN"))
		}
		if err := c.Auth(sasl.NewPlainClient("", r.Username, r.Password)); err != nil {
			return fail("auth", err)
		}
	}
	return c, conn, nil
}

// send runs one mail transaction on a ready session.
func (r *Relay) send(c *smtp.Client, conn net.Conn, m store.OutMail, raw []byte) error {
	opts := &smtp.MailOptions{Size: int64(len(raw))}
	if !isASCII(m.From) || !allASCII(m.To) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			// Waiting cannot teach the relay SMTPUTF8.
			return &PermanentError{Err: fmt.Errorf("the relay does not take internationalised addresses (no SMTPUTF8): %s -> %v", m.From, m.To)}
		}
		opts.UTF8 = true
	}
	if err := c.Mail(m.From, opts); err != nil {
		return mailErr(fmt.Sprintf("MAIL FROM:<%s>", m.From), err)
	}
	refused := map[string]error{}
	var took []string
	for _, to := range m.To {
		if err := c.Rcpt(to, nil); err != nil {
			if !isReply(err) {
				// The connection broke: nothing more is known of anyone.
				return relayErr(fmt.Sprintf("RCPT TO:<%s>", to), err)
			}
			refused[to] = relayErr(fmt.Sprintf("RCPT TO:<%s>", to), err)
			continue
		}
		took = append(took, to)
	}
	if len(took) == 0 {
		c.Reset()
		return &RcptError{Refused: refused}
	}
	err := r.data(c, conn, raw)
	if err == nil && len(refused) == 0 {
		return nil
	}
	if err != nil && len(refused) == 0 {
		return err
	}
	for _, to := range took {
		refused[to] = err // nil: this one took it
	}
	for to, e := range refused {
		if e == nil {
			delete(refused, to)
		}
	}
	return &RcptError{Refused: refused}
}

// data sends the message and reads the relay's answer to it.
func (r *Relay) data(c *smtp.Client, conn net.Conn, raw []byte) error {
	w, err := c.Data()
	if err != nil {
		return relayErr("DATA", err)
	}
	// The client bounds the answer, not the sending: a relay that stops
	// reading would hold us for ever.
	conn.SetWriteDeadline(time.Now().Add(orDefault(r.DataTimeout, DefaultDataTimeout)))
	if _, err := w.Write(raw); err != nil {
		return relayErr("DATA", err)
	}
	if err := w.Close(); err != nil {
		return relayErr("end of DATA", err)
	}
	return nil
}

// ReplyError is a relay's refusal: its answer, and the command it
// answered.
type ReplyError struct {
	Code         int
	EnhancedCode smtp.EnhancedCode // zero when the relay gave none
	Message      string
	Command      string
}

// Error is the answer as the relay wrote it, "550 5.1.1 <x>: no such
// user", followed by the command in brackets.
func (e *ReplyError) Error() string {
	s := fmt.Sprintf("%d", e.Code)
	if e.EnhancedCode[0] > 0 {
		s += fmt.Sprintf(" %d.%d.%d", e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2])
	}
	if e.Message != "" {
		s += " " + strings.Join(strings.Fields(e.Message), " ")
	}
	if e.Command != "" {
		s += " (to " + e.Command + ")"
	}
	return s
}

// Temporary reports whether the answer was 4xx.
func (e *ReplyError) Temporary() bool { return e.Code/100 == 4 }

func isReply(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

// asReply turns an SMTP answer into a ReplyError; other errors pass.
func asReply(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &ReplyError{Code: se.Code, EnhancedCode: se.EnhancedCode, Message: se.Message}
	}
	return err
}

// mailErr classifies the failure of MAIL FROM. A refusal that says the
// session is not allowed to send — authentication required (530, or any
// 5.7.0), a sender the login may not use (5.7.1) — is the configuration's
// fault, not the mail's: like the failures before MAIL, it is temporary,
// so mail waits for the configuration to be fixed instead of being
// dropped.
func mailErr(cmd string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code/100 == 5 &&
		(se.Code == 530 || se.EnhancedCode[0] == 5 && se.EnhancedCode[1] == 7 && (se.EnhancedCode[2] == 0 || se.EnhancedCode[2] == 1)) {
		return &ReplyError{Code: se.Code, EnhancedCode: se.EnhancedCode, Message: se.Message, Command: cmd}
	}
	return relayErr(cmd, err)
}

// relayErr classifies the failure of cmd: a 5xx answer is permanent,
// anything else temporary.
func relayErr(cmd string, err error) error {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	re := &ReplyError{Code: se.Code, EnhancedCode: se.EnhancedCode, Message: se.Message, Command: cmd}
	if se.Code >= 500 && se.Code < 600 {
		return &PermanentError{Err: re}
	}
	return re
}

func allASCII(ss []string) bool {
	for _, s := range ss {
		if !isASCII(s) {
			return false
		}
	}
	return true
}
