package mailin

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tidings/tidings/store"
)

// threadTestPipeline opens a fresh store with one team, "eng", and returns a
// pipeline on it.
func threadTestPipeline(t *testing.T) (*Pipeline, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "tidings.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		return tx.AddTeam(store.Team{Name: "eng", Address: "eng@example.com"})
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	return NewPipeline(st, PipelineOptions{Domain: "example.com", Now: func() time.Time { return now }}), st
}

// mail is a compact test message: headers given as "Name: value" lines.
func mail(id, date, subject string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Ana <ana@example.com>\r\nTo: eng@example.com\r\nMessage-ID: <%s>\r\nDate: %s\r\nSubject: %s\r\n", id, date, subject)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\nbody of " + id + "\r\n")
	return []byte(b.String())
}

func importAll(t *testing.T, p *Pipeline, raws ...[]byte) {
	t.Helper()
	for _, raw := range raws {
		if _, err := p.Deliver(context.Background(), Delivery{Teams: []string{"eng"}, Raw: raw, SkipSenderCheck: true}); err != nil {
			t.Fatalf("deliver: %v", err)
		}
	}
}

// threadsOf returns each thread as its Message-IDs in thread order, threads
// ordered by their first message's id for stable comparison.
func threadsOf(t *testing.T, st *store.Store) [][]string {
	t.Helper()
	var out [][]string
	err := st.View(func(tx *store.Tx) error {
		ths, err := tx.Threads("")
		if err != nil {
			return err
		}
		for _, th := range ths {
			ms, err := tx.ThreadMessages(th.ID)
			if err != nil {
				return err
			}
			var ids []string
			for _, m := range ms {
				ids = append(ids, m.MessageID)
			}
			if len(ids) != th.Count {
				return fmt.Errorf("thread %d: count %d but %d messages", th.ID, th.Count, len(ids))
			}
			out = append(out, ids)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return out
}

func TestThreading(t *testing.T) {
	d := func(day, hour int) string {
		return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC).Format(time.RFC1123Z)
	}
	tests := []struct {
		name  string
		mails [][]byte
		want  [][]string
	}{
		{
			name: "in-reply-to, references only, subject fallback",
			mails: [][]byte{
				mail("root@x", d(1, 9), "Launch plan"),
				mail("r1@x", d(1, 10), "Re: Launch plan", "In-Reply-To: <root@x>"),
				mail("r2@x", d(1, 11), "Re: Launch plan", "References: <root@x> <r1@x>"),
				mail("r3@x", d(1, 12), "Re: [eng] Launch plan"),
				mail("other@x", d(1, 13), "Lunch"),
			},
			want: [][]string{{"other@x"}, {"root@x", "r1@x", "r2@x", "r3@x"}},
		},
		{
			name: "child before parent joins when the parent arrives",
			mails: [][]byte{
				mail("c@x", d(2, 10), "Re: plan", "In-Reply-To: <p@x>", "References: <p@x>"),
				mail("c2@x", d(2, 11), "Re: other subject entirely", "References: <p@x>"),
				mail("p@x", d(2, 9), "plan"),
			},
			want: [][]string{{"p@x", "c@x", "c2@x"}},
		},
		{
			name: "two threads merged by a message that references both",
			mails: [][]byte{
				mail("a@x", d(3, 9), "A"),
				mail("b@x", d(3, 10), "B", "References: <ghost@x>"),
				mail("m@x", d(3, 11), "Re: A", "References: <ghost@x> <a@x>"),
			},
			want: [][]string{{"a@x", "m@x", "b@x"}},
		},
		{
			name: "subject fallback needs a reply subject",
			mails: [][]byte{
				mail("s1@x", d(4, 9), "Status"),
				mail("s2@x", d(4, 10), "Status"),
			},
			want: [][]string{{"s1@x"}, {"s2@x"}},
		},
		{
			name: "subject fallback only within 30 days",
			mails: [][]byte{
				mail("old@x", time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC).Format(time.RFC1123Z), "Budget"),
				mail("late@x", d(4, 10), "Re: Budget"),
			},
			want: [][]string{{"late@x"}, {"old@x"}},
		},
		{
			name: "outlook thread-index",
			mails: [][]byte{
				mail("o1@x", d(5, 9), "Quarterly numbers", "Thread-Index: AdlCVqGZc3jZ1dVdSSWxXvXXbAb6hw=="),
				mail("o2@x", d(5, 10), "numbers", "Thread-Index: AdlCVqGZc3jZ1dVdSSWxXvXXbAb6hwAAAXNA"),
			},
			want: [][]string{{"o1@x", "o2@x"}},
		},
		{
			name: "reply loop stays one thread in date order",
			mails: [][]byte{
				mail("l12@x", d(6, 9), "loop", "In-Reply-To: <l21@x>"),
				mail("l21@x", d(6, 10), "Re: loop", "In-Reply-To: <l12@x>"),
			},
			want: [][]string{{"l12@x", "l21@x"}},
		},
		{
			name: "in-reply-to wins over wrong references",
			mails: [][]byte{
				mail("B00@x", d(7, 9), "root"),
				mail("B01@x", d(7, 10), "child", "In-Reply-To: <B00@x>", "References: <B00--typo@x>"),
				mail("B02@x", d(7, 11), "grandchild", "In-Reply-To: <B01@x>", "References: <B01@x> <B00@x>"),
			},
			want: [][]string{{"B00@x", "B01@x", "B02@x"}},
		},
		{
			name: "subject lookup finds a thread after it was merged away",
			mails: [][]byte{
				mail("plan@x", d(10, 9), "Plan"),
				mail("budget@x", d(10, 10), "Budget"),
				mail("both@x", d(10, 11), "Re: Plan", "References: <budget@x> <plan@x>"),
				mail("late@x", d(10, 12), "Re: Budget"),
			},
			want: [][]string{{"plan@x", "both@x", "budget@x", "late@x"}},
		},
		{
			name: "duplicates are stored once",
			mails: [][]byte{
				mail("dup@x", d(8, 9), "once"),
				mail("dup@x", d(8, 9), "once, other headers"),
			},
			want: [][]string{{"dup@x"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, st := threadTestPipeline(t)
			importAll(t, p, tt.mails...)
			if got := threadsOf(t, st); !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("threads = %q\nwant      %q", got, tt.want)
			}
		})
	}
}

// TestThreadingOrderIndependent delivers the same conversation in every
// order of arrival and expects the same single thread.
func TestThreadingOrderIndependent(t *testing.T) {
	d := func(h int) string { return time.Date(2026, 3, 9, h, 0, 0, 0, time.UTC).Format(time.RFC1123Z) }
	mails := [][]byte{
		mail("a@x", d(9), "Plan"),
		mail("b@x", d(10), "Re: Plan", "In-Reply-To: <a@x>", "References: <a@x>"),
		mail("c@x", d(11), "Re: Plan", "In-Reply-To: <b@x>", "References: <a@x> <b@x>"),
		mail("d@x", d(12), "Re: Plan", "References: <a@x> <b@x> <c@x>"),
	}
	want := [][]string{{"a@x", "b@x", "c@x", "d@x"}}
	perm := []int{0, 1, 2, 3}
	var permute func(k int)
	n := 0
	permute = func(k int) {
		if k == len(perm) {
			n++
			p, st := threadTestPipeline(t)
			var ordered [][]byte
			for _, i := range perm {
				ordered = append(ordered, mails[i])
			}
			importAll(t, p, ordered...)
			if got := threadsOf(t, st); !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("order %v: threads = %q", perm, got)
			}
			return
		}
		for i := k; i < len(perm); i++ {
			perm[k], perm[i] = perm[i], perm[k]
			permute(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	permute(0)
	if n != 24 {
		t.Fatalf("tried %d orders, want 24", n)
	}
}

// The same bytes twice are stored once even without a Message-ID: the
// synthetic id is derived from the content, and line endings do not matter.
func TestDedupeWithoutMessageID(t *testing.T) {
	p, st := threadTestPipeline(t)
	crlf := []byte("From: ana@example.com\r\nTo: eng@example.com\r\nSubject: no id\r\n\r\nsame body\r\n")
	lf := []byte(strings.ReplaceAll(string(crlf), "\r\n", "\n"))
	other := []byte("From: ana@example.com\r\nTo: eng@example.com\r\nSubject: no id\r\n\r\nanother body\r\n")
	var outs []Outcome
	for _, raw := range [][]byte{crlf, crlf, lf, other} {
		o, err := p.Deliver(context.Background(), Delivery{Teams: []string{"eng"}, Raw: raw, SkipSenderCheck: true})
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, o)
	}
	if len(outs[0].Stored) != 1 || len(outs[1].Duplicates) != 1 || len(outs[2].Duplicates) != 1 || len(outs[3].Stored) != 1 {
		t.Errorf("outcomes = %+v; want stored, duplicate, duplicate, stored", outs)
	}
	if got := threadsOf(t, st); len(got) != 2 {
		t.Errorf("threads = %q, want two single messages", got)
	}
}

// Auto-replies and bounces face the same sender check as anything else;
// a member's are kept once, outside every thread.
func TestAutoRepliesAreCheckedAndKeptApart(t *testing.T) {
	p, st := threadTestPipeline(t)
	ctx := context.Background()
	err := st.Update(ctx, func(tx *store.Tx) error {
		return tx.PutMember(store.Member{Address: "ana@example.com", Teams: map[string]string{"eng": store.ModeDigest}})
	})
	if err != nil {
		t.Fatal(err)
	}
	ooo := func(from, id string) []byte {
		return []byte("From: " + from + "\r\nTo: eng@example.com\r\nMessage-ID: <" + id + ">\r\n" +
			"Subject: Out of office: cheap pills\r\nAuto-Submitted: auto-replied\r\n\r\nI am away.\r\n")
	}
	_, err = p.Deliver(ctx, Delivery{Teams: []string{"eng"}, Raw: ooo("eve@evil.example", "eve@x")})
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Code != 550 || rej.Enhanced != [3]int{5, 7, 1} {
		t.Errorf("auto-reply from a non-member: %v, want 550 5.7.1", err)
	}
	for i, want := range []string{"stored", "duplicate"} {
		o, err := p.Deliver(ctx, Delivery{Teams: []string{"eng"}, Raw: ooo("ana@example.com", "ana-ooo@x")})
		got := "stored"
		if len(o.Duplicates) > 0 {
			got = "duplicate"
		}
		if err != nil || got != want || o.Auto != AutoReplied {
			t.Errorf("member's auto-reply, delivery %d: %+v, %v; want %s", i, o, err, want)
		}
	}
	var stored []store.Message
	st.View(func(tx *store.Tx) error {
		return tx.MessagesSince(0, func(m store.Message) bool { stored = append(stored, m); return true })
	})
	if len(stored) != 1 || stored[0].Thread != 0 || stored[0].Auto != AutoReplied {
		t.Errorf("stored %+v, want one unthreaded auto-reply", stored)
	}
	if got := threadsOf(t, st); len(got) != 0 {
		t.Errorf("threads %q, want none", got)
	}
}

// A Date far ahead is taken as the time of arrival, so that it cannot pin
// its thread to the top of every list.
func TestFutureDateIsClamped(t *testing.T) {
	p, st := threadTestPipeline(t)
	now := p.now()
	importAll(t, p,
		mail("now@x", now.Add(-time.Hour).Format(time.RFC1123Z), "Status"),
		mail("future@x", "Mon, 01 Jan 2099 00:00:00 +0000", "Re: Status", "In-Reply-To: <now@x>"),
		mail("soon@x", now.Add(time.Hour).Format(time.RFC1123Z), "Re: Status", "In-Reply-To: <now@x>"))
	st.View(func(tx *store.Tx) error {
		ths, _ := tx.Threads("eng")
		if len(ths) != 1 || !ths[0].LastAt.Equal(now.Add(time.Hour).Truncate(time.Second)) {
			t.Errorf("threads %+v, want one, last active an hour from now", ths)
		}
		ms, _ := tx.ThreadMessages(ths[0].ID)
		for _, m := range ms {
			if m.MessageID == "future@x" && !m.Date.Equal(now) {
				t.Errorf("future@x dated %v, want the time of arrival %v", m.Date, now)
			}
		}
		return nil
	})
}

func TestCapText(t *testing.T) {
	long := strings.Repeat("é", 1000) // 2 bytes each
	got := capText(long, 501)
	if len(got) > 501 || !utf8.ValidString(got) || !strings.HasSuffix(got, "raw message]") {
		t.Errorf("capText: %d bytes, valid %v: %q", len(got), utf8.ValidString(got), got[len(got)-40:])
	}
	if capText("short", 501) != "short" {
		t.Error("short text changed")
	}
}

// Every mailbox of a From field must be allowed to post: naming a member
// beside oneself is not enough.
func TestEveryAuthorMustBeAllowed(t *testing.T) {
	p, st := threadTestPipeline(t)
	ctx := context.Background()
	st.Update(ctx, func(tx *store.Tx) error {
		return tx.PutMember(store.Member{Address: "ana@example.com", Teams: map[string]string{"eng": store.ModeDigest}})
	})
	raw := func(from string) []byte {
		return []byte("From: " + from + "\r\nTo: eng@example.com\r\nSubject: hi\r\n\r\nhello\r\n")
	}
	_, err := p.Deliver(ctx, Delivery{Teams: []string{"eng"}, Raw: raw("Ana <ana@example.com>, Eve <eve@evil.example>")})
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Code != 550 {
		t.Errorf("member and outsider as authors: %v, want 550 5.7.1", err)
	}
	if _, err := p.Deliver(ctx, Delivery{Teams: []string{"eng"}, Raw: raw("ana@example.com")}); err != nil {
		t.Errorf("the member alone: %v", err)
	}
}
