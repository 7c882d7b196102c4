package digest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

// runWorld is a real store with team eng and two members, and a Runner
// whose queue records the outbox IDs it was given.
type runWorld struct {
	st     *store.Store
	r      *Runner
	queued []Outgoing
	thread uint64
	seq    int
}

func newRunWorld(t *testing.T) *runWorld {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "tidings.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	joined := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.AddTeam(store.Team{Name: "eng", Address: "eng@example.com"}); err != nil {
			return err
		}
		for _, m := range []store.Member{
			{Address: "ana@example.com", Name: "Ana", Zone: "Europe/Berlin", Start: "09:00", Days: "mon-fri", Teams: map[string]string{"eng": store.ModeDigest}, Joined: joined},
			{Address: "bo@example.com", Name: "Bo", Zone: "America/New_York", Start: "09:00", Days: "mon-fri", Teams: map[string]string{"eng": store.ModeDigest}, Joined: joined},
		} {
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	w := &runWorld{st: st}
	w.r = &Runner{Store: st, Renderer: rd, Links: links.Signer{Domain: "example.com"},
		Queue: func(tx *store.Tx, o Outgoing) (uint64, error) {
			m := &store.OutMail{MessageID: o.Key, Kind: "digest", Member: o.Digest.Member.Address, Queued: o.Digest.Due}
			if err := tx.Enqueue(m, o.Text); err != nil {
				return 0, err
			}
			w.queued = append(w.queued, o) // safe here: no sibling call can make the store run this again
			return m.ID, nil
		}}
	return w
}

// post stores a message in the one thread of the world, as the pipeline
// would: node, thread and message in one transaction.
func (w *runWorld) post(t *testing.T, from, text string, at time.Time) {
	t.Helper()
	w.seq++
	mid := from + "." + at.Format("150405") + "@example.com"
	err := w.st.Update(context.Background(), func(tx *store.Tx) error {
		if w.thread == 0 {
			id, err := tx.NewThread(store.Thread{Team: "eng", Subject: "Launch plan", Created: at, LastAt: at})
			if err != nil {
				return err
			}
			w.thread = id
		}
		th, err := tx.Thread(w.thread)
		if err != nil {
			return err
		}
		th.Count, th.LastAt = th.Count+1, at
		if err := tx.PutThread(th); err != nil {
			return err
		}
		seq, err := tx.ReserveSeq()
		if err != nil {
			return err
		}
		if err := tx.PutNode("eng", store.Node{MessageID: mid, Thread: w.thread, Seq: seq, Date: at}); err != nil {
			return err
		}
		return tx.AddMessage(&store.Message{Seq: seq, Team: "eng", MessageID: mid, From: from, Subject: "Launch plan",
			Date: at, Received: at, Kind: store.KindMessage, Text: text}, []byte("raw"))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (w *runWorld) state(t *testing.T, member string) store.DigestState {
	t.Helper()
	var st store.DigestState
	w.st.View(func(tx *store.Tx) error { st, _, _ = tx.DigestState(member); return nil })
	return st
}

func TestClaim(t *testing.T) {
	w := newRunWorld(t)
	ctx := context.Background()
	mon := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) // 09:00 in Berlin
	w.post(t, "ana@example.com", "We ship on Friday.", mon.Add(-20*time.Hour))
	w.post(t, "bo@example.com", "Sounds good, I will prepare the notes.", mon.Add(-19*time.Hour))

	if err := w.r.Claim(ctx, Slot{Member: "ana@example.com", Due: mon}); err != nil {
		t.Fatal(err)
	}
	if len(w.queued) != 1 {
		t.Fatalf("queued %d digests, want 1", len(w.queued))
	}
	text := string(w.queued[0].Text)
	if !strings.Contains(text, "prepare the notes") || strings.Contains(text, "We ship on Friday") {
		t.Errorf("Ana's digest should have Bo's message and not her own:\n%s", text)
	}
	st := w.state(t, "ana@example.com")
	if !st.LastDue.Equal(mon) || st.Cursor != 2 || st.LastOut == 0 {
		t.Errorf("state after the claim: %+v", st)
	}

	// The same slot again, as after a crash before the scheduler knew: nothing.
	if err := w.r.Claim(ctx, Slot{Member: "ana@example.com", Due: mon}); err != nil {
		t.Fatal(err)
	}
	// The next day with nothing new: claimed, not sent.
	tue := mon.Add(24 * time.Hour)
	if err := w.r.Claim(ctx, Slot{Member: "ana@example.com", Due: tue}); err != nil {
		t.Fatal(err)
	}
	if len(w.queued) != 1 {
		t.Errorf("queued %d digests after a repeated and an empty slot, want 1", len(w.queued))
	}
	if st := w.state(t, "ana@example.com"); !st.LastDue.Equal(tue) {
		t.Errorf("empty slot not claimed: %+v", st)
	}

	// A skipped slot moves the slot on but not the cursor: Bo's next digest
	// still holds Ana's message.
	if err := w.r.Claim(ctx, Slot{Member: "bo@example.com", Due: mon.Add(6 * time.Hour), Skip: true}); err != nil {
		t.Fatal(err)
	}
	if st := w.state(t, "bo@example.com"); st.Cursor != 0 || !st.LastDue.Equal(mon.Add(6*time.Hour)) {
		t.Errorf("skip: %+v", st)
	}
	if err := w.r.Claim(ctx, Slot{Member: "bo@example.com", Due: tue.Add(6 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if len(w.queued) != 2 || !strings.Contains(string(w.queued[1].Text), "We ship on Friday") {
		t.Errorf("Bo's digest after a skip: %d queued", len(w.queued))
	}

	// Preview claims nothing.
	w.post(t, "bo@example.com", "Notes are up.", tue.Add(time.Hour))
	before := w.state(t, "ana@example.com")
	_, text2, html, ok, err := w.r.Preview("ana@example.com", tue.Add(24*time.Hour))
	if err != nil || !ok || !strings.Contains(string(text2), "Notes are up") || !strings.Contains(string(html), "Notes are up") {
		t.Errorf("preview: ok %v err %v\n%s", ok, err, text2)
	}
	if after := w.state(t, "ana@example.com"); after.Cursor != before.Cursor || !after.LastDue.Equal(before.LastDue) {
		t.Errorf("preview changed the state: %+v -> %+v", before, after)
	}
}

// TestClaimAfterRotation: the runner reads the instance secrets in each
// claim, so a rotation while serving counts from the next digest, and the
// previous digest's reply address still checks within the grace.
func TestClaimAfterRotation(t *testing.T) {
	w := newRunWorld(t)
	ctx := context.Background()
	mon := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	w.post(t, "bo@example.com", "First notes.", mon.Add(-time.Hour))
	if err := w.r.Claim(ctx, Slot{Member: "ana@example.com", Due: mon}); err != nil {
		t.Fatal(err)
	}
	if err := w.st.Update(ctx, func(tx *store.Tx) error { return tx.RotateSecret(mon, 24*time.Hour) }); err != nil {
		t.Fatal(err)
	}
	w.post(t, "bo@example.com", "More notes.", mon.Add(time.Hour))
	if err := w.r.Claim(ctx, Slot{Member: "ana@example.com", Due: mon.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if len(w.queued) != 2 {
		t.Fatalf("queued %d digests, want 2", len(w.queued))
	}
	before, after := w.queued[0].Digest.ReplyTo, w.queued[1].Digest.ReplyTo
	if before == "" || before == after {
		t.Fatalf("reply address before the rotation %q, after %q: want two different ones", before, after)
	}
	var signer links.Signer
	err := w.st.View(func(tx *store.Tx) error {
		var err error
		signer, err = links.FromTx(tx, mon.Add(time.Hour), "example.com", "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	eng := store.Team{Name: "eng", Address: "eng@example.com"}
	if want := signer.DigestAddress(eng, "ana@example.com"); after != want {
		t.Errorf("reply address after the rotation %q, want %q (the new secret's)", after, want)
	}
	_, tok, _ := links.SplitAddress(before)
	if _, ok := signer.CheckToken(eng, "ana@example.com", tok); !ok {
		t.Errorf("the earlier digest's reply address %q is refused within the grace", before)
	}
}
