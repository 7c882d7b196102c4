package mailin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/tidings/tidings/store"
)

// reply builds a reply to parentID from the member.
func replyMsg(subject, id, parentID, body string) string {
	m := msg("Ana <"+memberAddr+">", engAddr, subject, id, body)
	return strings.Replace(m, "\r\n\r\n", fmt.Sprintf("\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\n\r\n", parentID, parentID), 1)
}

// TestIMAPIngestAndThread fetches a message and a reply to it from the
// mailbox, threads them together, marks both as after says — with MOVE
// and with the COPY, \Deleted, EXPUNGE fallback of a server without it —
// and takes a third that arrives while the poller idles.
func TestIMAPIngestAndThread(t *testing.T) {
	t.Parallel()
	rev1 := imap.CapSet{imap.CapIMAP4rev1: {}} // no MOVE, no UIDPLUS
	for _, tc := range []struct {
		name  string
		caps  imap.CapSet
		after string
		auth  string
	}{
		{"seen", nil, "seen", ""},
		{"seen, LOGIN", nil, "seen", "login"},
		{"move", nil, "move:Processed", "plain"},
		{"move without MOVE", rev1, "move:Processed", ""},
		{"seen on IMAP4rev1", rev1, "seen", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newIMAPEnv(t, imapEnvOptions{caps: tc.caps})
			e.appendMail(t, "INBOX", msg("Ana <"+memberAddr+">", engAddr, "Release", "rel@example.org", "Shipping today."))
			e.appendMail(t, "INBOX", replyMsg("Re: Release", "rel-2@example.org", "rel@example.org", "Great, thanks."))
			opts := e.options()
			opts.After, opts.Auth = tc.after, tc.auth
			p, _ := e.run(t, opts)

			const want = 2
			ms := e.waitStored(t, want)
			byID := map[string]store.Message{}
			for _, m := range ms {
				byID[m.MessageID] = m
			}
			if a, b := byID["rel@example.org"], byID["rel-2@example.org"]; a.Thread == 0 || a.Thread != b.Thread {
				t.Errorf("threads %d and %d, want one", a.Thread, b.Thread)
			}
			e.wantMarked(t, tc.after, want)

			// New mail while the poller idles.
			e.appendMail(t, "INBOX", replyMsg("Re: Release", "rel-3@example.org", "rel-2@example.org", "Also: docs."))
			e.waitStored(t, want+1)
			e.wantMarked(t, tc.after, want+1)
			waitFor(t, "pending marks cleared", func() bool { return len(e.pos(t, p.Key()).Pending) == 0 })
			if pos := e.pos(t, p.Key()); pos.LastUID != uint32(want+1) || pos.UIDValidity == 0 {
				t.Errorf("position %+v, want last UID %d", pos, want+1)
			}
			for name, v := range map[string]float64{
				"tidings_imap_messages_fetched_total": float64(want + 1),
				"tidings_imap_messages_stored_total":  float64(want + 1),
				"tidings_imap_messages_refused_total": 0,
				"tidings_imap_connected":              1,
			} {
				if got := e.metric(t, name, map[string]string{"mailbox": p.Key()}); got != v {
					t.Errorf("%s = %v, want %v", name, got, v)
				}
			}
		})
	}
}

// wantMarked waits until n messages are marked as after says: all \Seen in
// INBOX, or all moved to Processed with INBOX empty.
func (e *imapEnv) wantMarked(t *testing.T, after string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d messages marked %s", n, after), func() bool {
		inbox := e.mailbox(t, "INBOX")
		if after == "seen" {
			seen := 0
			for _, m := range inbox {
				if m.has(imap.FlagSeen) {
					seen++
				}
			}
			return seen == n
		}
		moved, err := e.tryMailbox(strings.TrimPrefix(after, "move:"))
		if err != nil {
			return false // not created yet
		}
		for _, m := range moved {
			if m.has(imap.FlagDeleted) {
				return false
			}
		}
		return len(inbox) == 0 && len(moved) == n
	})
}

// TestIMAPRefused leaves refused mail in the mailbox, flagged and unseen,
// records it as done, and goes on with the next message: a stranger's,
// one that cannot be parsed (two From fields), and one over the size limit.
func TestIMAPRefused(t *testing.T) {
	t.Parallel()
	e := newIMAPEnv(t, imapEnvOptions{})
	e.appendMail(t, "INBOX", msg(outsider, engAddr, "Buy now", "spam@elsewhere.example", "Cheap."))
	e.appendMail(t, "INBOX", "From: a@example.org\r\nFrom: b@example.org\r\nSubject: two\r\nMessage-ID: <two@x>\r\n\r\nx\r\n")
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "Big", "big@example.org", strings.Repeat("0123456789\r\n", 1000)))
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "Hello", "hello@example.org", "Hi all."))
	opts := e.options()
	opts.After = "move:Processed"
	opts.MaxMessageBytes = 5000
	p, _ := e.run(t, opts)

	ms := e.waitStored(t, 1)
	if ms[0].MessageID != "hello@example.org" {
		t.Errorf("stored %s, want hello@example.org", ms[0].MessageID)
	}
	waitFor(t, "refused mail flagged in INBOX, the rest moved", func() bool {
		inbox := e.mailbox(t, "INBOX")
		flagged := 0
		for _, m := range inbox {
			if m.has(imap.FlagFlagged) && !m.has(imap.FlagSeen) && !m.has(imap.FlagDeleted) {
				flagged++
			}
		}
		moved, err := e.tryMailbox("Processed")
		return err == nil && len(inbox) == 3 && flagged == 3 && len(moved) == 1
	})
	waitFor(t, "pending marks cleared", func() bool { return len(e.pos(t, p.Key()).Pending) == 0 })
	if pos := e.pos(t, p.Key()); pos.LastUID != 4 {
		t.Errorf("position %+v, want last UID 4", pos)
	}
	if got := e.metric(t, "tidings_imap_messages_refused_total", nil); got != 3 {
		t.Errorf("refused = %v, want 3", got)
	}
	for _, s := range []string{"may not post to team eng", "more than one From", "larger than the limit"} {
		if !strings.Contains(e.logs.String(), s) {
			t.Errorf("no log line says %q", s)
		}
	}
}

// TestIMAPUIDValidity recreates the mailbox under a new UIDVALIDITY with the
// same messages and one more: the poller fetches everything again, stores
// only the new one, and marks the rest.
func TestIMAPUIDValidity(t *testing.T) {
	t.Parallel()
	e := newIMAPEnv(t, imapEnvOptions{})
	first := []string{
		msg(memberAddr, engAddr, "One", "one@example.org", "1"),
		msg(memberAddr, engAddr, "Two", "two@example.org", "2"),
	}
	for _, m := range first {
		e.appendMail(t, "INBOX", m)
	}
	p, stop := e.run(t, e.options())
	e.waitStored(t, 2)
	e.wantMarked(t, "seen", 2)
	old := e.pos(t, p.Key())
	stop()

	if err := e.user.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := e.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range first {
		e.appendMail(t, "INBOX", m)
	}
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "Three", "three@example.org", "3"))
	e.run(t, e.options())
	ms := e.waitStored(t, 3)
	if ms[2].MessageID != "three@example.org" {
		t.Errorf("third stored is %s", ms[2].MessageID)
	}
	e.wantMarked(t, "seen", 3)
	waitFor(t, "pending marks cleared", func() bool { return len(e.pos(t, p.Key()).Pending) == 0 })
	pos := e.pos(t, p.Key())
	if pos.UIDValidity == old.UIDValidity || pos.LastUID != 3 {
		t.Errorf("position %+v after the change, was %+v", pos, old)
	}
	if got := e.metric(t, "tidings_imap_messages_duplicate_total", nil); got != 2 {
		t.Errorf("duplicates = %v, want 2", got)
	}
	if !strings.Contains(e.logs.String(), "UIDVALIDITY changed") {
		t.Error("the change was not logged")
	}
	// Only three messages, and a little later still three.
	time.Sleep(100 * time.Millisecond)
	e.waitStored(t, 3)
}

// TestIMAPCrashBeforeMark ends the connection after a batch is stored and
// before the server is told, as a crash would: the next connection marks
// what was stored, and nothing is stored twice.
func TestIMAPCrashBeforeMark(t *testing.T) {
	t.Parallel()
	for _, after := range []string{"seen", "move:Done"} {
		t.Run(after, func(t *testing.T) {
			t.Parallel()
			e := newIMAPEnv(t, imapEnvOptions{})
			e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "A", "a@example.org", "a"))
			e.appendMail(t, "INBOX", msg(outsider, engAddr, "B", "b@elsewhere.example", "b"))
			// Refused before the storing transaction, so recorded apart.
			e.appendMail(t, "INBOX", "From: a@example.org\r\nFrom: b@example.org\r\nSubject: two\r\n\r\nx\r\n")
			var crashes atomic.Int64
			opts := e.options()
			opts.After = after
			var key string
			opts.AfterStore = func(context.Context) error {
				if crashes.Add(1) > 1 {
					return nil
				}
				// At the crash: stored, recorded, not yet marked.
				if pos := e.pos(t, key); pos.LastUID != 3 || len(pos.Pending) != 3 {
					t.Errorf("position at the crash: %+v", pos)
				}
				for _, m := range e.mailbox(t, "INBOX") {
					if len(m.Flags) != 0 {
						t.Errorf("uid %d already has %v at the crash", m.UID, m.Flags)
					}
				}
				return errors.New("crash")
			}
			p, err := NewIMAPPoller(e.pipe, opts)
			if err != nil {
				t.Fatal(err)
			}
			key = p.Key()
			e.run(t, opts)
			waitFor(t, "pending marks cleared after the reconnection", func() bool {
				pos := e.pos(t, key)
				return crashes.Load() >= 1 && len(pos.Pending) == 0
			})
			e.waitStored(t, 1)
			inbox := e.mailbox(t, "INBOX")
			if after == "seen" {
				if len(inbox) != 3 || !inbox[0].has(imap.FlagSeen) || !inbox[1].has(imap.FlagFlagged) || inbox[1].has(imap.FlagSeen) ||
					!inbox[2].has(imap.FlagFlagged) {
					t.Errorf("INBOX after the restart: %+v", inbox)
				}
			} else {
				if len(inbox) != 2 || !inbox[0].has(imap.FlagFlagged) || !inbox[1].has(imap.FlagFlagged) || len(e.mailbox(t, "Done")) != 1 {
					t.Errorf("INBOX after the restart: %+v; Done: %+v", inbox, e.mailbox(t, "Done"))
				}
			}
			if n := crashes.Load(); n != 1 {
				t.Errorf("%d batches after the crash, want none: nothing was fetched again", n-1)
			}
		})
	}
}

// TestIMAPLoginFailures keeps retrying, with a clear log line and a
// metric, while another poller on the same store goes on; a corrected
// password file is read at the next attempt.
func TestIMAPLoginFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, pw, log string
	}{
		{"wrong password", "wrong\n", "imap login failed"},
		{"missing file", "", "password_file"},
		{"empty file", "\n", "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newIMAPEnv(t, imapEnvOptions{})
			e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "A", "a@example.org", "a"))
			if err := e.user.Create("Other", nil); err != nil {
				t.Fatal(err)
			}
			e.appendMail(t, "Other", msg(memberAddr, engAddr, "B", "b@example.org", "b"))

			bad := e.options()
			bad.PasswordFile = e.pwFile + ".bad"
			if tc.pw != "" {
				if err := os.WriteFile(bad.PasswordFile, []byte(tc.pw), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			pb, _ := e.run(t, bad)
			good := e.options()
			good.Mailbox = "Other"
			e.run(t, good)

			e.waitStored(t, 1) // the other poller's
			labels := map[string]string{"mailbox": pb.Key(), "kind": "auth"}
			waitFor(t, "three failed logins counted", func() bool { return e.metric(t, "tidings_imap_errors_total", labels) >= 3 })
			if !strings.Contains(e.logs.String(), tc.log) {
				t.Errorf("no log line says %q", tc.log)
			}
			if strings.Contains(e.logs.String(), imapPass) || strings.Contains(e.logs.String(), "wrong") && tc.pw == "wrong\n" {
				t.Error("a password was logged")
			}
			if got := e.metric(t, "tidings_imap_connected", map[string]string{"mailbox": pb.Key()}); got != 0 {
				t.Errorf("connected = %v", got)
			}

			if err := os.WriteFile(bad.PasswordFile, []byte(imapPass+"\r\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			e.waitStored(t, 2)
		})
	}
}

// TestIMAPMissingMailbox says so, counts it, and starts once the mailbox
// is there.
func TestIMAPMissingMailbox(t *testing.T) {
	t.Parallel()
	e := newIMAPEnv(t, imapEnvOptions{})
	opts := e.options()
	opts.Mailbox = "Team"
	p, _ := e.run(t, opts)
	labels := map[string]string{"mailbox": p.Key(), "kind": "mailbox"}
	waitFor(t, "a missing mailbox counted twice", func() bool { return e.metric(t, "tidings_imap_errors_total", labels) >= 2 })
	if !strings.Contains(e.logs.String(), "imap mailbox cannot be selected") {
		t.Error("no clear log line")
	}
	if err := e.user.Create("Team", nil); err != nil {
		t.Fatal(err)
	}
	e.appendMail(t, "Team", msg(memberAddr, engAddr, "A", "a@example.org", "a"))
	e.waitStored(t, 1)
}

// TestIMAPReconnect cuts the connection under the poller: it connects
// again and fetches what came meanwhile.
func TestIMAPReconnect(t *testing.T) {
	t.Parallel()
	e := newIMAPEnv(t, imapEnvOptions{proxy: true})
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "A", "a@example.org", "a"))
	p, _ := e.run(t, e.options())
	e.waitStored(t, 1)
	for i := range 3 {
		e.proxy.drop()
		e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "More", fmt.Sprintf("more%d@example.org", i), "b"))
		e.waitStored(t, 2+i)
	}
	e.wantMarked(t, "seen", 4)
	labels := map[string]string{"mailbox": p.Key(), "kind": "connection"}
	if got := e.metric(t, "tidings_imap_errors_total", labels); got < 1 {
		t.Errorf("connection errors = %v, want at least 1", got)
	}
}

// TestIMAPIdleRenewal hides the server's EXISTS pushes: new mail is still
// found, because IDLE is ended and renewed after IdleRenew and a search
// follows each renewal.
func TestIMAPIdleRenewal(t *testing.T) {
	t.Parallel()
	e := newIMAPEnv(t, imapEnvOptions{proxy: true})
	e.proxy.hideExists.Store(true)
	opts := e.options()
	opts.IdleRenew = 50 * time.Millisecond
	e.run(t, opts)
	waitFor(t, "IDLE issued three times", func() bool { return e.proxy.idles.Load() >= 3 })
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "A", "a@example.org", "a"))
	e.waitStored(t, 1)
}

// TestIMAPPoll polls a server as if it had no IDLE: no IDLE is sent, and
// new mail is found at the next interval.
func TestIMAPPoll(t *testing.T) {
	t.Parallel()
	e := newIMAPEnv(t, imapEnvOptions{proxy: true})
	opts := e.options()
	opts.PollInterval = 20 * time.Millisecond
	e.run(t, opts, func(p *IMAPPoller) { p.noIdle = true })
	waitFor(t, "connected", func() bool { return e.metric(t, "tidings_imap_connected", nil) == 1 })
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "A", "a@example.org", "a"))
	e.waitStored(t, 1)
	e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "B", "b@example.org", "b"))
	e.waitStored(t, 2)
	if n := e.proxy.idles.Load(); n != 0 {
		t.Errorf("%d IDLE commands sent", n)
	}
}

// TestIMAPTLS reaches the server over implicit TLS and over STARTTLS, with
// the certificate checked.
func TestIMAPTLS(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"implicit", "starttls"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newIMAPEnv(t, imapEnvOptions{tls: mode})
			e.appendMail(t, "INBOX", msg(memberAddr, engAddr, "A", "a@example.org", "a"))
			opts := e.options()
			opts.TLS = mode
			e.run(t, opts)
			e.waitStored(t, 1)

			// Without the certificate's root the poller does not log in.
			e2 := newIMAPEnv(t, imapEnvOptions{tls: mode})
			opts = e2.options()
			opts.TLS, opts.TLSConfig = mode, nil
			p, _ := e2.run(t, opts)
			labels := map[string]string{"mailbox": p.Key(), "kind": "connection"}
			waitFor(t, "an unverified server refused", func() bool { return e2.metric(t, "tidings_imap_errors_total", labels) >= 1 })
		})
	}
}

func TestNewIMAPPollerRefuses(t *testing.T) {
	t.Parallel()
	ok := IMAPOptions{Address: "127.0.0.1:143", TLS: "none", Username: "u", PasswordFile: "pw", Team: "eng"}
	if _, err := NewIMAPPoller(nil, ok); err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*IMAPOptions)
		want string
	}{
		{"plain off loopback", func(o *IMAPOptions) { o.Address = "imap.example.com:143" }, "loopback"},
		{"unknown tls", func(o *IMAPOptions) { o.TLS = "ssl" }, "tls"},
		{"bad address", func(o *IMAPOptions) { o.Address = "imap.example.com" }, "host:port"},
		{"no team", func(o *IMAPOptions) { o.Team = "" }, "required"},
		{"bad after", func(o *IMAPOptions) { o.After = "delete" }, "after"},
		{"empty move", func(o *IMAPOptions) { o.After = "move:" }, "after"},
		{"move into itself", func(o *IMAPOptions) { o.After = "move:INBOX" }, "mailbox it is fetched from"},
		{"bad auth", func(o *IMAPOptions) { o.Auth = "cram-md5" }, "auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.edit(&o)
			_, err := NewIMAPPoller(nil, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestReturnPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ raw, want string }{
		{"Return-Path: <bounce@example.org>\r\nReturn-Path: <other@x>\r\nFrom: a@b\r\n\r\nx", "bounce@example.org"},
		{"Return-Path: <>\r\nFrom: a@b\r\n\r\nx", ""},
		{"From: a@b\r\n\r\nReturn-Path: <body@example.org>\r\n", ""},
		{"Return-Path: <a b@c>\n\nx", ""},
		{"garbage", ""},
	} {
		if got := returnPath([]byte(tc.raw)); got != tc.want {
			t.Errorf("returnPath(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func FuzzReturnPath(f *testing.F) {
	f.Add([]byte("Return-Path: <bounce@example.org>\r\nFrom: a@b\r\n\r\nx"))
	f.Add([]byte("Return-Path: <>\r\n\r\n"))
	f.Add([]byte("Return-Path:\r\n <folded@example.org>\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if rp := returnPath(raw); strings.ContainsAny(rp, " <>\t\r\n") {
			t.Errorf("returnPath = %q", rp)
		}
	})
}
