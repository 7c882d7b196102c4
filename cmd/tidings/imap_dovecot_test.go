package main

// The IMAP poller through the built binary against a real Dovecot: each
// test runs its own Dovecot (testdata/dovecot/run.sh) on a free loopback
// port, with one passwd-file user and a Maildir under a temporary
// directory, and puts mail into it with IMAP APPEND.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

const (
	dovecotBin  = "/usr/sbin/dovecot"
	dovecotUser = "team@localhost"
	dovecotPass = "imap pass 1"
)

// dovecotServer is one private Dovecot.
type dovecotServer struct {
	t    *testing.T
	Addr string
	Conf string // its dovecot.conf, for doveadm
}

// startDovecot runs a Dovecot of the test's own until the test ends. It
// skips the test where Dovecot is not installed, except under CI=true,
// where the IMAP tests must run.
func startDovecot(t *testing.T) *dovecotServer {
	t.Helper()
	if _, err := os.Stat(dovecotBin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: under CI=true the IMAP integration tests must run (.ci/run installs dovecot-imapd)", dovecotBin)
		}
		t.Skipf("%s is not installed (Debian: apt-get install dovecot-imapd); skipping the IMAP integration test", dovecotBin)
	}
	// A short directory: Dovecot's sockets live under it.
	dir, err := os.MkdirTemp("", "tdv")
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("testdata/dovecot/run.sh", dir, port, dovecotUser, dovecotPass)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	d := &dovecotServer{t: t, Addr: addr, Conf: filepath.Join(dir, "dovecot.conf")}
	t.Cleanup(func() {
		// The script exec'd Dovecot's master: SIGTERM stops all of it.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Logf("dovecot output:\n%s\ndovecot.log:\n%s", out.String(), log)
		}
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(30 * time.Second)
	for !imapGreets(addr) {
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot exited during start-up:\n%s\n%s", out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot did not greet on %s within 30s:\n%s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

func imapGreets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "* OK")
}

// client logs in as the test's user.
func (d *dovecotServer) client() *imapclient.Client {
	d.t.Helper()
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		d.t.Fatalf("dial dovecot: %v", err)
	}
	if err := c.Login(dovecotUser, dovecotPass).Wait(); err != nil {
		c.Close()
		d.t.Fatalf("login to dovecot: %v", err)
	}
	return c
}

// Append puts a message into a mailbox with IMAP APPEND, as a mail
// client or the delivery agent would.
func (d *dovecotServer) Append(mailbox, raw string) {
	d.t.Helper()
	raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n")
	c := d.client()
	defer c.Close()
	cmd := c.Append(mailbox, int64(len(raw)), nil)
	if _, err := cmd.Write([]byte(raw)); err != nil {
		d.t.Fatalf("append: %v", err)
	}
	if err := cmd.Close(); err != nil {
		d.t.Fatalf("append: %v", err)
	}
	if _, err := cmd.Wait(); err != nil {
		d.t.Fatalf("append to %s: %v", mailbox, err)
	}
}

// dovecotMsg is a message as Dovecot holds it.
type dovecotMsg struct {
	MessageID string
	Flags     []imap.Flag
}

func (m dovecotMsg) has(f imap.Flag) bool { return slices.Contains(m.Flags, f) }

// List returns a mailbox's messages; ok is false when it does not exist.
func (d *dovecotServer) List(mailbox string) (ms []dovecotMsg, ok bool) {
	d.t.Helper()
	c := d.client()
	defer c.Close()
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, false
	}
	if sel.NumMessages == 0 {
		return nil, true
	}
	bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
	if err != nil {
		d.t.Fatalf("fetch %s: %v", mailbox, err)
	}
	for _, b := range bufs {
		ms = append(ms, dovecotMsg{MessageID: b.Envelope.MessageID, Flags: b.Flags})
	}
	return ms, true
}

// imapInstance is a tidings instance polling the Dovecot's INBOX with
// after, team eng with ana as a member. Extra TOML is appended.
func imapInstance(t *testing.T, d *dovecotServer, after string, extraTOML ...string) *instance {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "imap.pw")
	if err := os.WriteFile(pw, []byte(dovecotPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	block := fmt.Sprintf("[[imap]]\naddress = %q\ntls = \"none\"\nusername = %q\npassword_file = %q\nteam = \"eng\"\nafter = %q\n",
		d.Addr, dovecotUser, pw, after)
	in := newInstance(t, append([]string{block}, extraTOML...)...)
	// The team and member exist before the poller first looks.
	in.MustRun("team", "add", "eng")
	in.MustRun("member", "add", "Ana <ana@example.com>", "--team", "eng")
	return in
}

// threadsOf lists the instance's threads.
func threadsOf(t *testing.T, in *instance) []threadJSON {
	t.Helper()
	var ths []threadJSON
	if err := json.Unmarshal([]byte(in.MustRun("threads", "--json")), &ths); err != nil {
		t.Fatalf("threads --json: %v", err)
	}
	return ths
}

// messageIDs are all messages' IDs in all threads, sorted.
func messageIDs(ths []threadJSON) []string {
	var ids []string
	for _, th := range ths {
		ids = append(ids, th.MessageIDs...)
	}
	slices.Sort(ids)
	return ids
}

// eventually polls cond for up to a minute: the tests wait on state and
// never assert on how fast it comes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after a minute waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// allFlagged reports whether mailbox holds exactly n messages and all of
// them carry f.
func (d *dovecotServer) allFlagged(mailbox string, n int, f imap.Flag) bool {
	ms, ok := d.List(mailbox)
	if !ok || len(ms) != n {
		return false
	}
	for _, m := range ms {
		if !m.has(f) {
			return false
		}
	}
	return true
}

func imapPost(from, subject, id, body string, replyTo ...string) string {
	var extra []string
	if len(replyTo) > 0 {
		extra = append(extra, "In-Reply-To: <"+replyTo[0]+">", "References: <"+strings.Join(replyTo, "> <")+">")
	}
	return post(from, subject, id, body, extra...)
}

// TestIMAPDovecotSeen ingests and threads mail from Dovecot, marks it
// \Seen, leaves a stranger's mail flagged, and takes a message appended
// while serve idles within the minute — with IDLE renewed only every 25
// minutes, that is the server's push at work.
func TestIMAPDovecotSeen(t *testing.T) {
	t.Parallel()
	d := startDovecot(t)
	// A second mailbox block with a wrong password: its failures are
	// logged while the first works and SMTP keeps answering.
	badPW := filepath.Join(t.TempDir(), "bad.pw")
	if err := os.WriteFile(badPW, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := imapInstance(t, d, "seen", fmt.Sprintf("[[imap]]\naddress = %q\ntls = \"none\"\nusername = %q\npassword_file = %q\nmailbox = \"Other\"\nteam = \"eng\"\n",
		d.Addr, dovecotUser, badPW))
	d.Append("INBOX", imapPost("Ana <ana@example.com>", "Release plan", "plan@example.com", "We ship Friday."))
	d.Append("INBOX", imapPost("Ana <ana@example.com>", "Re: Release plan", "plan-2@example.com", "Docs are ready.", "plan@example.com"))
	d.Append("INBOX", imapPost("Mallory <mallory@elsewhere.example>", "Offer", "offer@elsewhere.example", "Cheap."))
	in.Start()

	eventually(t, "two messages in one thread", func() bool {
		ths := threadsOf(t, in)
		return len(ths) == 1 && len(ths[0].MessageIDs) == 2
	})
	eventually(t, "the stored messages marked seen, the stranger's flagged", func() bool {
		ms, _ := d.List("INBOX")
		if len(ms) != 3 {
			return false
		}
		for _, m := range ms {
			refused := m.MessageID == "offer@elsewhere.example"
			if m.has(imap.FlagSeen) == refused || m.has(imap.FlagFlagged) != refused {
				return false
			}
		}
		return true
	})

	if !waitLogFor(in, "imap mailbox selected", time.Now().Add(time.Minute)) {
		t.Fatal("the poller never selected its mailbox")
	}
	d.Append("INBOX", imapPost("Ana <ana@example.com>", "Re: Release plan", "plan-3@example.com", "Tagged.", "plan-2@example.com", "plan@example.com"))
	eventually(t, "the message appended during IDLE", func() bool {
		ths := threadsOf(t, in)
		return len(ths) == 1 && len(ths[0].MessageIDs) == 3
	})

	if !waitLogFor(in, "imap login failed", time.Now().Add(time.Minute)) {
		t.Error("the wrong password was not logged")
	}
	if strings.Contains(in.Log(), dovecotPass) {
		t.Error("the password is in the log")
	}
	if r := in.Send("ana@example.com", []string{"eng@localhost"}, post("Ana <ana@example.com>", "By SMTP", "smtp@example.com", "Still here.")); r.Code != 250 {
		t.Errorf("SMTP beside a failing poller: %s", r)
	}
	in.Stop()
}

// TestIMAPDovecotMove moves what it stores to a folder it creates.
func TestIMAPDovecotMove(t *testing.T) {
	t.Parallel()
	d := startDovecot(t)
	in := imapInstance(t, d, "move:Processed")
	in.MustRun("member", "add", "Bo <bo@example.com>", "--team", "eng")
	d.Append("INBOX", imapPost("Ana <ana@example.com>", "Standup", "standup@example.com", "Notes."))
	d.Append("INBOX", imapPost("Ana <ana@example.com>", "Re: Standup", "standup-2@example.com", "More notes.", "standup@example.com"))
	in.Start()
	eventually(t, "INBOX emptied into Processed", func() bool {
		inbox, _ := d.List("INBOX")
		done, ok := d.List("Processed")
		return len(inbox) == 0 && ok && len(done) == 2
	})
	if ths := threadsOf(t, in); len(ths) != 1 || len(ths[0].MessageIDs) != 2 {
		t.Errorf("threads after the move: %+v", ths)
	}

	// A reply to Bo's reply address, delivered into the team's mailbox
	// (plus-addressing): no threading headers, yet it joins its thread as
	// his, found from the Delivered-To the delivering MTA wrote.
	addr := previewReplyAddress(t, in, "bo@example.com", "Standup")
	d.Append("INBOX", "Delivered-To: "+addr+"\r\n"+post("Bo <bo@example.com>", "Quick one", "bo-imap@example.com", "Count me in."))
	eventually(t, "Bo's reply in the Standup thread", func() bool {
		ths := threadsOf(t, in)
		return len(ths) == 1 && slices.Contains(ths[0].MessageIDs, "bo-imap@example.com")
	})
	ths := threadsOf(t, in)
	if ms := showJSON(t, in, ths[0].ID); ms[len(ms)-1].Via != "reply-address" || ms[len(ms)-1].From != "bo@example.com" {
		t.Errorf("the reply fetched by IMAP: %+v", ms[len(ms)-1])
	}
	in.Stop()
}

// TestIMAPDovecotKillBeforeMark kills serve with SIGKILL after it has
// stored a message and before it has marked it \Seen: after the restart
// the message is marked, and stored once.
func TestIMAPDovecotKillBeforeMark(t *testing.T) {
	t.Parallel()
	d := startDovecot(t)
	in := imapInstance(t, d, "seen")
	in.Env = []string{testCrashEnv + "=imap-after-store"}
	d.Append("INBOX", imapPost("Ana <ana@example.com>", "Incident", "incident@example.com", "The site is down."))
	in.Start()
	if !waitLogFor(in, "test hook: holding after storing", time.Now().Add(time.Minute)) {
		t.Fatal("the poller never reached the crash point")
	}
	if ids := messageIDs(threadsOf(t, in)); !slices.Equal(ids, []string{"incident@example.com"}) {
		t.Fatalf("stored before the crash: %v", ids)
	}
	if ms, _ := d.List("INBOX"); len(ms) != 1 || ms[0].has(imap.FlagSeen) {
		t.Fatalf("INBOX before the crash: %+v", ms)
	}
	in.Kill()

	in.Env = nil
	in.Start()
	eventually(t, "the message marked seen after the restart", func() bool { return d.allFlagged("INBOX", 1, imap.FlagSeen) })
	if !strings.Contains(in.Log(), "imap marking messages stored before a restart") {
		t.Error("the restart did not say it finished the marking")
	}
	d.Append("INBOX", imapPost("Ana <ana@example.com>", "Re: Incident", "incident-2@example.com", "Back up.", "incident@example.com"))
	eventually(t, "the next message", func() bool { return len(messageIDs(threadsOf(t, in))) == 2 })
	if ids := messageIDs(threadsOf(t, in)); !slices.Equal(ids, []string{"incident-2@example.com", "incident@example.com"}) {
		t.Errorf("stored: %v", ids)
	}
	if n := strings.Count(in.Log(), "imap message stored"); n != 2 {
		t.Errorf("%d messages stored in the log, want 2", n)
	}
	in.Stop()
}

// TestIMAPDovecotUIDValidity gives the mailbox a new UIDVALIDITY between
// two runs: everything is fetched again and nothing is stored twice.
func TestIMAPDovecotUIDValidity(t *testing.T) {
	t.Parallel()
	d := startDovecot(t)
	in := imapInstance(t, d, "seen")
	d.Append("INBOX", imapPost("Ana <ana@example.com>", "One", "one@example.com", "1"))
	d.Append("INBOX", imapPost("Ana <ana@example.com>", "Two", "two@example.com", "2"))
	in.Start()
	eventually(t, "two messages marked", func() bool { return d.allFlagged("INBOX", 2, imap.FlagSeen) })
	in.Stop()

	out, err := exec.Command("doveadm", "-c", d.Conf, "mailbox", "update", "-u", dovecotUser, "--uid-validity", "12345", "INBOX").CombinedOutput()
	if err != nil {
		t.Fatalf("doveadm mailbox update: %v\n%s", err, out)
	}
	d.Append("INBOX", imapPost("Ana <ana@example.com>", "Three", "three@example.com", "3"))
	in.Start()
	eventually(t, "the third message marked", func() bool { return d.allFlagged("INBOX", 3, imap.FlagSeen) })
	if ids := messageIDs(threadsOf(t, in)); !slices.Equal(ids, []string{"one@example.com", "three@example.com", "two@example.com"}) {
		t.Errorf("stored: %v", ids)
	}
	if !strings.Contains(in.Log(), "UIDVALIDITY changed") || !strings.Contains(in.Log(), "new=12345") {
		t.Error("the new UIDVALIDITY was not logged")
	}
	if n := strings.Count(in.Log(), "imap message already stored"); n != 2 {
		t.Errorf("%d messages found already stored, want 2", n)
	}
	in.Stop()
}
