package digest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/mail"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	message "github.com/emersion/go-message"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/mailin"
	"github.com/tidings/tidings/mailout"
	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

// notifyWorld is a real store with teams eng and ops and members in every
// mode, and a Notifier whose queue puts mail in the real outbox.
type notifyWorld struct {
	st     *store.Store
	n      *Notifier
	r      *templates.Renderer
	thread uint64

	mu      sync.Mutex
	notices []Notice // every notice the queue was given, committed or not
}

var (
	notifyEng = store.Team{Name: "eng", Address: "eng@example.com"}
	notifyOps = store.Team{Name: "ops", Address: "ops@example.com"}
)

// mon0900 is Monday 30 November 2026, 09:00 UTC: 10:00 in Berlin, 01:00 in
// Los Angeles.
var mon0900 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func notifyMembers(joined time.Time) []store.Member {
	m := func(addr, name, zone string, teams map[string]string) store.Member {
		return store.Member{Address: addr, Name: name, Zone: zone, Start: "09:00", Days: "mon-fri", Teams: teams, Joined: joined}
	}
	eng := func(mode string) map[string]string { return map[string]string{"eng": mode} }
	return []store.Member{
		m("ana@example.com", "Ana Lima", "Europe/Berlin", eng(store.ModeImmediate)),
		m("bo@example.com", "Bo", "Europe/Berlin", eng(store.ModeDigest)),
		m("cy@example.com", "Cy", "America/Los_Angeles", eng(store.ModeDigest)),
		m("dee@example.com", "Dee", "Europe/Berlin", eng(store.ModeOff)),
		m("fay@example.com", "Fay", "Europe/Berlin", eng(store.ModeImmediate)),
		m("gus@example.com", "Gus", "Asia/Tokyo", map[string]string{"eng": store.ModeImmediate, "ops": store.ModeDigest}),
		m("hal@example.com", "Hal", "Europe/Berlin", eng(store.ModeImmediate)), // mutes the thread
		m("ida@example.com", "Ida", "Europe/Berlin", eng(store.ModeDigest)),    // on Berlin's clock, but works weekends only
	}
}

func newNotifyWorld(t *testing.T) *notifyWorld {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "tidings.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		for _, tm := range []store.Team{notifyEng, notifyOps} {
			if err := tx.AddTeam(tm); err != nil {
				return err
			}
		}
		for _, m := range notifyMembers(mon0900.AddDate(0, 0, -30)) {
			if m.Address == "ida@example.com" {
				m.Days = "sat,sun"
			}
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	w := &notifyWorld{st: st, r: r}
	w.n = &Notifier{
		Renderer: r, Domain: "example.com", BaseURL: "https://tidings.example.com",
		Now:    func() time.Time { return mon0900 },
		Logger: schedTestLogger(t),
		Queue: func(tx *store.Tx, n Notice) (uint64, error) {
			w.mu.Lock()
			w.notices = append(w.notices, n)
			w.mu.Unlock()
			m := n.Mail
			if n.Kind == NoticeNotify {
				m.ListID, m.ListName = n.Team.Name+".example.com", n.Team.Name
			}
			return mailout.Queue(tx, m, n.Kind, n.Member.Address, n.EnvelopeFrom, m.Date)
		},
	}
	return w
}

// signer is the instance's links as the Notifier makes them.
func (w *notifyWorld) signer(t *testing.T) links.Signer {
	t.Helper()
	var s links.Signer
	err := w.st.View(func(tx *store.Tx) error {
		var err error
		s, err = links.FromTx(tx, mon0900, "example.com", "https://tidings.example.com")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type postOpt func(*store.Message)

func urgentMsg(m *store.Message) { m.Urgent = true }

// post stores a message by from in the world's one thread, as the pipeline
// would, and calls Posted in the same transaction. fail makes the
// transaction fail after Posted, as when a sibling in the group commit
// fails and the store runs it again.
func (w *notifyWorld) post(t *testing.T, from, name, text string, at time.Time, fail bool, opts ...postOpt) *store.Message {
	t.Helper()
	errFail := errors.New("sibling failed")
	var msg store.Message
	err := w.st.Update(context.Background(), func(tx *store.Tx) error {
		thread := w.thread
		if thread == 0 {
			id, err := tx.NewThread(store.Thread{Team: "eng", Subject: "[urgent] Launch plan", Created: at, LastAt: at})
			if err != nil {
				return err
			}
			thread = id
		}
		th, err := tx.Thread(thread)
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
		mid := strings.SplitN(from, "@", 2)[0] + "." + at.Format("20060102T150405") + "@mail.example.com"
		parent := ""
		if th.Count > 1 {
			parent = "root@mail.example.com"
		}
		if err := tx.PutNode("eng", store.Node{MessageID: mid, Parent: parent, Thread: thread, Seq: seq, Date: at}); err != nil {
			return err
		}
		msg = store.Message{Seq: seq, Team: "eng", MessageID: mid, From: from, FromName: name, Subject: "Launch plan",
			Date: at, Received: at, Kind: store.KindMessage, Text: text, Thread: thread, Parent: parent}
		for _, o := range opts {
			o(&msg)
		}
		if err := tx.AddMessage(&msg, []byte("raw")); err != nil {
			return err
		}
		if err := w.n.Posted(tx, &msg); err != nil {
			return err
		}
		if fail {
			return errFail
		}
		w.thread = thread
		return nil
	})
	if fail && errors.Is(err, errFail) {
		return &msg
	}
	if err != nil {
		t.Fatal(err)
	}
	return &msg
}

// outMail is one mail of the outbox, its header parsed.
type outMail struct {
	store.OutMail
	raw    []byte
	header mail.Header
}

func (w *notifyWorld) outbox(t *testing.T) []outMail {
	t.Helper()
	var out []outMail
	err := w.st.View(func(tx *store.Tx) error {
		var ms []store.OutMail
		if err := tx.OutMails(func(m store.OutMail) bool { ms = append(ms, m); return true }); err != nil {
			return err
		}
		for _, m := range ms {
			raw, err := tx.OutRaw(m.ID)
			if err != nil {
				return err
			}
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				return err
			}
			out = append(out, outMail{OutMail: m, raw: raw, header: msg.Header})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// recipients lists who the outbox mail of kind goes to, sorted.
func recipients(ms []outMail, kind string) []string {
	var out []string
	for _, m := range ms {
		if m.Kind == kind {
			out = append(out, m.Member)
		}
	}
	slices.Sort(out)
	return out
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decode %q: %v", v, err)
	}
	return s
}

func TestNotifyRecipients(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		at     time.Time
		urgent bool
		want   []string
	}{
		// Mode immediate only: not the author (fay), nor the member who
		// muted the thread (hal), nor digest or off members.
		{"plain", mon0900, false, []string{"ana@example.com", "gus@example.com"}},
		// Urgent at 10:00 in Berlin, 01:00 in Los Angeles: Bo is at work,
		// Cy is not, Ida works weekends only, Dee is off.
		{"urgent on a Monday", mon0900, true, []string{"ana@example.com", "bo@example.com", "gus@example.com"}},
		// Saturday 10:00 in Berlin: Ida's working day, not Bo's.
		{"urgent on a Saturday", mon0900.AddDate(0, 0, -2), true, []string{"ana@example.com", "gus@example.com", "ida@example.com"}},
		// 17:00 in Berlin: the working day is over.
		{"urgent after hours", mon0900.Add(7 * time.Hour), true, []string{"ana@example.com", "gus@example.com"}},
		// 18:00 in Los Angeles on Monday: Cy's day is over too.
		{"urgent at 18:00 in Los Angeles", mon0900.Add(17 * time.Hour), true, []string{"ana@example.com", "gus@example.com"}},
		// 10:00 in Los Angeles, 19:00 in Berlin: Cy only.
		{"urgent at 10:00 in Los Angeles", mon0900.Add(9 * time.Hour), true, []string{"ana@example.com", "cy@example.com", "gus@example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newNotifyWorld(t)
			w.post(t, "fay@example.com", "Fay", "First.", tc.at.Add(-time.Minute), false)
			muteThread(t, w, "hal@example.com")
			before := len(w.outbox(t))
			var opts []postOpt
			if tc.urgent {
				opts = append(opts, urgentMsg)
			}
			w.post(t, "fay@example.com", "Fay", "We ship on Friday.", tc.at, false, opts...)
			got := recipients(w.outbox(t)[before:], NoticeNotify)
			if !slices.Equal(got, tc.want) {
				t.Errorf("notified %v, want %v", got, tc.want)
			}
		})
	}
}

func muteThread(t *testing.T, w *notifyWorld, member string) {
	t.Helper()
	err := w.st.Update(context.Background(), func(tx *store.Tx) error {
		m, err := tx.Member(member)
		if err != nil {
			return err
		}
		m.Muted = append(m.Muted, w.thread)
		return tx.PutMember(m)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNotifySkips(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)
	w.post(t, "fay@example.com", "Fay", "First.", mon0900, false)
	base := len(w.outbox(t))
	// A reaction shows in digests only.
	w.post(t, "bo@example.com", "Bo", "👍", mon0900.Add(time.Minute), false, func(m *store.Message) { m.Kind = store.KindReaction })
	// An auto-reply is kept outside threads: the pipeline never posts it,
	// and Posted ignores it all the same.
	w.post(t, "bo@example.com", "Bo", "I am away.", mon0900.Add(2*time.Minute), false, func(m *store.Message) { m.Auto = "auto-replied" })
	if got := w.outbox(t)[base:]; len(got) != 0 {
		t.Errorf("reaction and auto-reply queued %d mails, want none", len(got))
	}
	// A follower is not muted: following undoes a mute.
	muteThread(t, w, "ana@example.com")
	w.post(t, "bo@example.com", "Bo", "Muted for Ana.", mon0900.Add(3*time.Minute), false)
	if got := recipients(w.outbox(t)[base:], NoticeNotify); slices.Contains(got, "ana@example.com") {
		t.Errorf("Ana muted the thread and got %v", got)
	}
	err := w.st.Update(context.Background(), func(tx *store.Tx) error {
		m, err := tx.Member("ana@example.com")
		if err != nil {
			return err
		}
		m.Followed = append(m.Followed, w.thread)
		return tx.PutMember(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	base = len(w.outbox(t))
	w.post(t, "bo@example.com", "Bo", "Followed by Ana.", mon0900.Add(4*time.Minute), false)
	if got := recipients(w.outbox(t)[base:], NoticeNotify); !slices.Contains(got, "ana@example.com") {
		t.Errorf("Ana follows the thread and was not notified: %v", got)
	}
	// The author is recognised by an alias too.
	err = w.st.Update(context.Background(), func(tx *store.Tx) error {
		m, err := tx.Member("gus@example.com")
		if err != nil {
			return err
		}
		m.Aliases = []string{"gus@home.example.org"}
		return tx.PutMember(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	base = len(w.outbox(t))
	w.post(t, "GUS@home.example.org", "Gus", "From home.", mon0900.Add(5*time.Minute), false)
	if got := recipients(w.outbox(t)[base:], NoticeNotify); slices.Contains(got, "gus@example.com") {
		t.Errorf("Gus wrote from his alias and got his own message: %v", got)
	}
}

func TestNotifyHeaders(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)
	first := w.post(t, "fay@example.com", "Fay", "We ship on **Friday**.", mon0900, false,
		func(m *store.Message) {
			m.Attachments = []store.Attachment{{Name: "plan.pdf", Type: "application/pdf", Size: 2048}}
		})
	w.post(t, "bo@example.com", "Bo", "The notes are up.\n\nOn Mon, Fay wrote:\n> We ship on Friday.", mon0900.Add(time.Hour), false, urgentMsg)
	signer := w.signer(t)

	var ana []outMail
	for _, m := range w.outbox(t) {
		if m.Member == "ana@example.com" {
			ana = append(ana, m)
		}
	}
	if len(ana) != 2 {
		t.Fatalf("Ana got %d mails, want 2", len(ana))
	}
	threadID := "<" + ThreadID("eng", first.Thread, "example.com") + ">"
	for i, m := range ana {
		h := m.header
		if m.Kind != NoticeNotify || m.From != "eng@example.com" || !slices.Equal(m.To, []string{"ana@example.com"}) {
			t.Errorf("mail %d: kind %q, envelope %s -> %v; want notify from the team's address to Ana", i, m.Kind, m.From, m.To)
		}
		if got := h.Get("In-Reply-To"); got != threadID {
			t.Errorf("mail %d: In-Reply-To %q, want the thread's %q", i, got, threadID)
		}
		// The thread's ID, then the message's own: a reply names both.
		if got := h.Get("References"); !strings.HasPrefix(got, threadID+" <") || strings.Count(got, "<") != 2 {
			t.Errorf("mail %d: References %q, want the thread's %q and the message's", i, got, threadID)
		}
		rt, err := mail.ParseAddress(h.Get("Reply-To"))
		if err != nil {
			t.Fatalf("mail %d: Reply-To: %v", i, err)
		}
		_, token, ok := links.SplitAddress(rt.Address)
		tok, valid := signer.CheckToken(notifyEng, "ana@example.com", token)
		if !ok || !valid || tok.Kind != links.KindThreadReply || tok.Thread != first.Thread {
			t.Errorf("mail %d: Reply-To %s is not Ana's reply address for thread %d (%+v, %v)", i, rt.Address, first.Thread, tok, valid)
		}
		for k, want := range map[string]string{
			"Auto-Submitted":        "auto-generated",
			"X-Loop":                "tidings@example.com",
			"List-Id":               `"eng" <eng.example.com>`,
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"To":                    `"Ana Lima" <ana@example.com>`,
		} {
			if got := h.Get(k); got != want {
				t.Errorf("mail %d: %s %q, want %q", i, k, got, want)
			}
		}
		if u := h.Get("List-Unsubscribe"); !strings.Contains(u, "<https://tidings.example.com/unsubscribe?") || !strings.Contains(u, "<mailto:eng+") {
			t.Errorf("mail %d: List-Unsubscribe %q", i, u)
		}
		if d, err := h.Date(); err != nil || !strings.HasSuffix(h.Get("Date"), "+0100") {
			t.Errorf("mail %d: Date %q (%v), want Ana's Berlin time", i, h.Get("Date"), d)
		}
	}
	if a, b := ana[0].header.Get("Message-Id"), ana[1].header.Get("Message-Id"); a == b || a == "" {
		t.Errorf("Message-IDs %q and %q: want two, distinct", a, b)
	}
	from := func(m outMail) string {
		a, err := mail.ParseAddress(decodeHeader(t, m.header.Get("From")))
		if err != nil {
			t.Fatal(err)
		}
		return a.String()
	}
	if got, want := from(ana[0]), `"Fay via eng" <eng@example.com>`; got != want {
		t.Errorf("From %s, want %s", got, want)
	}
	if got, want := from(ana[1]), `"Bo via eng" <eng@example.com>`; got != want {
		t.Errorf("From %s, want %s", got, want)
	}
	// The thread's subject loses its own [urgent] tag: only urgent
	// messages carry one.
	if got, want := decodeHeader(t, ana[0].header.Get("Subject")), "[eng] Launch plan"; got != want {
		t.Errorf("first subject %q, want %q", got, want)
	}
	if got, want := decodeHeader(t, ana[1].header.Get("Subject")), "[eng] [urgent] Re: Launch plan"; got != want {
		t.Errorf("reply's subject %q, want %q", got, want)
	}

	// The body: the new text (quote left out), the attachment, the links.
	body := partsText(t, ana[0].raw)
	for _, want := range []string{"Fay, 10:00:", "We ship on **Friday**.", "plan.pdf (2 KB)", "Reply [1] · View thread [2] · Mute [3]",
		"You get every message of eng as it arrives.", "<strong>Friday</strong>", "/threads/" + strconv.FormatUint(first.Thread, 10)} {
		if !strings.Contains(body, want) {
			t.Errorf("first notification lacks %q:\n%s", want, body)
		}
	}
	body = partsText(t, ana[1].raw)
	if !strings.Contains(body, "The notes are up.") || strings.Contains(body, "> We ship") {
		t.Errorf("reply notification should show the new text only:\n%s", body)
	}
	if !strings.Contains(body, "URGENT") {
		t.Errorf("urgent notification not marked:\n%s", body)
	}
}

// partsText is the decoded text of every part of a mail, one after the
// other.
func partsText(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	mr := e.MultipartReader()
	if mr == nil {
		b, err := io.ReadAll(e.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		out.WriteString("\n")
	}
	return out.String()
}

// TestNotifyRerun: a transaction that the store runs again (a sibling in
// the group commit failed) queues the same bytes under the same
// Message-ID, and once.
func TestNotifyRerun(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)
	w.post(t, "fay@example.com", "Fay", "First.", mon0900, false)
	base := len(w.outbox(t))
	w.mu.Lock()
	tried := len(w.notices)
	w.mu.Unlock()

	w.post(t, "bo@example.com", "Bo", "Urgent news.", mon0900.Add(time.Minute), true, urgentMsg)
	if got := len(w.outbox(t)); got != base {
		t.Fatalf("a failed transaction left %d mails in the outbox", got-base)
	}
	w.post(t, "bo@example.com", "Bo", "Urgent news.", mon0900.Add(time.Minute), false, urgentMsg)
	out := w.outbox(t)[base:]
	if got, want := recipients(out, NoticeNotify), []string{"ana@example.com", "fay@example.com", "gus@example.com", "hal@example.com"}; !slices.Equal(got, want) {
		t.Fatalf("after the run again: %v, want each of %v once", got, want)
	}
	w.mu.Lock()
	failed := w.notices[tried : tried+len(out)]
	w.mu.Unlock()
	for i, m := range out {
		raw, err := mailout.Compose(withList(failed[i].Mail, "eng"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, m.raw) {
			t.Errorf("%s: the second run composed other bytes:\n%s\n---\n%s", m.Member, raw, m.raw)
		}
	}
}

func withList(m mailout.Mail, team string) mailout.Mail {
	m.ListID, m.ListName = team+".example.com", team
	return m
}

// TestNotifyAndDigest: an urgent message out of someone's working hours
// waits for the top of their next digest; one sent at once still shows
// there; a member in mode immediate for a team gets no digest of it.
func TestNotifyAndDigest(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)
	w.post(t, "fay@example.com", "Fay", "Plans for the launch.", mon0900.Add(-2*time.Hour), false)
	w.post(t, "fay@example.com", "Fay", "The site is down!", mon0900, false, urgentMsg)
	urgentThread := w.thread
	// Gus reads ops by digest and eng as it comes.
	var opsThread uint64
	err := w.st.Update(context.Background(), func(tx *store.Tx) error {
		id, err := tx.NewThread(store.Thread{Team: "ops", Subject: "Rota", Created: mon0900, LastAt: mon0900, Count: 1})
		if err != nil {
			return err
		}
		opsThread = id
		seq, err := tx.ReserveSeq()
		if err != nil {
			return err
		}
		if err := tx.PutNode("ops", store.Node{MessageID: "rota@mail.example.com", Thread: id, Seq: seq, Date: mon0900}); err != nil {
			return err
		}
		return tx.AddMessage(&store.Message{Seq: seq, Team: "ops", MessageID: "rota@mail.example.com", From: "fay@example.com",
			Subject: "Rota", Date: mon0900, Received: mon0900, Kind: store.KindMessage, Text: "Rota for December."}, []byte("raw"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := recipients(w.outbox(t), NoticeNotify); slices.Contains(got, "cy@example.com") {
		t.Fatalf("Cy was notified at 01:00 in Los Angeles: %v", got)
	}

	r := &Runner{Store: w.st, Renderer: w.r, Links: links.Signer{Domain: "example.com"},
		Queue: func(*store.Tx, Outgoing) (uint64, error) { return 0, errors.New("not queued") }}
	preview := func(member string, at time.Time) *Digest {
		t.Helper()
		d, _, _, ok, err := r.Preview(member, at)
		if err != nil || !ok {
			t.Fatalf("preview %s: ok %v, %v", member, ok, err)
		}
		return d
	}
	// Cy's next digest: Monday 09:00 in Los Angeles.
	d := preview("cy@example.com", time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC))
	if s := d.Sections[0]; s.Key != SectionUrgent || len(s.Threads) == 0 || s.Threads[0].ID != urgentThread {
		t.Errorf("Cy's digest does not open with the urgent thread: %+v", d.Sections)
	}
	// Bo was notified at once and still finds it at the top.
	d = preview("bo@example.com", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	if s := d.Sections[0]; s.Key != SectionUrgent || s.Threads[0].ID != urgentThread {
		t.Errorf("Bo's digest does not open with the urgent thread: %+v", d.Sections)
	}
	// Gus: ops only.
	d = preview("gus@example.com", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	for _, s := range d.Sections {
		for _, th := range s.Threads {
			if th.Team != "ops" {
				t.Errorf("Gus reads eng as it comes, and his digest shows %q of %s", th.Subject, th.Team)
			}
		}
	}
	if findThread(d, opsThread) == nil {
		t.Errorf("Gus's digest lacks the ops thread")
	}
}

func TestWorking(t *testing.T) {
	t.Parallel()
	tests := []struct {
		zone, start, days, at string
		want                  bool
	}{
		{"Europe/Berlin", "09:00", "mon-fri", "2026-11-30T08:00:00Z", true},  // 09:00, the start
		{"Europe/Berlin", "09:00", "mon-fri", "2026-11-30T07:59:59Z", false}, // a second before
		{"Europe/Berlin", "09:00", "mon-fri", "2026-11-30T15:59:59Z", true},  // 16:59:59
		{"Europe/Berlin", "09:00", "mon-fri", "2026-11-30T16:00:00Z", false}, // 17:00
		{"Europe/Berlin", "09:00", "mon-fri", "2026-11-28T10:00:00Z", false}, // Saturday
		{"America/Los_Angeles", "09:00", "mon-fri", "2026-11-30T09:00:00Z", false},
		{"America/Los_Angeles", "09:00", "mon-fri", "2026-11-30T17:00:00Z", true},
		// A night shift runs past midnight, into a day that is not a
		// working day of its own.
		{"UTC", "22:00", "fri", "2026-12-05T03:00:00Z", true},
		{"UTC", "22:00", "fri", "2026-12-05T06:00:00Z", false},
		// The day the clocks go forward in Berlin (29 March 2026): the
		// day begins at 09:00 CEST and lasts eight hours.
		{"Europe/Berlin", "09:00", "mon-sun", "2026-03-29T07:00:00Z", true},
		{"Europe/Berlin", "09:00", "mon-sun", "2026-03-29T06:59:00Z", false},
		{"Europe/Berlin", "09:00", "mon-sun", "2026-03-29T15:00:00Z", false},
		// A start inside the spring-forward gap begins at its end: 03:00.
		{"Europe/Berlin", "02:30", "mon-sun", "2026-03-29T01:00:00Z", true},
		{"Europe/Berlin", "02:30", "mon-sun", "2026-03-29T00:59:00Z", false},
		// No working day at all.
		{"UTC", "09:00", "", "2026-11-30T10:00:00Z", false},
	}
	for _, tc := range tests {
		t.Run(tc.zone+" "+tc.start+" "+tc.days+" "+tc.at, func(t *testing.T) {
			t.Parallel()
			s := Schedule{}
			if tc.days != "" {
				s = mustSchedule(t, tc.zone, tc.start, tc.days)
			}
			if got := s.Working(mustUTC(t, tc.at)); got != tc.want {
				t.Errorf("Working = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAnswer(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)
	w.post(t, "fay@example.com", "Fay", "First.", mon0900, false)
	var th store.Thread
	var bo store.Member
	w.st.View(func(tx *store.Tx) error {
		th, _ = tx.Thread(w.thread)
		bo, _ = tx.Member("bo@example.com")
		return nil
	})
	tests := []struct {
		kind    string
		want    string
		replyTo bool
	}{
		{mailin.AnswerMuted, "You muted “Launch plan” in eng", true},
		{mailin.AnswerUnmuted, "You unmuted “Launch plan” in eng", true},
		{mailin.AnswerFollowed, "You follow “Launch plan” in eng", true},
		{mailin.AnswerDigestHelp, "use that thread's Reply link in the digest", false},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			a := mailin.Answer{Kind: tc.kind, Team: notifyEng, Member: bo, Thread: th,
				InReplyTo: "bo.1@mail.example.com", References: []string{"digest.1@example.com", "bo.1@mail.example.com"},
				Subject: "Re: [tidings] 3 updates · Mon 30 Nov"}
			if tc.kind == mailin.AnswerDigestHelp {
				a.Thread = store.Thread{}
			}
			var out []outMail
			for run := range 2 {
				base := len(w.outbox(t))
				err := w.st.Update(context.Background(), func(tx *store.Tx) error {
					if err := w.n.Answer(tx, a); err != nil {
						return err
					}
					if run == 0 {
						return errors.New("sibling failed")
					}
					return nil
				})
				if run == 1 && err != nil {
					t.Fatal(err)
				}
				out = w.outbox(t)[base:]
			}
			if len(out) != 1 {
				t.Fatalf("queued %d answers, want 1", len(out))
			}
			m := out[0]
			h := m.header
			if m.Kind != NoticeAnswer || m.From != "" || !slices.Equal(m.To, []string{"bo@example.com"}) {
				t.Errorf("kind %q, envelope %q -> %v; want an answer from the null sender to Bo", m.Kind, m.From, m.To)
			}
			for k, want := range map[string]string{
				"Auto-Submitted": "auto-replied",
				"X-Loop":         "tidings@example.com",
				"From":           `"eng" <eng@example.com>`,
				"To":             `"Bo" <bo@example.com>`,
				"In-Reply-To":    "<bo.1@mail.example.com>",
				"References":     "<digest.1@example.com> <bo.1@mail.example.com>",
				"Message-Id":     "<" + mailout.MessageID(NoticeAnswer, tc.kind+"|bo@example.com|bo.1@mail.example.com", "example.com") + ">",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s %q, want %q", k, got, want)
				}
			}
			if got, want := decodeHeader(t, h.Get("Subject")), "Re: [tidings] 3 updates · Mon 30 Nov"; got != want {
				t.Errorf("Subject %q, want %q", got, want)
			}
			if h.Get("List-Id") != "" || h.Get("List-Unsubscribe") != "" {
				t.Error("an answer carries list headers")
			}
			if rt := h.Get("Reply-To"); tc.replyTo {
				a, err := mail.ParseAddress(rt)
				if err != nil {
					t.Fatalf("Reply-To %q: %v", rt, err)
				}
				_, token, _ := links.SplitAddress(a.Address)
				if tok, ok := w.signer(t).CheckToken(notifyEng, "bo@example.com", token); !ok || tok.Thread != th.ID {
					t.Errorf("Reply-To %q is not Bo's reply address for the thread", rt)
				}
			} else {
				// A reply to the explanation goes to Bo's digest address,
				// never to the whole team.
				a, err := mail.ParseAddress(rt)
				if err != nil {
					t.Fatalf("Reply-To %q: %v", rt, err)
				}
				_, token, _ := links.SplitAddress(a.Address)
				if tok, ok := w.signer(t).CheckToken(notifyEng, "bo@example.com", token); !ok || tok.Kind != links.KindDigestReply {
					t.Errorf("Reply-To %q is not Bo's digest address", rt)
				}
			}
			if body := partsText(t, m.raw); !strings.Contains(strings.Join(strings.Fields(body), " "), tc.want) {
				t.Errorf("answer lacks %q:\n%s", tc.want, body)
			}
		})
	}

	// Message-IDs we cannot write back: the answer goes unthreaded.
	base := len(w.outbox(t))
	err := w.st.Update(context.Background(), func(tx *store.Tx) error {
		return w.n.Answer(tx, mailin.Answer{Kind: mailin.AnswerDigestHelp, Team: notifyEng, Member: bo,
			InReplyTo: "no id", References: []string{"no id"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	out := w.outbox(t)[base:]
	if len(out) != 1 || out[0].header.Get("In-Reply-To") != "" {
		t.Fatalf("answer to a mail with a bad Message-ID: %d queued", len(out))
	}
	if got, want := decodeHeader(t, out[0].header.Get("Subject")), "Re: your mail to eng"; got != want {
		t.Errorf("Subject %q, want %q", got, want)
	}
	// An unknown kind is a bug of the caller.
	err = w.st.Update(context.Background(), func(tx *store.Tx) error {
		return w.n.Answer(tx, mailin.Answer{Kind: "bogus", Team: notifyEng, Member: bo})
	})
	if err == nil {
		t.Error("an answer of unknown kind was accepted")
	}
}
