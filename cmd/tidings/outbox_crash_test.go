package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitLogFor waits until serve has logged a line containing substr, or
// the deadline passes.
func waitLogFor(in *instance, substr string, deadline time.Time) bool {
	for !strings.Contains(in.Log(), substr) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// dirCount is the number of entries in dir (0 when it is not there).
func dirCount(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(ents)
}

// TestOutboxKillBeforeDelivery queues a digest that cannot be delivered
// yet, kills serve with SIGKILL while it waits in the outbox, repairs the
// cause and restarts: the mail arrives exactly once, and a second restart
// sends nothing more.
//
// Delivery is blocked by putting a regular file where one of the Maildir's
// directories should be, which stops root as well as anyone (file
// permissions would not). With new/ blocked the mail is complete in tmp/
// and marked as moving when serve dies, the case the Maildir delivery's
// recovery exists for; with tmp/ blocked it was never written.
func TestOutboxKillBeforeDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("waits minutes on the real clock")
	}
	t.Parallel()
	for _, blocked := range []string{"new", "tmp"} {
		t.Run(blocked+" blocked", func(t *testing.T) {
			t.Parallel()
			in := newInstance(t)
			in.Start()
			in.MustRun("team", "add", "eng", "--allow", "news@example.org")
			due := nextSlot(15 * time.Second)
			in.MustRun(append([]string{"member", "add", "Ana <ana@example.com>", "--team", "eng"}, slotFlags(t, "Europe/Berlin", due)...)...)
			if r := in.Send("news@example.org", []string{"eng@localhost"},
				post("News <news@example.org>", "Release notes", "notes@example.org", "marker-notes Version 2 is out.")); r.Code != 250 {
				t.Fatalf("send: %s", r)
			}

			outbox := filepath.Join(in.DataDir, "outbox")
			dir := filepath.Join(outbox, blocked)
			if err := os.Rename(dir, dir+".away"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, []byte("in the way\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if !waitLogFor(in, "delivery failed, will retry", due.Add(90*time.Second)) {
				t.Fatalf("no failed delivery logged by %s", due.Add(90*time.Second))
			}
			if blocked == "new" {
				if n := dirCount(t, filepath.Join(outbox, "tmp")); n != 1 {
					t.Errorf("with new/ blocked, %d files in tmp/ when killed, want the one mail", n)
				}
			}
			in.Kill()

			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(dir+".away", dir); err != nil {
				t.Fatal(err)
			}
			in.Start()
			waitOutbox(t, in, 1, time.Now().Add(150*time.Second))
			// A second copy would come in the same pass: give it a moment.
			time.Sleep(2 * time.Second)
			files := outboxFiles(t, in)
			if len(files) != 1 {
				t.Fatalf("%d mails in new/ after the restart, want 1: %v", len(files), files)
			}
			d := readDelivered(t, files[0])
			if d.to(t) != "ana@example.com" || !strings.Contains(d.text, "marker-notes") {
				t.Errorf("delivered mail to %s:\n%s", d.to(t), d.text)
			}
			id := d.header.Get("Message-Id")
			if n := strings.Count(in.Log(), "msg=delivered"); n != 1 {
				t.Errorf("%d deliveries logged, want 1", n)
			}
			if !strings.Contains(in.Log(), "message_id="+strings.Trim(id, "<>")) {
				t.Errorf("the delivered Message-ID %s is not the one logged", id)
			}
			if n := dirCount(t, filepath.Join(outbox, "tmp")); n != 0 {
				t.Errorf("%d files left in tmp/", n)
			}

			in.Stop()
			in.Start()
			if !waitLogFor(in, "scheduler started", time.Now().Add(10*time.Second)) {
				t.Fatal("serve did not start its scheduler")
			}
			// The deliverer's first pass runs at start; a mail still queued
			// would be due at once.
			time.Sleep(3 * time.Second)
			if after := outboxFiles(t, in); len(after) != 1 {
				t.Errorf("after a second restart: %d mails in new/, want 1: %v", len(after), after)
			}
			if n := strings.Count(in.Log(), "msg=delivered"); n != 1 {
				t.Errorf("after a second restart, %d deliveries logged, want 1", n)
			}
		})
	}
}

// TestOutboxKillDuringBurst makes many digests fall due at one instant and
// kills serve with SIGKILL at random moments while it claims, queues and
// delivers them, twice: in the end every member has exactly one digest,
// each under its own Message-ID.
func TestOutboxKillDuringBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("waits minutes on the real clock")
	}
	t.Parallel()
	const members = 200
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng", "--allow", "news@example.org")
	due := nextSlot(45 * time.Second)
	flags := slotFlags(t, "America/Sao_Paulo", due)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range members {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			in.MustRun(append([]string{"member", "add", fmt.Sprintf("m%03d@example.com", i), "--team", "eng"}, flags...)...)
		})
	}
	wg.Wait()
	if time.Until(due) < 2*time.Second {
		t.Fatalf("adding %d members took until %s, past the slot's lead", members, time.Now())
	}
	if r := in.Send("news@example.org", []string{"eng@localhost"},
		post("News <news@example.org>", "Release notes", "notes@example.org", "marker-notes Version 2 is out.")); r.Code != 250 {
		t.Fatalf("send: %s", r)
	}

	outbox := filepath.Join(in.DataDir, "outbox")
	// The burst takes a fraction of a second (150 digests claimed, queued
	// and delivered in about 90 ms on the machine this was written on):
	// each kill waits for the burst's first sign in the log, then a
	// random moment, and what it interrupted is logged.
	progress := func() (queued, delivered, inNew int) {
		log := in.Log()
		return strings.Count(log, "digest queued"), strings.Count(log, "msg=delivered"), len(outboxFiles(t, in))
	}
	killMidway := func(which string, base int, window time.Duration) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		if due.After(time.Now()) {
			deadline = due.Add(30 * time.Second)
		}
		for q, _, _ := progress(); q == base && q < members && time.Now().Before(deadline); q, _, _ = progress() {
			time.Sleep(2 * time.Millisecond)
		}
		delay := rand.N(window)
		time.Sleep(delay)
		in.Kill()
		q, d, n := progress()
		t.Logf("%s kill %s after the first digest it saw queued: %d of %d queued, %d deliveries logged, %d files in new/",
			which, delay.Round(time.Millisecond), q, members, d, n)
	}
	killMidway("first", 0, 100*time.Millisecond)
	q, _, _ := progress()
	in.Start()
	killMidway("second", q, 60*time.Millisecond)
	in.Start()

	waitOutbox(t, in, members, time.Now().Add(150*time.Second))
	time.Sleep(2 * time.Second)
	files := outboxFiles(t, in)
	if len(files) != members {
		t.Errorf("%d mails in new/, want %d", len(files), members)
	}
	ids, tos := map[string]string{}, map[string]bool{}
	for _, f := range files {
		d := readDelivered(t, f)
		to := d.to(t)
		if tos[to] {
			t.Errorf("%s got two digests", to)
		}
		tos[to] = true
		id := d.header.Get("Message-Id")
		if other, dup := ids[id]; dup {
			t.Errorf("Message-ID %s on %s and %s", id, other, f)
		}
		ids[id] = f
	}
	for i := range members {
		if a := fmt.Sprintf("m%03d@example.com", i); !tos[a] {
			t.Errorf("%s got no digest", a)
		}
	}
	if n := dirCount(t, filepath.Join(outbox, "tmp")); n != 0 {
		t.Errorf("%d files left in tmp/", n)
	}

	in.Stop()
	in.Start()
	time.Sleep(3 * time.Second)
	if after := outboxFiles(t, in); len(after) != members {
		t.Errorf("after a clean restart: %d mails in new/, want %d", len(after), members)
	}
}
