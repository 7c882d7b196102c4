package mailout

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidings/tidings/store"
)

func TestMaildirName(t *testing.T) {
	t.Parallel()
	q := time.Date(2026, 11, 30, 8, 0, 0, 123456789, time.UTC)
	for _, c := range []struct {
		m    store.OutMail
		want string
	}{
		{store.OutMail{ID: 7, Queued: q, MessageID: "digest.abc@example.com"}, "1796025600.M123456Q7.example.com"},
		{store.OutMail{ID: 7, Queued: q.In(time.FixedZone("X", 3600)), MessageID: "a@b"}, "1796025600.M123456Q7.b"},
		{store.OutMail{ID: 12, Queued: q, MessageID: "x@[1.2.3.4]"}, "1796025600.M123456Q12._1.2.3.4_"},
		{store.OutMail{ID: 12, Queued: q, MessageID: "x@a/b:c"}, "1796025600.M123456Q12.a_b_c"},
		{store.OutMail{ID: 1, Queued: q, MessageID: "nodomain"}, "1796025600.M123456Q1.tidings"},
	} {
		if got := MaildirName(c.m); got != c.want {
			t.Errorf("MaildirName(%d, %q) = %q, want %q", c.m.ID, c.m.MessageID, got, c.want)
		}
	}
}

func TestMaildirDelivery(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	dir := filepath.Join(t.TempDir(), "outbox")
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	ids := queue(t, st, now, testMail(1), testMail(2), testMail(3))
	d := &Deliverer{Store: st, Dir: dir, Now: func() time.Time { return now.Add(time.Second) }, Logger: testLogger(t)}
	d.setup()
	if err := (maildir{dir}).init(); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"", "tmp", "new", "cur"} {
		checkMode(t, filepath.Join(dir, sub), 0o700)
	}
	next, ok, err := d.deliverDue(context.Background())
	if err != nil || ok {
		t.Fatalf("deliverDue: next %v %v, err %v; want nothing left", next, ok, err)
	}
	var want []string
	for _, id := range ids {
		m, raw := outMail(t, st, id)
		name := MaildirName(m)
		want = append(want, name)
		if m.State != store.OutSent || m.Attempts != 1 || !m.Done.Equal(now.Add(time.Second)) ||
			m.LastAnswer != "delivered to new/"+name {
			t.Errorf("record %d after delivery: %+v", id, m)
		}
		got, err := os.ReadFile(filepath.Join(dir, "new", name))
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("new/%s: %v; the file must hold the queued bytes", name, err)
		}
		checkMode(t, filepath.Join(dir, "new", name), 0o600)
	}
	slices.Sort(want)
	if got := files(t, filepath.Join(dir, "new")); !slices.Equal(got, want) {
		t.Errorf("new/ = %q, want %q", got, want)
	}
	if got := files(t, filepath.Join(dir, "tmp")); len(got) != 0 {
		t.Errorf("tmp/ = %q, want empty", got)
	}
	// Nothing is due any more: another pass writes nothing.
	if _, _, err := d.deliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := files(t, filepath.Join(dir, "new")); len(got) != len(ids) {
		t.Errorf("after a second pass new/ = %q", got)
	}
}

// TestMaildirManyInOnePass: more mails than a batch are all delivered by
// one pass.
func TestMaildirManyInOnePass(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	dir := filepath.Join(t.TempDir(), "outbox")
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	var mails []Mail
	for i := range 2*batchSize + 5 {
		mails = append(mails, testMail(i))
	}
	queue(t, st, now, mails...)
	d := &Deliverer{Store: st, Dir: dir, Now: func() time.Time { return now }}
	d.setup()
	if err := (maildir{dir}).init(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.deliverDue(context.Background()); err != nil || ok {
		t.Fatalf("ok %v err %v", ok, err)
	}
	if got := files(t, filepath.Join(dir, "new")); len(got) != len(mails) {
		t.Errorf("%d files in new/, want %d", len(got), len(mails))
	}
}

var errCrash = errors.New("crash")

// TestMaildirCrash stops a pass at each point a crash can fall — the file
// complete in tmp/, the move recorded, the rename done — and lets a reader
// of the Maildir act before the restart. Whatever happened, the mail must
// reach the Maildir exactly once and be recorded sent.
func TestMaildirCrash(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		stage  string
		reader string // what a Maildir reader does before the restart: "", "take" (to cur/) or "delete"
		// files in new/ and cur/ after the restart
		wantNew, wantCur int
	}{
		{"written", "", 1, 0},
		{"marked", "", 1, 0},
		{"moved", "", 1, 0},
		{"moved", "take", 0, 1},
		{"moved", "delete", 0, 0},
	} {
		t.Run(c.stage+"/"+c.reader, func(t *testing.T) {
			t.Parallel()
			st, _ := openStore(t)
			dir := filepath.Join(t.TempDir(), "outbox")
			now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
			id := queue(t, st, now, testMail(1))[0]
			d := &Deliverer{Store: st, Dir: dir, Now: func() time.Time { return now }, Logger: testLogger(t),
				crash: func(stage string) error {
					if stage == c.stage {
						return errCrash
					}
					return nil
				}}
			d.setup()
			if err := (maildir{dir}).init(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := d.deliverDue(context.Background()); !errors.Is(err, errCrash) {
				t.Fatalf("first pass: %v, want the crash", err)
			}
			m, _ := outMail(t, st, id)
			name := MaildirName(m)
			if m.State != store.OutQueued {
				t.Fatalf("after the crash the mail is %s", m.State)
			}
			switch c.reader {
			case "take":
				if err := os.Rename(filepath.Join(dir, "new", name), filepath.Join(dir, "cur", name+":2,S")); err != nil {
					t.Fatal(err)
				}
			case "delete":
				if err := os.Remove(filepath.Join(dir, "new", name)); err != nil {
					t.Fatal(err)
				}
			}

			// The restart: a new Deliverer, later.
			later := now.Add(time.Minute)
			d2 := &Deliverer{Store: st, Dir: dir, Now: func() time.Time { return later }, Logger: testLogger(t)}
			if err := d2.Run(cancelled()); err != nil {
				t.Fatal(err)
			}
			d2.setup()
			if _, _, err := d2.deliverDue(context.Background()); err != nil {
				t.Fatal(err)
			}
			m, raw := outMail(t, st, id)
			if m.State != store.OutSent || !m.Done.Equal(later) {
				t.Errorf("after the restart: %+v", m)
			}
			if n := len(files(t, filepath.Join(dir, "new"))); n != c.wantNew {
				t.Errorf("%d files in new/, want %d", n, c.wantNew)
			}
			if n := len(files(t, filepath.Join(dir, "cur"))); n != c.wantCur {
				t.Errorf("%d files in cur/, want %d", n, c.wantCur)
			}
			if got := files(t, filepath.Join(dir, "tmp")); len(got) != 0 {
				t.Errorf("tmp/ = %q, want empty", got)
			}
			if c.wantNew == 1 {
				got, err := os.ReadFile(filepath.Join(dir, "new", name))
				if err != nil || !bytes.Equal(got, raw) {
					t.Errorf("new/%s: %v, not the queued bytes", name, err)
				}
			}
		})
	}
}

// cancelled is a context that has ended: Run with it only sets up the
// Maildir.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestMaildirKill is TestMaildirCrash with a real crash: a child process
// (this test binary) delivers and SIGKILLs itself at each point; the parent
// then restarts delivery on the same database and Maildir.
func TestMaildirKill(t *testing.T) {
	if os.Getenv("MAILOUT_KILL_STAGE") != "" {
		killChild(t)
		return
	}
	t.Parallel()
	for _, stage := range []string{"written", "marked", "moved"} {
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			dbPath, dir := filepath.Join(base, "tidings.db"), filepath.Join(base, "outbox")
			st, err := store.Open(dbPath, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			ids := queue(t, st, now, testMail(1), testMail(2), testMail(3))
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(os.Args[0], "-test.run=^TestMaildirKill$", "-test.count=1")
			cmd.Env = append(os.Environ(), "MAILOUT_KILL_STAGE="+stage, "MAILOUT_KILL_DB="+dbPath, "MAILOUT_KILL_DIR="+dir)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child: %v, want killed by SIGKILL\n%s", err, out)
			}

			st, err = store.Open(dbPath, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			d := &Deliverer{Store: st, Dir: dir, Logger: testLogger(t)}
			d.setup()
			if _, ok, err := d.deliverDue(context.Background()); err != nil || ok {
				t.Fatalf("restart: more due %v, err %v", ok, err)
			}
			var want []string
			for _, id := range ids {
				m, raw := outMail(t, st, id)
				if m.State != store.OutSent {
					t.Errorf("mail %d: %s after the restart", id, m.State)
				}
				name := MaildirName(m)
				want = append(want, name)
				if got, err := os.ReadFile(filepath.Join(dir, "new", name)); err != nil || !bytes.Equal(got, raw) {
					t.Errorf("new/%s: %v, not the queued bytes", name, err)
				}
			}
			slices.Sort(want)
			if got := files(t, filepath.Join(dir, "new")); !slices.Equal(got, want) {
				t.Errorf("new/ = %q, want %q: each mail exactly once", got, want)
			}
			if got := files(t, filepath.Join(dir, "tmp")); len(got) != 0 {
				t.Errorf("tmp/ = %q", got)
			}
		})
	}
}

// killChild delivers the outbox and kills itself at the stage named.
func killChild(t *testing.T) {
	st, err := store.Open(os.Getenv("MAILOUT_KILL_DB"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stage := os.Getenv("MAILOUT_KILL_STAGE")
	d := &Deliverer{Store: st, Dir: os.Getenv("MAILOUT_KILL_DIR"), crash: func(s string) error {
		if s == stage {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
		return nil
	}}
	d.setup()
	if err := (maildir{d.Dir}).init(); err != nil {
		t.Fatal(err)
	}
	_, _, err = d.deliverDue(context.Background())
	t.Fatalf("the child was not killed at %s: %v", stage, err)
}

// TestMaildirUnwritable: a Maildir that cannot be written is a temporary
// failure, retried later; nothing is marked moving, nothing is lost.
func TestMaildirUnwritable(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	dir := filepath.Join(t.TempDir(), "outbox")
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	id := queue(t, st, now, testMail(1))[0]
	d := &Deliverer{Store: st, Dir: dir, Now: func() time.Time { return now }, Logger: testLogger(t)}
	d.setup()
	if err := (maildir{dir}).init(); err != nil {
		t.Fatal(err)
	}
	// A file where tmp/ should be: every write fails, as on a full or
	// broken disk, for root too.
	if err := os.RemoveAll(filepath.Join(dir, "tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tmp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	next, ok, err := d.deliverDue(context.Background())
	if err != nil || !ok || !next.Equal(now.Add(time.Minute)) {
		t.Fatalf("next %v %v err %v, want a retry in a minute", next, ok, err)
	}
	m, _ := outMail(t, st, id)
	if m.State != store.OutQueued || m.Attempts != 1 || moving(m) || !strings.Contains(m.LastAnswer, "tmp") {
		t.Errorf("after a failed write: %+v", m)
	}
	// Repaired: the retry delivers it.
	os.Remove(filepath.Join(dir, "tmp"))
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, ok, err := d.deliverDue(context.Background()); err != nil || ok {
		t.Fatalf("retry: %v %v", ok, err)
	}
	m, _ = outMail(t, st, id)
	if m.State != store.OutSent || m.Attempts != 2 {
		t.Errorf("after the retry: %+v", m)
	}
	if n := len(files(t, filepath.Join(dir, "new"))); n != 1 {
		t.Errorf("%d files in new/", n)
	}
}
