package mailin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/store"
)

// recorder is a Notifier that keeps what it is given.
type recorder struct {
	mu      sync.Mutex
	posted  []store.Message
	answers []Answer
	queued  int // calls of the pipeline's Queued
}

func (r *recorder) Posted(_ *store.Tx, m *store.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posted = append(r.posted, *m)
	return nil
}

func (r *recorder) Answer(_ *store.Tx, a Answer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, a)
	return nil
}

// replyEnv is a store with team eng (eng@example.com), members ana (with an
// alias) and bo, a thread "Launch plan" and a pipeline on a fixed clock.
type replyEnv struct {
	st     *store.Store
	p      *Pipeline
	rec    *recorder
	now    time.Time
	eng    store.Team
	launch uint64 // the thread
	signer links.Signer
}

const (
	anaAddr   = "ana@example.com"
	anaAlias  = "ana.lima@phone.example"
	boAddr    = "bo@example.com"
	launchMID = "launch-1@example.com"
)

func newReplyEnv(t *testing.T) *replyEnv {
	t.Helper()
	st, err := store.Open(t.TempDir()+"/tidings.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &replyEnv{st: st, rec: &recorder{}, now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC),
		eng: store.Team{Name: "eng", Address: "eng@example.com"}}
	ctx := context.Background()
	err = st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.AddTeam(e.eng); err != nil {
			return err
		}
		if err := tx.AddTeam(store.Team{Name: "ops", Address: "ops@example.com", Allow: []string{"@example.com"}}); err != nil {
			return err
		}
		for _, m := range []store.Member{
			{Address: anaAddr, Name: "Ana", Aliases: []string{anaAlias}, Teams: map[string]string{"eng": store.ModeDigest, "ops": store.ModeDigest}},
			{Address: boAddr, Name: "Bo", Teams: map[string]string{"eng": store.ModeDigest}},
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
	e.p = NewPipeline(st, PipelineOptions{Domain: "example.com", Now: func() time.Time { return e.now }, Notifier: e.rec,
		Queued: func() { e.rec.mu.Lock(); e.rec.queued++; e.rec.mu.Unlock() }})
	e.deliver(t, nil, "Bo <bo@example.com>", "", msg("Bo <bo@example.com>", "eng@example.com", "Launch plan", launchMID, "We launch on Tuesday."))
	err = st.Update(ctx, func(tx *store.Tx) error {
		n, _, err := tx.Node("eng", launchMID)
		e.launch = n.Thread
		if err != nil {
			return err
		}
		e.signer, err = links.FromTx(tx, e.now, "example.com", "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// deliver hands raw to the pipeline as SMTP would for a message to the
// reply-address tokens (team → token) or, without, to eng.
func (e *replyEnv) deliver(t *testing.T, tokens map[string]string, _ string, _ string, raw string) (Outcome, error) {
	t.Helper()
	teams := []string{"eng"}
	for tm := range tokens {
		if !slices.Contains(teams, tm) {
			teams = append(teams, tm)
		}
	}
	return e.p.Deliver(context.Background(), Delivery{Teams: teams, Tokens: tokens, EnvelopeFrom: "sender@example.net", Raw: []byte(raw)})
}

func (e *replyEnv) token(member string, thread uint64) string {
	_, tok, _ := links.SplitAddress(e.signer.ReplyAddress(e.eng, member, thread))
	return tok
}

func (e *replyEnv) digestToken(member string) string {
	_, tok, _ := links.SplitAddress(e.signer.DigestAddress(e.eng, member))
	return tok
}

// message reads a stored message by Message-ID in eng, with its thread.
func (e *replyEnv) message(t *testing.T, mid string) (store.Message, bool) {
	t.Helper()
	var m store.Message
	found := false
	err := e.st.View(func(tx *store.Tx) error {
		return tx.MessagesSince(0, func(x store.Message) bool {
			if x.MessageID == mid {
				m, found = x, true
				if n, ok, _ := tx.Node(x.Team, mid); ok {
					m.Thread, m.Parent = n.Thread, n.Parent
				}
				return false
			}
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, found
}

func (e *replyEnv) member(t *testing.T, addr string) store.Member {
	t.Helper()
	var m store.Member
	if err := e.st.View(func(tx *store.Tx) error {
		var err error
		m, err = tx.Member(addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

func wantRejection(t *testing.T, err error, code int, enh [3]int) *Rejection {
	t.Helper()
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Code != code || rej.Enhanced != enh {
		t.Fatalf("got %v, want a %d %v rejection", err, code, enh)
	}
	return rej
}

func TestReplyAddressPostsAsTheMember(t *testing.T) {
	t.Parallel()
	e := newReplyEnv(t)
	tok := e.token(anaAddr, e.launch)
	body := "Tuesday works.\r\n\r\n-- \r\nAna\r\n\r\nOn Mon, 30 Nov 2026 at 09:00, Bo <bo@example.com> wrote:\r\n> We launch on Tuesday.\r\n"
	// No threading headers and a subject that threads nowhere.
	if _, err := e.deliver(t, map[string]string{"eng": tok}, "", "", msg("Ana <ana@example.com>", "eng+"+tok+"@example.com", "Quick answer", "r1@x", body)); err != nil {
		t.Fatal(err)
	}
	m, ok := e.message(t, "r1@x")
	if !ok || m.Thread != e.launch || m.Parent != launchMID || m.Text != "Tuesday works." || m.Via != viaReplyAddress || m.Kind != store.KindMessage {
		t.Errorf("reply stored as %+v; want in thread %d under the root, stripped, via the reply address", m, e.launch)
	}
	// From an alias, and in upper case as some systems rewrite it.
	up := strings.ToUpper(tok)
	if _, err := e.deliver(t, map[string]string{"eng": up}, "", "", msg("Ana <"+anaAlias+">", "eng+"+up+"@example.com", "Re: Launch plan", "r2@x", "From my phone.")); err != nil {
		t.Fatalf("from the alias, token upper-cased: %v", err)
	}
	if m, _ := e.message(t, "r2@x"); m.Thread != e.launch || m.From != anaAlias {
		t.Errorf("alias reply %+v", m)
	}
	if got := len(e.rec.posted); got != 3 || e.rec.queued != 3 {
		t.Errorf("notifier told of %d posts and Queued called %d times, want 3 and 3 (root and two replies)", got, e.rec.queued)
	}
	// Mail nobody is told of wakes nobody.
	raw := strings.Replace(msg("Ana <ana@example.com>", "eng@example.com", "Out of office", "ooo@x", "Away."), "\r\n\r\n", "\r\nAuto-Submitted: auto-replied\r\n\r\n", 1)
	if _, err := e.deliver(t, nil, "", "", raw); err != nil || e.rec.queued != 3 {
		t.Errorf("after an auto-reply: %v, Queued called %d times, want still 3", err, e.rec.queued)
	}
}

func TestReplyAddressRefusals(t *testing.T) {
	t.Parallel()
	e := newReplyEnv(t)
	anaTok := e.token(anaAddr, e.launch)
	forged := []byte(anaTok)
	// Another letter in the middle: a valid spelling whose MAC is wrong.
	if forged[8] == 'a' {
		forged[8] = 'b'
	} else {
		forged[8] = 'a'
	}
	var otherThread uint64
	e.deliver(t, nil, "", "", msg("Bo <bo@example.com>", "eng@example.com", "Other", "other@x", "Another thread."))
	if m, _ := e.message(t, "other@x"); m.Thread != 0 {
		otherThread = m.Thread
	}
	tests := []struct {
		name, from, tok string
	}{
		{"another member", "Bo <bo@example.com>", anaTok},
		{"a stranger", "Eve <eve@evil.example>", anaTok},
		{"forged", "Ana <ana@example.com>", string(forged)},
		{"malformed", "Ana <ana@example.com>", "not-a-token!"},
		{"empty-ish", "Ana <ana@example.com>", "a"},
		{"ana plus bo in From", "Ana <ana@example.com>, Bo <bo@example.com>", anaTok},
		{"digest token of another member", "Ana <ana@example.com>", e.digestToken(boAddr)},
	}
	var reasons []string
	for i, tt := range tests {
		_, err := e.deliver(t, map[string]string{"eng": tt.tok}, "", "", msg(tt.from, "eng+x@example.com", "Re: Launch plan", fmt.Sprintf("bad-%d@x", i), "Posting."))
		rej := wantRejection(t, err, 550, [3]int{5, 7, 1})
		reasons = append(reasons, strings.Replace(rej.Reason, rejectedFrom(tt.from), "X", 1))
		if _, ok := e.message(t, fmt.Sprintf("bad-%d@x", i)); ok {
			t.Errorf("%s: stored", tt.name)
		}
	}
	for i, r := range reasons {
		if r != reasons[0] {
			t.Errorf("%s answered %q, %s %q: refusals must not say which part was wrong", tests[i].name, r, tests[0].name, reasons[0])
		}
	}
	// A genuine token for one thread does not post to another: the token
	// names its thread, whatever the headers say.
	if otherThread != 0 {
		raw := msg("Ana <ana@example.com>", "eng+x@example.com", "Re: Other", "cross@x", "Which thread?")
		raw = strings.Replace(raw, "\r\n\r\n", "\r\nIn-Reply-To: <other@x>\r\n\r\n", 1)
		if _, err := e.deliver(t, map[string]string{"eng": anaTok}, "", "", raw); err != nil {
			t.Fatal(err)
		}
		if m, _ := e.message(t, "cross@x"); m.Thread != e.launch {
			t.Errorf("reply with a Launch plan token and In-Reply-To into another thread went to thread %d, want %d", m.Thread, e.launch)
		}
	}
	// A removed member's address stops working.
	e.st.Update(context.Background(), func(tx *store.Tx) error {
		m, _ := tx.Member(boAddr)
		m.Teams = map[string]string{}
		return tx.PutMember(m)
	})
	_, err := e.deliver(t, map[string]string{"eng": e.token(boAddr, e.launch)}, "", "", msg("Bo <bo@example.com>", "eng+x@example.com", "Re: Launch plan", "bo-gone@x", "Still here?"))
	wantRejection(t, err, 550, [3]int{5, 7, 1})
}

// rejectedFrom is the first address of a From field as refusals name it.
func rejectedFrom(from string) string {
	_, rest, _ := strings.Cut(from, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

func TestReactionsAndCommands(t *testing.T) {
	t.Parallel()
	e := newReplyEnv(t)
	tok := e.token(anaAddr, e.launch)
	send := func(mid, body string) {
		t.Helper()
		if _, err := e.deliver(t, map[string]string{"eng": tok}, "", "", msg("Ana <ana@example.com>", "eng+"+tok+"@example.com", "Re: Launch plan", mid, body)); err != nil {
			t.Fatalf("%s: %v", mid, err)
		}
	}
	send("plus1@x", "+1\r\n\r\nOn Mon, Bo wrote:\r\n> We launch on Tuesday.\r\n")
	if m, _ := e.message(t, "plus1@x"); m.Kind != store.KindReaction || m.Parent != launchMID {
		t.Errorf("+1 stored as %s under %q, want a reaction to the root", m.Kind, m.Parent)
	}
	// An acknowledgement that starts a thread is a message.
	e.deliver(t, nil, "", "", msg("Bo <bo@example.com>", "eng@example.com", "Thanks", "thanks-root@x", "Thanks!"))
	if m, _ := e.message(t, "thanks-root@x"); m.Kind != store.KindMessage {
		t.Errorf("a new thread saying thanks is a %s", m.Kind)
	}
	// And a plain reply by headers is a reaction too.
	raw := strings.Replace(msg("Bo <bo@example.com>", "eng@example.com", "Re: Launch plan", "bo-lgtm@x", "LGTM 👍"), "\r\n\r\n", "\r\nIn-Reply-To: <"+launchMID+">\r\n\r\n", 1)
	e.deliver(t, nil, "", "", raw)
	if m, _ := e.message(t, "bo-lgtm@x"); m.Kind != store.KindReaction {
		t.Errorf("LGTM reply stored as %s", m.Kind)
	}

	send("mute@x", "Mute\r\n")
	if mem := e.member(t, anaAddr); !slices.Contains(mem.Muted, e.launch) {
		t.Errorf("after mute: muted %v", mem.Muted)
	}
	if m, ok := e.message(t, "mute@x"); !ok || m.Thread != 0 {
		t.Errorf("mute command stored %v in thread %d; want kept, unthreaded", ok, m.Thread)
	}
	send("follow@x", "follow")
	if mem := e.member(t, anaAddr); slices.Contains(mem.Muted, e.launch) || !slices.Contains(mem.Followed, e.launch) {
		t.Errorf("after follow: muted %v followed %v", mem.Muted, mem.Followed)
	}
	send("unmute@x", "unmute") // follow had unmuted it: nothing changes, nothing confirmed
	send("mute-2@x", "mute")
	send("mute-3@x", "mute") // a repeat
	send("unmute-2@x", "unmute")
	var kinds []string
	for _, a := range e.rec.answers {
		kinds = append(kinds, a.Kind)
		if a.Member.Address != anaAddr || a.Thread.ID != e.launch || a.InReplyTo == "" {
			t.Errorf("answer %+v", a)
		}
	}
	// Every change is confirmed, so the last confirmation is how it stands.
	if want := []string{AnswerMuted, AnswerFollowed, AnswerMuted, AnswerUnmuted}; !slices.Equal(kinds, want) {
		t.Errorf("answers %v, want %v", kinds, want)
	}
	if mem := e.member(t, anaAddr); slices.Contains(mem.Muted, e.launch) || slices.Contains(mem.Followed, e.launch) {
		t.Errorf("at the end: muted %v followed %v, want neither", mem.Muted, mem.Followed)
	}
	// Sent with the null return path: applied, never answered (RFC 3834).
	raw = msg("Ana <ana@example.com>", "eng+"+tok+"@example.com", "Re: Launch plan", "null-mute@x", "mute")
	if _, err := e.p.Deliver(context.Background(), Delivery{Teams: []string{"eng"}, Tokens: map[string]string{"eng": tok}, Raw: []byte(raw)}); err != nil {
		t.Fatal(err)
	}
	if mem := e.member(t, anaAddr); !slices.Contains(mem.Muted, e.launch) || len(e.rec.answers) != 4 {
		t.Errorf("mute from the null sender: muted %v, %d answers; want muted, still 4", mem.Muted, len(e.rec.answers))
	}
}

func TestDigestReplies(t *testing.T) {
	t.Parallel()
	e := newReplyEnv(t)
	// A second thread, and a digest that showed both.
	e.deliver(t, nil, "", "", msg("Bo <bo@example.com>", "eng@example.com", "Launch plan B", "planb@x", "Or Thursday."))
	planB, _ := e.message(t, "planb@x")
	err := e.st.Update(context.Background(), func(tx *store.Tx) error {
		return tx.PutDigestLog(store.DigestLogEntry{Member: anaAddr, MessageID: "digest-1@example.com", Due: e.now.Add(-time.Hour),
			Threads: []store.DigestThread{{ID: e.launch, Team: "eng", Subject: "Launch plan"}, {ID: planB.Thread, Team: "eng", Subject: "Launch plan B"}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := e.digestToken(anaAddr)
	send := func(mid, body string, extra ...string) {
		t.Helper()
		raw := msg("Ana <ana@example.com>", "eng+"+tok+"@example.com", "Re: [tidings] 2 updates", mid, body)
		raw = strings.Replace(raw, "\r\n\r\n", "\r\nIn-Reply-To: <digest-1@example.com>\r\n"+strings.Join(extra, "")+"\r\n", 1)
		if _, err := e.deliver(t, map[string]string{"eng": tok}, "", "", raw); err != nil {
			t.Fatalf("%s: %v", mid, err)
		}
	}
	section := func(subject string) string {
		return "> * " + subject + "\r\n>   eng · Bo · 1 new\r\n>\r\n>   Bo, 09:00:\r\n>     Words.\r\n"
	}
	send("one@x", "Tuesday it is.\r\n\r\nOn Mon, 30 Nov 2026, eng <eng@example.com> wrote:\r\n"+section("Launch plan"))
	if m, _ := e.message(t, "one@x"); m.Thread != e.launch || m.Via != viaDigestReply || m.Text != "Tuesday it is." {
		t.Errorf("reply quoting Launch plan: thread %d via %q text %q; want thread %d", m.Thread, m.Via, m.Text, e.launch)
	}
	// "Launch plan" is inside "Launch plan B": the longer one is meant.
	send("two@x", "Thursday then.\r\n\r\nOn Mon, eng wrote:\r\n"+section("Launch plan B"))
	if m, _ := e.message(t, "two@x"); m.Thread != planB.Thread {
		t.Errorf("reply quoting Launch plan B went to thread %d, want %d", m.Thread, planB.Thread)
	}
	// A section followed by the digest's list of links, which names every
	// thread's reply address: the subject decides.
	links := "> Links:\r\n> [1] mailto:" + e.signer.ReplyAddress(e.eng, anaAddr, e.launch) + "\r\n> [2] mailto:" +
		e.signer.ReplyAddress(e.eng, anaAddr, planB.Thread) + "\r\n"
	send("footer@x", "Fine.\r\n\r\nOn Mon, eng wrote:\r\n"+section("Launch plan B")+">\r\n"+links)
	if m, _ := e.message(t, "footer@x"); m.Thread != planB.Thread {
		t.Errorf("section and links list: thread %d, want %d", m.Thread, planB.Thread)
	}
	// An inline answer below the section it answers.
	send("inline@x", "On Mon, eng wrote:\r\n"+section("Launch plan B")+"\r\nThursday is better for support.\r\n")
	if m, _ := e.message(t, "inline@x"); m.Thread != planB.Thread {
		t.Errorf("inline answer below the Launch plan B section: thread %d, want %d", m.Thread, planB.Thread)
	}
	// Only one thread's reply link kept: that thread.
	send("link@x", "This one.\r\n\r\nOn Mon, eng wrote:\r\n> Reply: mailto:"+strings.ToUpper(e.signer.ReplyAddress(e.eng, anaAddr, e.launch))+"\r\n")
	if m, _ := e.message(t, "link@x"); m.Thread != e.launch {
		t.Errorf("quoted reply link: thread %d, want %d", m.Thread, e.launch)
	}
	if len(e.rec.answers) != 0 {
		t.Fatalf("answers %+v before any unclear reply", e.rec.answers)
	}
	// Both sections, or none: kept unthreaded, explained once a day.
	send("both@x", "All good.\r\n\r\nOn Mon, eng wrote:\r\n"+section("Launch plan")+">\r\n"+section("Launch plan B"))
	send("none@x", "Hello?")
	for _, mid := range []string{"both@x", "none@x"} {
		if m, ok := e.message(t, mid); !ok || m.Thread != 0 {
			t.Errorf("%s: stored %v, thread %d; want kept unthreaded", mid, ok, m.Thread)
		}
	}
	if len(e.rec.answers) != 1 || e.rec.answers[0].Kind != AnswerDigestHelp || e.rec.answers[0].InReplyTo != "both@x" {
		t.Errorf("answers %+v, want one digest-help to both@x", e.rec.answers)
	}
	e.now = e.now.Add(25 * time.Hour)
	send("later@x", "Hello again?")
	if len(e.rec.answers) != 2 {
		t.Errorf("%d answers a day later, want 2", len(e.rec.answers))
	}
	// Out of office, or a list's mail: never answered, never posted.
	send("ooo@x", "Away.", "Auto-Submitted: auto-replied\r\n")
	send("bulk@x", "Hello?", "Precedence: bulk\r\n")
	e.now = e.now.Add(25 * time.Hour)
	send("ooo2@x", "Away.", "X-Autoreply: yes\r\n")
	if len(e.rec.answers) != 2 {
		t.Errorf("automatic mail was answered: %+v", e.rec.answers[2:])
	}
	if m, _ := e.message(t, "ooo@x"); m.Thread != 0 || m.Auto == "" {
		t.Errorf("out-of-office %+v", m)
	}
}

func TestOwnMailIsNeverPosted(t *testing.T) {
	t.Parallel()
	e := newReplyEnv(t)
	// Our X-Loop marker, from a member.
	raw := strings.Replace(msg("Ana <ana@example.com>", "eng@example.com", "[tidings] 2 updates", "loop@x", "Digest text."),
		"\r\n\r\n", "\r\nX-Loop: tidings\r\n\r\n", 1)
	out, err := e.deliver(t, nil, "", "", raw)
	if err != nil || out.Auto != AutoLoop {
		t.Fatalf("X-Loop: %+v, %v; want kept as loop", out, err)
	}
	// Our marker with our domain, as our mail carries it now.
	raw = strings.Replace(msg("Ana <ana@example.com>", "eng@example.com", "[tidings] 3 updates", "loop-2@x", "Digest text."),
		"\r\n\r\n", "\r\nX-Loop: tidings@Example.com\r\n\r\n", 1)
	if out, err := e.deliver(t, nil, "", "", raw); err != nil || out.Auto != AutoLoop {
		t.Fatalf("X-Loop with our domain: %+v, %v; want kept as loop", out, err)
	}
	// Another instance's digest, forwarded by a member: content, posted.
	raw = strings.Replace(msg("Ana <ana@example.com>", "eng@example.com", "Partner digest", "partner@x", "Their news."),
		"\r\n\r\n", "\r\nX-Loop: tidings@partner.example\r\nAuto-Submitted: auto-generated\r\n\r\n", 1)
	if out, err := e.deliver(t, nil, "", "", raw); err != nil || out.Auto != "" || len(out.Stored) != 1 {
		t.Fatalf("another instance's mail: %+v, %v; want posted", out, err)
	}
	if m, _ := e.message(t, "partner@x"); m.Thread == 0 {
		t.Error("another instance's mail is not in a thread")
	}
	// From a team address, allowed by ops' allow-list of @example.com.
	out, err = e.p.Deliver(context.Background(), Delivery{Teams: []string{"ops"},
		Raw: []byte(msg("eng <eng@example.com>", "ops@example.com", "Your digest", "from-eng@x", "Digest."))})
	if err != nil || out.Auto != AutoLoop {
		t.Fatalf("from a team address: %+v, %v; want kept as loop", out, err)
	}
	out, err = e.p.Deliver(context.Background(), Delivery{Teams: []string{"ops"},
		Raw: []byte(msg("eng <eng+abc@example.com>", "ops@example.com", "Your digest", "from-eng-reply@x", "Digest."))})
	if err != nil || out.Auto != AutoLoop {
		t.Fatalf("from a reply address: %+v, %v; want kept as loop", out, err)
	}
	for _, mid := range []string{"loop@x", "loop-2@x", "from-eng@x", "from-eng-reply@x"} {
		if m, ok := e.message(t, mid); !ok || m.Thread != 0 {
			t.Errorf("%s: stored %v in thread %d", mid, ok, m.Thread)
		}
	}
	if len(e.rec.posted) != 2 {
		t.Errorf("notifier told of %d posts, want the root and the partner's digest", len(e.rec.posted))
	}
}

func TestForwardsTakeTheOriginalSubject(t *testing.T) {
	t.Parallel()
	e := newReplyEnv(t)
	body := "FYI\r\n\r\n---------- Forwarded message ---------\r\nFrom: Vendor <news@vendor.example>\r\n" +
		"Date: Thu, Nov 26, 2026 at 4:12 PM\r\nSubject: Price list 2027\r\nTo: <ana@example.com>\r\n\r\nNew prices.\r\n"
	if _, err := e.deliver(t, nil, "", "", msg("Ana <ana@example.com>", "eng@example.com", "Fwd: Price list 2027", "fw@x", body)); err != nil {
		t.Fatal(err)
	}
	m, _ := e.message(t, "fw@x")
	if m.Kind != store.KindForward || m.OriginalFrom != "news@vendor.example" || m.OriginalSubject != "Price list 2027" ||
		m.Note != "FYI" || m.Text != "New prices." || m.OriginalDate.IsZero() {
		t.Errorf("forward stored as %+v", m)
	}
	var th store.Thread
	e.st.View(func(tx *store.Tx) error { th, _ = tx.Thread(m.Thread); return nil })
	if th.Subject != "Price list 2027" {
		t.Errorf("thread subject %q, want the original's", th.Subject)
	}
}

// TestMailboxReplyAddresses: mail fetched from the team's mailbox has no
// RCPT TO; its reply address is found in Delivered-To, else in To or Cc.
func TestMailboxReplyAddresses(t *testing.T) {
	t.Parallel()
	e := newReplyEnv(t)
	tok := e.token(anaAddr, e.launch)
	deliver := func(mid string, extra, to string) error {
		raw := msg("Ana <ana@example.com>", to, "Quick answer", mid, "Yes.")
		raw = strings.Replace(raw, "\r\n\r\n", "\r\n"+extra+"\r\n", 1)
		_, err := e.p.Deliver(context.Background(), Delivery{Teams: []string{"eng"}, FromMailbox: true, Raw: []byte(raw)})
		return err
	}
	if err := deliver("dt@x", "Delivered-To: eng+"+tok+"@example.com\r\n", "eng@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := deliver("to@x", "", "Eng <eng+"+strings.ToUpper(tok)+"@example.com>"); err != nil {
		t.Fatal(err)
	}
	for _, mid := range []string{"dt@x", "to@x"} {
		if m, _ := e.message(t, mid); m.Thread != e.launch || m.Via != viaReplyAddress {
			t.Errorf("%s: thread %d via %q, want %d via the reply address", mid, m.Thread, m.Via, e.launch)
		}
	}
	// Another domain's plus address is not ours; a bad token is refused.
	if err := deliver("other@x", "", "eng+"+tok+"@elsewhere.example"); err != nil {
		t.Errorf("a stranger's plus address: %v", err)
	} else if m, _ := e.message(t, "other@x"); m.Via != "" {
		t.Errorf("a stranger's plus address was read as a reply address: %+v", m)
	}
	err := deliver("forged@x", "Delivered-To: eng+"+tok+"x@example.com\r\n", "eng@example.com")
	wantRejection(t, err, 550, [3]int{5, 7, 1})
}

// TestDigestReplyEdges: a subject merely mentioned in a quoted excerpt
// names no thread; a thread of a team the member has left is out of
// reach; "unsubscribe" to the digest address turns their mail off.
func TestDigestReplyEdges(t *testing.T) {
	t.Parallel()
	e := newReplyEnv(t)
	// An ops thread, and a Budget thread in eng.
	e.p.Deliver(context.Background(), Delivery{Teams: []string{"ops"}, EnvelopeFrom: "bo@example.com",
		Raw: []byte(msg("Bo <bo@example.com>", "ops@example.com", "Secret ops plan", "ops-1@x", "Ops only."))})
	e.deliver(t, nil, "", "", msg("Bo <bo@example.com>", "eng@example.com", "Budget", "budget@x", "Money."))
	ops, _ := e.message(t, "ops-1@x")
	budget, _ := e.message(t, "budget@x")
	e.st.Update(context.Background(), func(tx *store.Tx) error {
		return tx.PutDigestLog(store.DigestLogEntry{Member: anaAddr, MessageID: "digest-9@example.com", Due: e.now.Add(-time.Hour),
			Threads: []store.DigestThread{{ID: e.launch, Team: "eng", Subject: "Launch plan"}, {ID: budget.Thread, Team: "eng", Subject: "Budget"},
				{ID: ops.Thread, Team: "ops", Subject: "Secret ops plan"}}})
	})
	tok := e.digestToken(anaAddr)
	send := func(mid, body, subject string) Outcome {
		t.Helper()
		raw := msg("Ana <ana@example.com>", "eng+"+tok+"@example.com", subject, mid, body)
		raw = strings.Replace(raw, "\r\n\r\n", "\r\nIn-Reply-To: <digest-9@example.com>\r\n\r\n", 1)
		out, err := e.deliver(t, map[string]string{"eng": tok}, "", "", raw)
		if err != nil {
			t.Fatalf("%s: %v", mid, err)
		}
		return out
	}
	send("excerpt@x", "Agreed.\r\n\r\nOn Mon, eng wrote:\r\n>     We launch Tuesday if the budget allows.\r\n", "Re: digest")
	if m, _ := e.message(t, "excerpt@x"); m.Thread != 0 {
		t.Errorf("a quoted excerpt mentioning \"budget\" went to thread %d; want none", m.Thread)
	}
	// Ana still in ops: her reply quoting the ops section goes there.
	out := send("ops-reply@x", "On it.\r\n\r\nOn Mon, eng wrote:\r\n> * Secret ops plan\r\n>   ops · Bo · 1 new\r\n", "Re: digest")
	if m, _ := e.message(t, "ops-reply@x"); m.Team != "ops" || m.Thread != ops.Thread || len(out.Duplicates) != 0 {
		t.Errorf("reply quoting the ops section: team %q thread %d, outcome %+v; want ops thread %d", m.Team, m.Thread, out, ops.Thread)
	}
	// Removed from ops: the same quote names nothing she may post to.
	e.st.Update(context.Background(), func(tx *store.Tx) error {
		m, _ := tx.Member(anaAddr)
		delete(m.Teams, "ops")
		return tx.PutMember(m)
	})
	send("ops-gone@x", "Again.\r\n\r\nOn Mon, eng wrote:\r\n> * Secret ops plan\r\n", "Re: digest")
	var inOps bool
	e.st.View(func(tx *store.Tx) error {
		_, inOps = tx.Unthreaded("ops", "ops-gone@x")
		if n, ok, _ := tx.Node("ops", "ops-gone@x"); ok && n.Seq != 0 {
			inOps = true
		}
		return nil
	})
	if m, _ := e.message(t, "ops-gone@x"); inOps || m.Team != "eng" || m.Thread != 0 {
		t.Errorf("after leaving ops: stored in %q thread %d (in ops: %v); want kept unthreaded in eng", m.Team, m.Thread, inOps)
	}

	// The List-Unsubscribe mailto: an empty body, subject "unsubscribe".
	before := len(e.rec.answers)
	send("unsub@x", "", "unsubscribe")
	if mem := e.member(t, anaAddr); mem.Teams["eng"] != store.ModeOff {
		t.Errorf("after unsubscribe: teams %v, want eng off", mem.Teams)
	}
	if got := e.rec.answers[before:]; len(got) != 1 || got[0].Kind != AnswerUnsubscribed {
		t.Errorf("answers after unsubscribe: %+v, want one confirmation", got)
	}
	send("unsub-2@x", "Unsubscribe!", "Re: digest")
	if n := len(e.rec.answers) - before; n != 1 {
		t.Errorf("a second unsubscribe was confirmed again (%d answers)", n)
	}
}

// TestReplyToANotification: a notification names its message in
// References, and a reply to it answers that message, not merely the
// thread's latest.
func TestReplyToANotification(t *testing.T) {
	t.Parallel()
	e := newReplyEnv(t)
	later := strings.Replace(msg("Bo <bo@example.com>", "eng@example.com", "Re: Launch plan", "later@x", "A later word."),
		"\r\n\r\n", "\r\nIn-Reply-To: <"+launchMID+">\r\n\r\n", 1)
	e.deliver(t, nil, "", "", later)
	tok := e.token(anaAddr, e.launch)
	raw := msg("Ana <ana@example.com>", "eng+"+tok+"@example.com", "Re: [eng] Launch plan", "ana-notify-reply@x", "+1")
	raw = strings.Replace(raw, "\r\n\r\n", "\r\nIn-Reply-To: <notify.abc@example.com>\r\nReferences: <thread.xyz@example.com> <"+launchMID+"> <notify.abc@example.com>\r\n\r\n", 1)
	e.deliver(t, map[string]string{"eng": tok}, "", "", raw)
	if m, _ := e.message(t, "ana-notify-reply@x"); m.Parent != launchMID || m.Kind != store.KindReaction {
		t.Errorf("reply to the root's notification: parent %q kind %s; want a reaction to %s", m.Parent, m.Kind, launchMID)
	}
}
