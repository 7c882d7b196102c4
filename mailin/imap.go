package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"
)

// IMAPOptions configure one IMAPPoller. Address, Username, PasswordFile
// and Team are required; every other zero value means the default named.
type IMAPOptions struct {
	// Address is the server's host:port.
	Address string
	// TLS is "implicit" (default), "starttls" or "none"; "none" only for a
	// loopback address.
	TLS string
	// TLSConfig is used for implicit TLS and STARTTLS; nil verifies the
	// server against the system's roots under the host name of Address.
	TLSConfig *tls.Config
	// Username logs in.
	Username string
	// PasswordFile holds the password; it is read at each connection, so
	// that a corrected file is used without a restart. A trailing newline
	// is ignored.
	PasswordFile string
	// Auth is "login" or "plain" (AUTHENTICATE PLAIN); "" uses PLAIN when
	// the server offers AUTH=PLAIN, else LOGIN.
	Auth string
	// Mailbox is the folder fetched from (default "INBOX").
	Mailbox string
	// Team receives what is fetched.
	Team string
	// After is what happens to a message once it is stored: "seen"
	// (default) sets \Seen, "move:FOLDER" moves it to FOLDER, created if
	// missing. Refused mail is flagged and left where it is.
	After string
	// MaxMessageBytes refuses larger messages (left flagged) without
	// reading them into memory (default 25 MiB).
	MaxMessageBytes int64
	// BatchSize is how many messages one UID FETCH asks for (default 20).
	BatchSize int
	// PollInterval is how often a server without IDLE is asked for new
	// mail (default 1m).
	PollInterval time.Duration
	// IdleRenew is how long one IDLE lasts before it is ended and new mail
	// searched for again (default 25m, under the 29 minutes after which
	// RFC 2177 lets a server drop an idle client).
	IdleRenew time.Duration
	// MinBackoff and MaxBackoff bound the wait before reconnecting after
	// a failure, doubled each time and jittered (defaults 1s and 5m).
	MinBackoff, MaxBackoff time.Duration
	// Logger receives the poller's log lines; nil discards them.
	Logger *slog.Logger
	// Metrics, when set, counts what the poller does.
	Metrics *IMAPMetrics
	// AfterStore, when set, runs after each batch is in the store and
	// before the server is told (\Seen, the move): crash tests stop the
	// process there. An error ends the connection.
	AfterStore func(ctx context.Context) error
}

// IMAPPoller fetches one mailbox's new mail into the pipeline: it keeps a
// connection, fetches by UID what is above the position recorded in the
// store, delivers each message exactly as SMTP mail is delivered, records
// the position in the same transaction, and only then marks the message
// on the server. Create it with NewIMAPPoller.
type IMAPPoller struct {
	pipe   *Pipeline
	opts   IMAPOptions
	key    string // the position's key in the store and the metrics label
	folder string // the folder of "move:FOLDER"; "" for "seen"
	log    *slog.Logger
	m      *mailboxMetrics
	noIdle bool // tests: poll as if the server had no IDLE

	// failed counts, per UID of the current UIDVALIDITY, the sessions in
	// which a message could not be read or parsed: after maxMessageTries
	// it is refused and flagged, so that one bad message cannot hold the
	// mailbox for good. Only Run's goroutine touches it.
	failed         map[uint32]int
	failedValidity uint32
}

// maxMessageTries is how many sessions may fail on one message before it
// is refused and left flagged in the mailbox.
const maxMessageTries = 5

// NewIMAPPoller checks opts and returns a poller delivering into pipe. It
// does not connect: Run does.
func NewIMAPPoller(pipe *Pipeline, opts IMAPOptions) (*IMAPPoller, error) {
	setDefault := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	setDefault(&opts.TLS, "implicit")
	setDefault(&opts.Mailbox, "INBOX")
	setDefault(&opts.After, "seen")
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 25 << 20
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 20
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Minute
	}
	if opts.IdleRenew <= 0 {
		opts.IdleRenew = 25 * time.Minute
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(opts.MinBackoff, 5*time.Minute)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}

	var probs []string
	host, _, err := net.SplitHostPort(opts.Address)
	if err != nil {
		probs = append(probs, fmt.Sprintf("address %q is not host:port", opts.Address))
	}
	switch opts.TLS {
	case "implicit", "starttls":
	case "none":
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			probs = append(probs, fmt.Sprintf("tls \"none\" is allowed only for a loopback address, not %q", opts.Address))
		}
	default:
		probs = append(probs, fmt.Sprintf("tls %q is not implicit, starttls or none", opts.TLS))
	}
	switch opts.Auth {
	case "", "login", "plain":
	default:
		probs = append(probs, fmt.Sprintf("auth %q is not login or plain", opts.Auth))
	}
	if opts.Username == "" || opts.PasswordFile == "" || opts.Team == "" {
		probs = append(probs, "username, password_file and team are required")
	}
	folder, isMove := strings.CutPrefix(opts.After, "move:")
	switch {
	case opts.After == "seen":
		folder = ""
	case !isMove || folder == "":
		probs = append(probs, fmt.Sprintf("after %q is neither \"seen\" nor \"move:FOLDER\"", opts.After))
	case folder == opts.Mailbox:
		probs = append(probs, fmt.Sprintf("after %q moves mail into the mailbox it is fetched from", opts.After))
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("mailin: imap %s: %s", opts.Address, strings.Join(probs, "; "))
	}

	key := opts.Username + "@" + strings.ToLower(opts.Address) + "/" + opts.Mailbox
	return &IMAPPoller{
		pipe:   pipe,
		opts:   opts,
		key:    key,
		folder: folder,
		log:    opts.Logger.With("component", "imap", "mailbox", key),
		m:      opts.Metrics.forMailbox(key),
	}, nil
}

// Key names the mailbox: the key of its position in the store and its
// metrics label.
func (p *IMAPPoller) Key() string { return p.key }

// Run polls until ctx ends and then returns. It never gives up: every
// failure (a refused login, a missing mailbox, a lost connection, a store
// error) is logged and counted, and the poller connects again after a
// backoff. Run blocks; call it once.
func (p *IMAPPoller) Run(ctx context.Context) {
	p.log.Info("imap poller started", "address", p.opts.Address, "tls", p.opts.TLS, "team", p.opts.Team, "after", p.opts.After)
	backoff := p.opts.MinBackoff
	for {
		started := time.Now()
		ready, err := p.session(ctx)
		p.m.setConnected(false)
		if ctx.Err() != nil {
			p.log.Info("imap poller stopped")
			return
		}
		if err == nil {
			err = failure(imapErrConnection, errors.New("session ended"))
		}
		kind := failureKind(err)
		p.m.error(kind)
		// A session that worked for a while starts the backoff afresh; one
		// that keeps failing at once waits longer each time.
		if ready && time.Since(started) > p.opts.MaxBackoff {
			backoff = p.opts.MinBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, p.opts.MaxBackoff)
		switch kind {
		case imapErrAuth:
			p.log.Error("imap login failed: check username and password_file", "error", err, "retry_in", wait)
		case imapErrMailbox:
			p.log.Error("imap mailbox cannot be selected: check mailbox", "error", err, "retry_in", wait)
		case imapErrStore:
			p.log.Error("imap delivery failed, will retry", "error", err, "retry_in", wait)
		case imapErrTeam:
			p.log.Error("imap mailbox not fetched: check team", "error", err, "retry_in", wait)
		default:
			p.log.Warn("imap connection failed", "error", err, "retry_in", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			p.log.Info("imap poller stopped")
			return
		case <-t.C:
		}
	}
}

// imapFailure is a session's error with the kind it is counted under.
type imapFailure struct {
	kind string
	err  error
}

func (f *imapFailure) Error() string { return f.err.Error() }
func (f *imapFailure) Unwrap() error { return f.err }

func failure(kind string, err error) error { return &imapFailure{kind: kind, err: err} }

func failureKind(err error) string {
	var f *imapFailure
	if errors.As(err, &f) {
		return f.kind
	}
	return imapErrConnection
}

// readPassword reads a password file, without its trailing newline.
func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("password_file: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("password_file %s is empty", path)
	}
	return pw, nil
}
