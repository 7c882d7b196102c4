package digest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/store"
)

// The fixture: Ana Lima in Berlin, in the teams eng and ops, gets her
// digest on Monday 30 November 2026 at 09:00. Her cursor stands at
// message 100: what came before is history, what came after is new.

var (
	berlin   = mustZone("Europe/Berlin")
	fixDue   = time.Date(2026, 11, 30, 9, 0, 0, 0, berlin)
	fixSec   = []byte("0123456789abcdef0123456789abcdef")
	fixLinks = links.Signer{Secret: fixSec, Domain: "example.com", BaseURL: "https://tidings.example.com"}
	teamEng  = store.Team{Name: "eng", Address: "eng@example.com"}
	teamOps  = store.Team{Name: "ops", Address: "ops@example.com"}
	ana      = store.Member{Address: "ana@example.com", Name: "Ana Lima", Zone: "Europe/Berlin", Start: "09:00", Days: "mon-fri",
		Teams: map[string]string{"eng": store.ModeDigest, "ops": store.ModeDigest}, Muted: []uint64{109}}
	weekdays = [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true}
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // the zone database is embedded through config
	}
	return loc
}

// at is a local Berlin time in November 2026.
func at(day, hour, min int) time.Time {
	return time.Date(2026, 11, day, hour, min, 0, 0, berlin).UTC()
}

type person2 struct{ addr, name string }

var (
	pAna    = person2{"ana@example.com", "Ana Lima"}
	pBo     = person2{"bo@example.com", "Bo Berg"}
	pCy     = person2{"cy@example.com", "Cy"}
	pZoe    = person2{"zoe@example.com", "Zoë Ångström"}
	pJurgen = person2{"juergen@example.com", "Jürgen Groß"}
	pDmitri = person2{"dmitri@example.com", "Дмитрий Ковалёв"}
	pPriya  = person2{"priya@example.com", "Priya Natarajan"}
	pNoName = person2{"ops-bot@example.com", ""}
)

type fixture struct {
	seq      uint64
	messages []store.Message // all, history and new
	threads  map[uint64]store.Thread
}

func (f *fixture) thread(id uint64, team, subject string) {
	f.threads[id] = store.Thread{ID: id, Team: team, Subject: subject}
}

func (f *fixture) add(thread uint64, from person2, when time.Time, text string, opts ...func(*store.Message)) *store.Message {
	f.seq++
	th := f.threads[thread]
	m := store.Message{
		Seq: f.seq, Team: th.Team, Thread: thread, MessageID: fmt.Sprintf("m%d@example.com", f.seq),
		From: from.addr, FromName: from.name, To: []string{th.Team + "@example.com"},
		Subject: th.Subject, Date: when, Received: when.Add(3 * time.Second), Kind: store.KindMessage, Text: text,
	}
	for _, o := range opts {
		o(&m)
	}
	if th.Created.IsZero() {
		th.Created = m.Received
	}
	th.LastAt = m.Received
	th.Count++
	f.threads[thread] = th
	f.messages = append(f.messages, m)
	return &f.messages[len(f.messages)-1]
}

func to(addrs ...string) func(*store.Message) {
	return func(m *store.Message) { m.To = append(m.To, addrs...) }
}
func urgent(m *store.Message)   { m.Urgent = true }
func reaction(m *store.Message) { m.Kind = store.KindReaction }
func attach(name, typ string, size int64) func(*store.Message) {
	return func(m *store.Message) {
		m.Attachments = append(m.Attachments, store.Attachment{Name: name, Type: typ, Size: size})
	}
}
func forward(orig string) func(*store.Message) {
	return func(m *store.Message) { m.Kind, m.OriginalFrom = store.KindForward, orig }
}

// newFixture builds the mail: history up to Seq 100, then the new messages.
func newFixture() *fixture {
	f := &fixture{threads: make(map[uint64]store.Thread)}
	f.thread(101, "ops", "Datenbank in Frankfurt läuft voll")
	f.thread(102, "eng", "Release 4.2 — who signs off?")
	f.thread(103, "eng", "Design review: 新しいオンボーディング")
	f.thread(104, "eng", "Flaky CI on arm64")
	f.thread(105, "eng", "Q1 planning: everything we want to do")
	f.thread(106, "ops", "Zertifikate erneuern")
	f.thread(107, "eng", "Lunch order Friday")
	f.thread(108, "eng", "Office Wi-Fi password rotation")
	f.thread(109, "eng", "Bike shed colour")
	f.thread(110, "eng", "Ana's notes")
	f.thread(111, "sales", "Pipeline review")
	f.thread(112, "ops", "Backup window")

	// History.
	f.add(102, pBo, at(26, 15, 2), "Ana, can you sign off the 4.2 release notes? They are in the usual place.", to("ana@example.com"))
	f.add(104, pAna, at(25, 10, 0), "The arm64 runners fail about one build in five. Anyone seen this?")
	f.add(104, pBo, at(25, 11, 30), "Not me. Maybe the cache?")
	f.add(107, pCy, at(20, 12, 0), "Who is in for lunch on Friday?")
	f.add(108, pPriya, at(16, 9, 0), "We rotate the Wi-Fi password every quarter.")
	f.add(109, pBo, at(24, 9, 0), "Green.")
	f.add(112, pJurgen, at(23, 8, 0), "Backups run from 01:00 to 03:00.")
	f.add(112, pAna, at(23, 9, 0), "Thanks, noted.")
	f.seq = 100

	// New: Friday 27 November onwards.
	f.add(101, pJurgen, at(29, 22, 40), "The data volume on db-fra-2 is at **94 %** and grows about 1 % an hour.\n\nI've stopped the nightly export; we need a decision on the archive table before Tuesday.",
		urgent, attach("df-output.txt", "text/plain", 2150))
	f.add(101, pPriya, at(29, 23, 5), "I can add 500 GB tomorrow morning if nobody objects.\n\nOn Sun, 29 Nov 2026 at 22:40, Jürgen Groß <juergen@example.com> wrote:\n> The data volume on db-fra-2 is at 94 %\n> and grows about 1 % an hour.", urgent)
	f.add(102, pCy, at(27, 16, 20), "Ping @ana — we would like to tag on Tuesday.\n\n-- \nCy\nRelease manager")
	f.add(102, pBo, at(27, 16, 45), "+1, the notes are final from my side.")
	f.add(103, pZoe, at(30, 7, 30), "Here is the new onboarding flow, @ana and @bo please have a look:\n\n1. Sign-up with e-mail only\n2. Team invite *before* profile\n3. A short tour (can be skipped)\n\n![Flow chart](https://design.example.com/flow.png)\n\nPrototype: https://design.example.com/onboarding-v3\n\nQuestions to settle:\n\n- Do we keep the `welcome` mail?\n- Who owns the copy — 日本語版も必要ですか？",
		attach("onboarding-v3.fig", "application/octet-stream", 48_300_000), attach("flow.png", "image/png", 312_000))
	f.add(104, pBo, at(27, 10, 5), "Found it: the arm64 image pins an old `qemu`. With the pin removed, 50 runs passed in a row.\n\n```\nqemu-user-static 7.2 -> 8.1\n```\n\n> Not me. Maybe the cache?\n\nNot the cache after all.", to("ana@example.com"))
	f.add(104, pCy, at(27, 10, 30), "👍", reaction)
	f.add(104, pDmitri, at(27, 11, 0), "👍", reaction)
	f.add(104, pAna, at(27, 11, 10), "🎉", reaction)
	f.add(104, pJurgen, at(27, 14, 0), "👍", reaction)
	f.add(104, pZoe, at(27, 14, 2), "🎉", reaction)
	f.add(104, pAna, at(27, 15, 0), "Great, thanks Bo! Merging.") // her own answer: no longer waiting
	// A very long new thread: 12 messages, one of them over the text limit.
	var long strings.Builder
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&long, "%d. Item %d of the plan, with a sentence long enough to matter.\n", i, i)
	}
	f.add(105, pDmitri, at(27, 9, 30), "Let's collect everything for Q1 here; I'll post my list once you have added yours.")
	for i := 2; i <= 11; i++ {
		who := []person2{pBo, pCy, pZoe, pPriya, pJurgen, pNoName}[i%6]
		f.add(105, who, at(27+i/4, 10+i%8, (7*i)%60), fmt.Sprintf("Point %d: I'd add item %d as well, and move item %d to February.", i, 60+i, i))
	}
	f.add(105, pDmitri, at(29, 20, 15), "My list, long as promised:\n\n"+long.String())
	f.add(106, pJurgen, at(28, 10, 0), "FYI, see below. I'll renew on Monday.\n\n---------- Forwarded message ---------\nFrom: Let's Encrypt <expiry@letsencrypt.org>\nDate: Fri, 27 Nov 2026\nSubject: Certificate expiry\n\nYour certificate for tidings.example.com expires in 7 days.",
		forward("Let's Encrypt <expiry@letsencrypt.org>"))
	f.add(107, pBo, at(27, 11, 0), "Me! Pizza again?")
	f.add(107, pZoe, at(27, 11, 20), "Ja, gerne. Pizza Margherita für mich.")
	f.add(108, pNoName, at(28, 3, 0), "The new password is in the vault. (Sent automatically.)")
	f.add(109, pCy, at(27, 13, 0), "Blue!") // muted
	f.add(110, pAna, at(27, 17, 0), "Notes to self.")
	f.add(111, pBo, at(27, 12, 0), "Q4 pipeline: 12 deals.", to("ana@example.com")) // not her team
	auto := f.add(112, pJurgen, at(28, 6, 0), "I am out of the office until Monday.")
	auto.Auto, auto.Thread = "auto-replied", 0
	return f
}

// input is Ana's digest input from the fixture.
func (f *fixture) input() Input {
	var newMsgs []store.Message
	for _, m := range f.messages {
		if m.Seq > 100 {
			newMsgs = append(newMsgs, m)
		}
	}
	return Input{
		Member:   ana,
		Teams:    []store.Team{teamEng, teamOps},
		Messages: newMsgs,
		Threads:  f.threads,
		History:  f.history,
		Due:      fixDue,
		Loc:      berlin,
		Days:     weekdays,
		Links:    fixLinks,
	}
}

// history is what store.Tx.ThreadMessages would return: every message of
// the thread, new ones included.
func (f *fixture) history(id uint64) []store.Message {
	var out []store.Message
	for _, m := range f.messages {
		if m.Thread == id {
			out = append(out, m)
		}
	}
	slices.Reverse(out) // thread order is not Seq order; Build must not rely on it
	return out
}

func mustBuild(t *testing.T, in Input) *Digest {
	t.Helper()
	d, ok := Build(in)
	if !ok {
		t.Fatal("Build found nothing to send")
	}
	return d
}
