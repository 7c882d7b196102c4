package main

import (
	"bytes"
	"encoding/json"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// showJSON runs `thread show ID --json` and decodes it.
func showJSON(t *testing.T, in *instance, id uint64) []messageJSON {
	t.Helper()
	out := in.MustRun("thread", "show", strconv.FormatUint(id, 10), "--json")
	var msgs []messageJSON
	if err := json.Unmarshal([]byte(out), &msgs); err != nil {
		t.Fatalf("thread show --json: %v\n%s", err, out)
	}
	return msgs
}

// threadBySubject finds the one thread with that subject.
func threadBySubject(t *testing.T, in *instance, subject string) threadJSON {
	t.Helper()
	for _, th := range threadsJSON(t, in) {
		if th.Subject == subject {
			return th
		}
	}
	t.Fatalf("no thread %q in %+v", subject, threadsJSON(t, in))
	return threadJSON{}
}

// previewReplyAddress finds, in member's digest preview, the reply address
// of the thread with that subject: the mailto: link whose subject is
// "Re: <subject>".
func previewReplyAddress(t *testing.T, in *instance, member, subject string) string {
	t.Helper()
	text := in.MustRun("digest", "preview", member)
	re := regexp.MustCompile(`mailto:(eng\+[a-z2-7]+@localhost)\?subject=Re:%20` + regexp.QuoteMeta(strings.ReplaceAll(subject, " ", "%20")) + `\b`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no reply address for %q in the preview:\n%s", subject, text)
	}
	return m[1]
}

func TestReplyByMailThroughTheBinary(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng", "--address", "eng@localhost")
	in.MustRun("member", "add", "ana@example.com", "--team", "eng", "--name", "Ana Lima")
	in.MustRun("member", "add", "bo@example.com", "--team", "eng", "--name", "Bo Berg")
	in.MustRun("member", "add", "cy@example.com", "--team", "eng", "--name", "Cy")
	in.MustRun("member", "set", "ana@example.com", "--alias", "ana.lima@phone.example")

	if r := in.Send("cy@example.com", []string{"eng@localhost"}, post("Cy <cy@example.com>", "Launch plan",
		"launch-1@example.com", "We launch on Tuesday. Objections?")); r.Code != 250 {
		t.Fatalf("root: %s", r)
	}
	if r := in.Send("cy@example.com", []string{"eng@localhost"}, post("Cy <cy@example.com>", "Budget 2027",
		"budget-1@example.com", "Numbers attached soon.")); r.Code != 250 {
		t.Fatalf("second root: %s", r)
	}
	launch := threadBySubject(t, in, "Launch plan")
	addr := previewReplyAddress(t, in, "ana@example.com", "Launch plan")
	boAddr := previewReplyAddress(t, in, "bo@example.com", "Launch plan")
	if addr == boAddr {
		t.Fatalf("ana and bo share the reply address %s", addr)
	}

	// A reply from a phone: no In-Reply-To, no References, a quote and a
	// signature.
	replyMsg := "From: Ana Lima <ana@example.com>\r\nTo: " + addr + "\r\nSubject: Re: Launch plan\r\n" +
		"Message-ID: <ana-reply-1@example.com>\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\n" +
		"Tuesday works for me, I will brief support.\r\n\r\n" +
		"-- \r\nAna Lima · Support lead\r\n\r\n" +
		"On Fri, 27 Nov 2026 at 09:00, tidings <eng@localhost> wrote:\r\n> We launch on Tuesday. Objections?\r\n"
	if r := in.Send("ana@example.com", []string{addr}, replyMsg); r.Code != 250 {
		t.Fatalf("reply to the reply address: %s", r)
	}
	msgs := showJSON(t, in, launch.ID)
	i := slices.IndexFunc(msgs, func(m messageJSON) bool { return m.MessageID == "ana-reply-1@example.com" })
	if i < 0 {
		t.Fatalf("the reply is not in the thread: %+v", msgs)
	}
	if got := msgs[i]; got.From != "ana@example.com" || got.Text != "Tuesday works for me, I will brief support." ||
		got.Kind != "message" || got.Via != "reply-address" || got.InReplyTo != "launch-1@example.com" {
		t.Errorf("posted reply = %+v; want ana's stripped text under the root, via the reply address", got)
	}

	// From an alias: the same member.
	if r := in.Send("ana.lima@phone.example", []string{addr}, post("Ana <ana.lima@phone.example>", "Re: Launch plan",
		"ana-alias-1@example.com", "Also: the FAQ is ready.")); r.Code != 250 {
		t.Errorf("reply from ana's alias: %s", r)
	}

	// Someone else using ana's address, and a forged token, get the same
	// refusal that names neither the member nor the thread.
	if r := in.Send("bo@example.com", []string{addr}, post("Bo Berg <bo@example.com>", "Re: Launch plan",
		"bo-as-ana@example.com", "Posting as Ana?")); r.Code != 550 || !strings.Contains(r.Text, "5.7.1") {
		t.Errorf("bo through ana's address: %s, want 550 5.7.1", r)
	}
	local, domain, _ := strings.Cut(addr, "@")
	tok := local[strings.IndexByte(local, '+')+1:]
	flip := map[byte]byte{'a': 'b', 'b': 'a'}
	forgedTok := []byte(tok)
	for j := len(forgedTok) - 1; j >= 0; j-- {
		if c, ok := flip[forgedTok[j]]; ok {
			forgedTok[j] = c
			break
		}
		if forgedTok[j] != 'c' {
			forgedTok[j] = 'c'
			break
		}
	}
	forged := "eng+" + string(forgedTok) + "@" + domain
	r1 := in.Send("ana@example.com", []string{forged}, post("Ana Lima <ana@example.com>", "Re: Launch plan",
		"ana-forged@example.com", "Forged?"))
	r2 := in.Send("ana@example.com", []string{"eng+notatoken@localhost"}, post("Ana Lima <ana@example.com>", "Re: Launch plan",
		"ana-garbage@example.com", "Garbage?"))
	for _, r := range []reply{r1, r2} {
		if r.Code != 550 || !strings.Contains(r.Text, "5.7.1") || strings.Contains(r.Text, "forged") || strings.Contains(r.Text, "token") {
			t.Errorf("bad token: %s, want a plain 550 5.7.1", r)
		}
	}
	if r1.Text != r2.Text {
		t.Errorf("a forged and a malformed token are answered differently: %q vs %q", r1.Text, r2.Text)
	}

	// +1 is a reaction to the message it answers.
	if r := in.Send("ana@example.com", []string{addr}, post("Ana Lima <ana@example.com>", "Re: Launch plan",
		"ana-plus1@example.com", "+1\r\n\r\nSent from my iPhone")); r.Code != 250 {
		t.Fatalf("+1: %s", r)
	}
	// mute mutes the thread for ana, and is not posted.
	if r := in.Send("ana@example.com", []string{addr}, post("Ana Lima <ana@example.com>", "Re: Launch plan",
		"ana-mute@example.com", "mute")); r.Code != 250 {
		t.Fatalf("mute: %s", r)
	}
	msgs = showJSON(t, in, launch.ID)
	kinds := map[string]string{}
	for _, m := range msgs {
		kinds[m.MessageID] = m.Kind
	}
	if kinds["ana-plus1@example.com"] != "reaction" {
		t.Errorf("+1 stored as %q, want reaction (thread: %+v)", kinds["ana-plus1@example.com"], msgs)
	}
	if _, ok := kinds["ana-mute@example.com"]; ok {
		t.Errorf("the mute command was posted to the thread")
	}
	for _, m := range []string{"bo-as-ana@example.com", "ana-forged@example.com", "ana-garbage@example.com"} {
		if _, ok := kinds[m]; ok {
			t.Errorf("refused %s is in the thread", m)
		}
	}
	var members []struct {
		Address string   `json:"address"`
		Muted   []uint64 `json:"muted"`
	}
	if err := json.Unmarshal([]byte(in.MustRun("member", "list", "--json")), &members); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.Address == "ana@example.com" && !slices.Contains(m.Muted, launch.ID) {
			t.Errorf("ana's muted threads %v, want %d", m.Muted, launch.ID)
		}
	}

	// The mute is confirmed by one short mail, threaded under the command.
	confirm := waitAnswers(t, in, "ana@example.com", 1)
	if len(confirm) != 1 || confirm[0].Header.Get("In-Reply-To") != "<ana-mute@example.com>" ||
		!strings.Contains(confirm[0].Header.Get("Subject"), "Launch plan") {
		t.Errorf("mute confirmation: %+v", confirm)
		for _, f := range outboxFiles(t, in) {
			b, _ := os.ReadFile(f)
			t.Logf("%s:\n%s", f, b)
		}
	}

	// Forwards: an inline Gmail forward and a message/rfc822 attachment.
	gmail := "From: Ana Lima <ana@example.com>\r\nTo: eng@localhost\r\nSubject: Fwd: Q3 pricing update\r\n" +
		"Message-ID: <fwd-inline@example.com>\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
		"FYI, this affects the launch budget.\r\n\r\n" +
		"---------- Forwarded message ---------\r\n" +
		"From: Vendor Updates <updates@vendor.example>\r\n" +
		"Date: Thu, Nov 26, 2026 at 4:12 PM\r\n" +
		"Subject: Q3 pricing update\r\n" +
		"To: <ana@example.com>\r\n\r\n" +
		"Prices rise by 4 % from January.\r\n"
	if r := in.Send("ana@example.com", []string{"eng@localhost"}, gmail); r.Code != 250 {
		t.Fatalf("inline forward: %s", r)
	}
	attached := "From: Bo Berg <bo@example.com>\r\nTo: eng@localhost\r\nSubject: Fw: Maintenance window\r\n" +
		"Message-ID: <fwd-rfc822@example.com>\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"fw\"\r\n\r\n" +
		"--fw\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee below, we need to plan around it.\r\n" +
		"--fw\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\n\r\n" +
		"From: Hosting Co <noc@hosting.example>\r\nTo: bo@example.com\r\nSubject: Maintenance window\r\n" +
		"Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <noc-77@hosting.example>\r\n\r\n" +
		"Network maintenance on Saturday 02:00-04:00 UTC.\r\n" +
		"--fw--\r\n"
	if r := in.Send("bo@example.com", []string{"eng@localhost"}, attached); r.Code != 250 {
		t.Fatalf("rfc822 forward: %s", r)
	}
	for _, c := range []struct{ subject, mid, from, text string }{
		{"Q3 pricing update", "fwd-inline@example.com", "updates@vendor.example", "Prices rise by 4 % from January."},
		{"Maintenance window", "fwd-rfc822@example.com", "noc@hosting.example", "Network maintenance on Saturday 02:00-04:00 UTC."},
	} {
		th := threadBySubject(t, in, c.subject)
		ms := showJSON(t, in, th.ID)
		if len(ms) != 1 || ms[0].MessageID != c.mid || ms[0].Kind != "forward" || ms[0].OriginalFrom != c.from ||
			ms[0].Text != c.text || ms[0].OriginalSubject != c.subject || ms[0].Note == "" {
			t.Errorf("forward %s: %+v; want kind forward from %s with the original's text and the note apart", c.mid, ms, c.from)
		}
	}

	// An out-of-office answer to a digest's Reply-To is kept, but neither
	// posted nor answered.
	before := len(outboxFiles(t, in))
	ooo := "From: Ana Lima <ana@example.com>\r\nTo: " + digestAddressOf(t, in, "ana@example.com") + "\r\n" +
		"Subject: Automatic reply: [tidings] 3 updates\r\nMessage-ID: <ana-ooo@example.com>\r\n" +
		"Auto-Submitted: auto-replied\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\n" +
		"I am out of the office until Monday.\r\n"
	if r := in.Send("", []string{digestAddressOf(t, in, "ana@example.com")}, ooo); r.Code != 250 {
		t.Fatalf("out of office to the digest address: %s", r)
	}
	for _, th := range threadsJSON(t, in) {
		if slices.Contains(th.MessageIDs, "ana-ooo@example.com") {
			t.Errorf("the out-of-office answer was posted to %q", th.Subject)
		}
	}
	time.Sleep(time.Second)
	if after := len(outboxFiles(t, in)); after != before {
		t.Errorf("%d mails left after the out-of-office answer; it must not be answered", after-before)
	}

	// The digests' List-Unsubscribe mailto: "unsubscribe" as the subject
	// to the digest address turns Ana's mail off, and says so once.
	unsub := "From: Ana Lima <ana@example.com>\r\nTo: " + digestAddressOf(t, in, "ana@example.com") + "\r\n" +
		"Subject: unsubscribe\r\nMessage-ID: <ana-unsub@example.com>\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\n"
	if r := in.Send("ana@example.com", []string{digestAddressOf(t, in, "ana@example.com")}, unsub); r.Code != 250 {
		t.Fatalf("unsubscribe: %s", r)
	}
	var after []struct {
		Address string            `json:"address"`
		Teams   map[string]string `json:"teams"`
	}
	if err := json.Unmarshal([]byte(in.MustRun("member", "list", "--json")), &after); err != nil {
		t.Fatal(err)
	}
	for _, m := range after {
		if m.Address == "ana@example.com" && m.Teams["eng"] != "off" {
			t.Errorf("after unsubscribe ana's teams are %v, want eng off", m.Teams)
		}
	}
	if got := waitAnswers(t, in, "ana@example.com", 2); len(got) != 2 || got[1].Header.Get("In-Reply-To") != "<ana-unsub@example.com>" &&
		got[0].Header.Get("In-Reply-To") != "<ana-unsub@example.com>" {
		t.Errorf("%d answers to ana, want the mute's and the unsubscription's", len(got))
	}
	in.Stop()
}

// digestAddressOf reads the member's digest address: the Reply-To their
// digest would carry, as `digest preview` shows it.
func digestAddressOf(t *testing.T, in *instance, member string) string {
	t.Helper()
	out := in.MustRun("digest", "preview", member)
	m := regexp.MustCompile(`(?m)^Reply-To:\s*<?(eng\+[a-z2-7]+@localhost)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no Reply-To in the preview of %s:\n%s", member, out)
	}
	return m[1]
}

// answers reads the automatic answers (Auto-Submitted: auto-replied) in
// the outbox addressed to member.
func answers(t *testing.T, in *instance, member string) []*mail.Message {
	t.Helper()
	var out []*mail.Message
	for _, f := range outboxFiles(t, in) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		to, _ := mail.ParseAddress(m.Header.Get("To"))
		if m.Header.Get("Auto-Submitted") == "auto-replied" && to != nil && to.Address == member {
			out = append(out, m)
		}
	}
	return out
}

// waitAnswers waits until member has at least n answers in the outbox,
// or a generous deadline passes, and returns what is there.
func waitAnswers(t *testing.T, in *instance, member string, n int) []*mail.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := answers(t, in, member)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDigestReplyThroughTheBinary waits on the real clock for a digest,
// then answers it: a reply that keeps one thread's part of the digest is
// posted to that thread; one that keeps all of it is kept unthreaded and
// explained once a day; an out-of-office answer is neither.
func TestDigestReplyThroughTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("waits up to two minutes on the real clock")
	}
	t.Parallel()
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng", "--address", "eng@localhost")
	due := nextSlot(20 * time.Second)
	in.MustRun(append([]string{"member", "add", "ana@example.com", "--team", "eng", "--name", "Ana Lima"}, slotFlags(t, "UTC", due)...)...)
	in.MustRun("member", "add", "bo@example.com", "--team", "eng", "--name", "Bo Berg", "--tz", "UTC", "--start", due.Add(-3*time.Hour).UTC().Format("15:04"))
	for _, p := range []struct{ subject, mid, body string }{
		{"Launch plan", "launch-1@example.com", "We launch on Tuesday. Objections?"},
		{"Budget 2027", "budget-1@example.com", "Numbers attached soon."},
	} {
		if r := in.Send("bo@example.com", []string{"eng@localhost"}, post("Bo Berg <bo@example.com>", p.subject, p.mid, p.body)); r.Code != 250 {
			t.Fatalf("%s: %s", p.mid, r)
		}
	}
	files := waitOutbox(t, in, 1, due.Add(90*time.Second))
	if len(files) != 1 {
		t.Fatalf("%d mails in the outbox after the due time, want ana's digest", len(files))
	}
	dg := readDelivered(t, files[0])
	replyTo := dg.header.Get("Reply-To")
	if a, err := mail.ParseAddress(replyTo); err == nil {
		replyTo = a.Address
	}
	digestID := strings.Trim(dg.header.Get("Message-ID"), "<>")
	quote := func(lines []string) string {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString("> " + l + "\r\n")
		}
		return b.String()
	}
	all := strings.Split(strings.ReplaceAll(dg.text, "\r\n", "\n"), "\n")
	start := slices.IndexFunc(all, func(l string) bool { return strings.HasPrefix(l, "* Launch plan") })
	if start < 0 {
		t.Fatalf("no Launch plan section in the digest:\n%s", dg.text)
	}
	end := start + 1
	for end < len(all) && !strings.HasPrefix(all[end], "* ") && !strings.HasPrefix(all[end], "==") {
		end++
	}
	answer := func(mid, body string, extra ...string) string {
		h := "From: Ana Lima <ana@example.com>\r\nTo: " + replyTo + "\r\nSubject: Re: " + dg.header.Get("Subject") + "\r\n" +
			"Message-ID: <" + mid + ">\r\nIn-Reply-To: <" + digestID + ">\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n"
		for _, x := range extra {
			h += x + "\r\n"
		}
		return h + "\r\n" + body
	}

	one := answer("ana-one@example.com", "Ship it on Tuesday.\r\n\r\nOn "+due.Format("Mon, 2 Jan 2006")+", eng <eng@localhost> wrote:\r\n"+quote(all[start:end]))
	if r := in.Send("ana@example.com", []string{replyTo}, one); r.Code != 250 {
		t.Fatalf("reply quoting one thread: %s", r)
	}
	launch := threadBySubject(t, in, "Launch plan")
	msgs := showJSON(t, in, launch.ID)
	if i := slices.IndexFunc(msgs, func(m messageJSON) bool { return m.MessageID == "ana-one@example.com" }); i < 0 ||
		msgs[i].Text != "Ship it on Tuesday." || msgs[i].Via != "digest-reply" {
		t.Errorf("reply quoting the Launch plan section: %+v\nthe reply:\n%s", msgs, one)
	}

	whole := answer("ana-whole@example.com", "Thanks, all fine.\r\n\r\nOn "+due.Format("Mon, 2 Jan 2006")+", eng <eng@localhost> wrote:\r\n"+quote(all))
	whole2 := answer("ana-whole-2@example.com", "And one more thing.\r\n")
	for _, m := range []string{whole, whole2} {
		if r := in.Send("ana@example.com", []string{replyTo}, m); r.Code != 250 {
			t.Fatalf("reply quoting the whole digest: %s", r)
		}
	}
	ooo := answer("ana-ooo@example.com", "I am away until Monday.\r\n")
	ooo = strings.Replace(ooo, "Subject: Re: ", "Subject: Out of Office: ", 1)
	if r := in.Send("ana@example.com", []string{replyTo}, ooo); r.Code != 250 {
		t.Fatalf("out of office: %s", r)
	}
	for _, th := range threadsJSON(t, in) {
		for _, mid := range []string{"ana-whole@example.com", "ana-whole-2@example.com", "ana-ooo@example.com"} {
			if slices.Contains(th.MessageIDs, mid) {
				t.Errorf("%s was posted to %q", mid, th.Subject)
			}
		}
	}
	waitAnswers(t, in, "ana@example.com", 1)
	time.Sleep(time.Second) // a second answer, if one were coming
	if got := answers(t, in, "ana@example.com"); len(got) != 1 || got[0].Header.Get("In-Reply-To") != "<ana-whole@example.com>" {
		t.Errorf("%d automatic answers to ana, want one, to the first reply that named no thread", len(got))
	}
	in.Stop()
}
