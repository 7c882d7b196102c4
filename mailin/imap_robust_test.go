package mailin

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/tidings/tidings/store"
)

// TestIMAPUnreadableMessage: a message the server never sends (its FETCH
// answered NO with nothing) is tried again each session and, after
// maxMessageTries, refused and left flagged, so that mail behind it still
// comes in.
func TestIMAPUnreadableMessage(t *testing.T) {
	t.Parallel()
	e := newIMAPEnv(t, imapEnvOptions{proxy: true})
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "Broken", "broken@example.org", "Never sent."))
	e.proxy.swallow.Store(true)
	e.proxy.fail.Store(regexp.MustCompile(`(?i)^UID FETCH \S+ \(UID BODY\.PEEK\[\]\)`))
	p, _ := e.run(t, e.options())

	waitFor(t, "the unreadable message refused and flagged", func() bool {
		m := e.mailbox(t, "INBOX")
		return len(m) == 1 && m[0].has(imap.FlagFlagged) && !m[0].has(imap.FlagSeen)
	})
	if pos := e.pos(t, p.Key()); pos.LastUID != 1 {
		t.Errorf("position %+v, want past UID 1", pos)
	}
	// Each session but the last failed on it; the last refused it.
	if got := e.metric(t, "tidings_imap_errors_total", map[string]string{"mailbox": p.Key(), "kind": "message"}); got != maxMessageTries-1 {
		t.Errorf("message errors = %v, want %d", got, maxMessageTries-1)
	}
	if n := len(e.messages(t)); n != 0 {
		t.Errorf("%d messages stored, want none", n)
	}
	// The server reads again: what comes next is stored.
	e.proxy.fail.Store(nil)
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "Fine", "fine@example.org", "Sent."))
	e.waitStored(t, 1)
}

// TestIMAPMarkRefused: a server that refuses to mark stored mail (over
// quota) does not stop new mail; the marks wait, and are made at a later
// connection once the server takes them.
func TestIMAPMarkRefused(t *testing.T) {
	t.Parallel()
	e := newIMAPEnv(t, imapEnvOptions{proxy: true})
	e.proxy.fail.Store(regexp.MustCompile(`(?i)^UID STORE `))
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "One", "one@example.org", "1"))
	p, _ := e.run(t, e.options())
	e.waitStored(t, 1)
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "Two", "two@example.org", "2"))
	e.waitStored(t, 2)
	if got := e.metric(t, "tidings_imap_errors_total", map[string]string{"mailbox": p.Key(), "kind": "mark"}); got < 1 {
		t.Errorf("mark errors = %v, want at least 1", got)
	}
	// (The proxy only turns the server's OK into a NO: the flags it set
	// are there; what matters is that the poller went on.)
	if pos := e.pos(t, p.Key()); pos.LastUID != 2 || len(pos.Pending) != 2 {
		t.Errorf("position %+v, want past UID 2 with both pending", pos)
	}
	e.proxy.fail.Store(nil)
	e.proxy.drop()
	waitFor(t, "the marks made at the next connection", func() bool { return len(e.pos(t, p.Key()).Pending) == 0 })
}

// TestIMAPMissingTeam: a block whose team does not exist fetches nothing,
// flags nothing, and says why, until the team is added.
func TestIMAPMissingTeam(t *testing.T) {
	t.Parallel()
	e := newIMAPEnv(t, imapEnvOptions{})
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "Hello", "hello@example.org", "Hi."))
	opts := e.options()
	opts.Team = "ops"
	p, _ := e.run(t, opts)
	labels := map[string]string{"mailbox": p.Key(), "kind": "team"}
	waitFor(t, "the missing team counted twice", func() bool { return e.metric(t, "tidings_imap_errors_total", labels) >= 2 })
	if m := e.mailbox(t, "INBOX"); len(m) != 1 || m[0].has(imap.FlagFlagged) || m[0].has(imap.FlagSeen) {
		t.Errorf("mailbox %+v, want the message untouched", m)
	}
	if !strings.Contains(e.logs.String(), `team \"ops\" does not exist`) && !strings.Contains(e.logs.String(), `team "ops" does not exist`) {
		t.Errorf("no log line names the missing team:\n%s", e.logs.String())
	}
	if err := e.st.Update(context.Background(), func(tx *store.Tx) error {
		return tx.AddTeam(store.Team{Name: "ops", Address: "ops@example.com"})
	}); err != nil {
		t.Fatal(err)
	}
	// ops takes mail from its members only: the message is refused now,
	// as a decision of its own, not a missing team's.
	waitFor(t, "the message decided once the team exists", func() bool {
		m := e.mailbox(t, "INBOX")
		return len(m) == 1 && m[0].has(imap.FlagFlagged)
	})
}

// TestIMAPStopWhileConnecting: a server that accepts and never answers
// the TLS handshake does not hold up a stop.
func TestIMAPStopWhileConnecting(t *testing.T) {
	t.Parallel()
	e := newIMAPEnv(t, imapEnvOptions{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent until the test ends
		}
	}()
	opts := e.options()
	opts.Address, opts.TLS = l.Addr().String(), "implicit"
	_, stop := e.run(t, opts)
	time.Sleep(200 * time.Millisecond) // inside the handshake
	// stop fails the test when the poller takes 20 s; a handshake bound
	// only by the dialer's 30-second timeout would.
	stop()
}
