package mailin

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// backend makes a session per EHLO (go-smtp makes a new one after STARTTLS).
type backend struct{ s *SMTPServer }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s := b.s
	conn := c.Conn() // read here, on the connection's goroutine: STARTTLS replaces it
	sc := trackedConn(conn)
	id := "-"
	if sc != nil {
		id = sc.id
	}
	_, isTLS := c.TLSConnectionState()
	sess := &session{
		s:      s,
		conn:   conn,
		sc:     sc,
		id:     id,
		remote: conn.RemoteAddr().String(),
		log:    s.log.With("session", id, "remote", conn.RemoteAddr().String()),
		tls:    isTLS,
	}
	if sc != nil {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		if s.closing.Load() {
			hangUp(conn)
			return nil, s.replyError(errShuttingDown)
		}
		sc.sess = sess
	}
	return sess, nil
}

// trackedConn finds the connection as accepted beneath any TLS layer.
func trackedConn(conn net.Conn) *smtpConn {
	for {
		switch v := conn.(type) {
		case *smtpConn:
			return v
		case *tls.Conn:
			conn = v.NetConn()
		default:
			return nil
		}
	}
}

// session is one SMTP session: the commands after EHLO on one connection.
// go-smtp calls its methods from the connection's goroutine (Data from
// another one for BDAT); Shutdown calls hangUpIfIdle from its own.
type session struct {
	s      *SMTPServer
	conn   net.Conn  // as it was at EHLO; TLS after STARTTLS
	sc     *smtpConn // nil when served on a listener we did not wrap
	id     string
	remote string
	log    *slog.Logger
	tls    bool

	mu       sync.Mutex
	inTx     bool  // between MAIL and the end of DATA or RSET
	hungUp   error // why the connection is being closed; nil while open
	from     string
	size     int64 // SIZE declared with MAIL FROM, or 0
	rcpts    []string
	teams    []string
	tokens   map[string]string // team name -> reply-address token
	badLocal int               // unknown recipients when sc is nil
}

// hangUpLocked marks the session closing for why and closes the reading
// side, so the reply being returned is the last thing the client reads;
// commands go-smtp had already buffered are answered with why. Callers
// hold mu.
func (ss *session) hangUpLocked(why error) {
	ss.hungUp = why
	hangUp(ss.conn)
}

// hangUpIfIdle is Shutdown's way in: a session outside a transaction gets
// 421 at once; one inside is closed by Reset when its transaction ends.
func (ss *session) hangUpIfIdle() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.inTx || ss.hungUp != nil {
		return
	}
	writeReply(ss.conn, ss.s.reply(errShuttingDown), ss.s.opts.WriteTimeout)
	ss.hangUpLocked(errShuttingDown)
}

// recoverInto turns a panic in a session method into errSessionPanic, logged
// with its stack, so that one bad message cannot take the server down and
// the client is told to try again.
func (ss *session) recoverInto(err *error) {
	if r := recover(); r != nil {
		ss.log.Error("panic in smtp session", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = ss.s.replyError(fmt.Errorf("%w: %v", errSessionPanic, r))
	}
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) (err error) {
	defer ss.recoverInto(&err)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.hungUp == nil && ss.s.closing.Load() {
		ss.hangUpLocked(errShuttingDown)
	}
	if ss.hungUp != nil {
		return ss.s.replyError(ss.hungUp)
	}
	var size int64
	if opts != nil {
		size = opts.Size
	}
	// RFC 1870 §6.1: refuse a declared size the server will not take, before
	// the body is sent. go-smtp refuses one above MaxMessageBytes itself;
	// one equal to it is refused here, since a body that reaches the limit
	// is refused.
	if size >= ss.s.opts.MaxMessageBytes {
		return ss.s.replyError(fmt.Errorf("declared size %d: %w", size, smtp.ErrDataTooLarge))
	}
	// Any sender is taken here, the null sender of bounces included: who may
	// post is decided from the message by the pipeline.
	ss.inTx = true
	ss.from = from
	ss.size = size
	ss.rcpts = ss.rcpts[:0]
	ss.teams = ss.teams[:0]
	ss.tokens = nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) (err error) {
	defer ss.recoverInto(&err)
	ss.mu.Lock()
	hungUp := ss.hungUp
	ss.mu.Unlock()
	if hungUp != nil {
		return ss.s.replyError(hungUp)
	}

	rc, err := ss.s.p.Recipient(to)
	if errors.Is(err, ErrUnknownRecipient) {
		bad := ss.countBad()
		ss.log.Info("unknown recipient", "rcpt", to, "bad", bad)
		if bad > ss.s.opts.MaxBadRecipients {
			ss.mu.Lock()
			ss.hangUpLocked(errTooManyBadRecipients)
			ss.mu.Unlock()
			return ss.s.replyError(errTooManyBadRecipients)
		}
		return ss.s.replyError(&unknownRecipientError{addr: to})
	}
	if err != nil {
		ss.log.Warn("recipient lookup failed", "rcpt", to, "error", err)
		return ss.s.replyError(fmt.Errorf("rcpt %s: %w", to, err))
	}

	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.rcpts = append(ss.rcpts, to)
	if !slices.Contains(ss.teams, rc.Team.Name) {
		ss.teams = append(ss.teams, rc.Team.Name)
	}
	if rc.Token != "" {
		if ss.tokens == nil {
			ss.tokens = map[string]string{}
		}
		// The first reply address of a team counts: one message is one
		// post per team.
		if _, ok := ss.tokens[rc.Team.Name]; !ok {
			ss.tokens[rc.Team.Name] = rc.Token
		}
	}
	return nil
}

// countBad counts an unknown recipient against the connection, so that a
// client cannot reset the count with STARTTLS or a new EHLO.
func (ss *session) countBad() int {
	if ss.sc == nil {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		ss.badLocal++
		return ss.badLocal
	}
	ss.sc.mu.Lock()
	defer ss.sc.mu.Unlock()
	ss.sc.bad++
	return ss.sc.bad
}

func (ss *session) Data(r io.Reader) (err error) {
	start := time.Now()
	ss.mu.Lock()
	from, rcpts, teams, hungUp, declared := ss.from, slices.Clone(ss.rcpts), slices.Clone(ss.teams), ss.hungUp, ss.size
	tokens := maps.Clone(ss.tokens)
	ss.mu.Unlock()

	var raw []byte
	var size int64
	var out Outcome
	body := inflight{s: ss.s}
	// Runs last, once the reply is settled, just before go-smtp writes it:
	// nothing keeps raw after that.
	defer body.release()
	defer func() {
		if r := recover(); r != nil {
			ss.log.Error("panic in smtp session", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: %v", errSessionPanic, r)
		}
		rep := ss.s.reply(err)
		ss.logMessage(from, rcpts, raw, size, out, rep, err, time.Since(start))
		if rep != nil {
			err = rep
		}
	}()

	if hungUp != nil {
		io.Copy(io.Discard, r)
		return hungUp
	}

	raw, size, err = body.read(r, declared)
	if errors.Is(err, errInsufficientResources) {
		// The budget is given back as Data returns; go-smtp then reads the
		// rest of the body and discards it, under the read deadline set at
		// DATA, before it writes the reply.
		return err
	}
	if err != nil {
		if !errors.Is(err, smtp.ErrDataTooLarge) && !errors.Is(err, smtp.ErrDataReset) {
			// The body ended early (timeout, broken or overlong line, a
			// vanished client): the rest of it must never be read as
			// commands, so the connection ends after this reply. After
			// ErrDataTooLarge go-smtp reads on to the end marker itself,
			// and after ErrDataReset (BDAT) there is nothing left to read.
			ss.mu.Lock()
			ss.hangUpLocked(err)
			ss.mu.Unlock()
		}
		return fmt.Errorf("read message: %w", err)
	}

	raw, smuggled := normalizeBody(raw)
	body.settle(int64(cap(raw)))
	size = int64(len(raw))
	if smuggled {
		return errSmuggling
	}
	out, err = ss.s.deliver(ss.s.ctx, Delivery{Teams: teams, Tokens: tokens, EnvelopeFrom: from, Raw: raw})
	return err
}

// logMessage writes the one line per message: who, what, and what was
// answered. err carries the detail behind a generic reply.
func (ss *session) logMessage(from string, rcpts []string, raw []byte, size int64, out Outcome, rep *smtp.SMTPError, err error, took time.Duration) {
	mid := out.MessageID
	if mid == "" {
		mid = headerMessageID(raw)
	}
	code, enhanced, outcome := 250, "2.0.0", "stored"
	switch {
	case rep != nil:
		code = rep.Code
		enhanced = fmt.Sprintf("%d.%d.%d", rep.EnhancedCode[0], rep.EnhancedCode[1], rep.EnhancedCode[2])
		outcome = "rejected"
		if rep.Code/100 == 4 {
			outcome = "deferred"
		}
	case out.Auto != "":
		outcome = "auto:" + out.Auto
	case len(out.Stored) == 0 && len(out.Duplicates) > 0:
		outcome = "duplicate"
	}
	attrs := []any{
		"from", from, "rcpts", rcpts, "message_id", mid, "size", size,
		"code", code, "enhanced", enhanced, "outcome", outcome, "tls", ss.tls,
		"ms", took.Milliseconds(),
	}
	if len(out.Duplicates) > 0 {
		attrs = append(attrs, "duplicate_in", out.Duplicates)
	}
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, "error", err.Error())
		if code/100 == 4 {
			level = slog.LevelWarn
		}
	}
	ss.log.Log(ss.s.ctx, level, "message", attrs...)
}

// Reset ends the transaction (RSET, a new EHLO, or the end of DATA, after
// its reply was written). During shutdown it is where a session that was
// let finish its message is closed.
func (ss *session) Reset() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.inTx = false
	ss.from = ""
	ss.size = 0
	ss.rcpts = ss.rcpts[:0]
	ss.teams = ss.teams[:0]
	ss.tokens = nil
	if ss.s.closing.Load() && ss.hungUp == nil {
		writeReply(ss.conn, ss.s.reply(errShuttingDown), ss.s.opts.WriteTimeout)
		ss.hangUpLocked(errShuttingDown)
	}
}

func (ss *session) Logout() error {
	if ss.sc != nil {
		ss.sc.mu.Lock()
		if ss.sc.sess == ss {
			ss.sc.sess = nil
		}
		ss.sc.mu.Unlock()
	}
	return nil
}

// headerMessageID finds the Message-ID field in raw's header for the log,
// when the pipeline did not get far enough to say. It reads at most 64 KiB.
func headerMessageID(raw []byte) string {
	const name = "message-id:"
	h := raw[:min(len(raw), 64<<10)]
	for len(h) > 0 {
		line, rest, _ := bytes.Cut(h, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			return "" // end of the header
		}
		if len(line) >= len(name) && bytes.EqualFold(line[:len(name)], []byte(name)) {
			v := line[len(name):]
			// The value may be folded onto the next line.
			for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
				var next []byte
				next, rest, _ = bytes.Cut(rest, []byte("\n"))
				v = append(slices.Clip(v), bytes.TrimRight(next, "\r")...)
			}
			v = bytes.TrimSpace(v)
			v = bytes.TrimSuffix(bytes.TrimPrefix(v, []byte("<")), []byte(">"))
			return printable(v, 200)
		}
		h = rest
	}
	return ""
}

// printable keeps at most n bytes of v with control bytes replaced, fit
// for a log line.
func printable(v []byte, n int) string {
	v = v[:min(len(v), n)]
	return string(bytes.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, v))
}
