package mailin

import (
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzForward: whatever the text and subject, DetectForward does not
// panic, gives the same answer twice, gives valid UTF-8, and finds nothing
// in a bounce. Seeds are in testdata/fuzz/FuzzForward and below.
func FuzzForward(f *testing.F) {
	for _, s := range []struct {
		text, subject string
	}{
		{"---------- Forwarded message ---------\nFrom: A <a@b.c>\nDate: Mon, Nov 30, 2026 at 9:14 AM\nSubject: x\nTo: <d@e.f>\n\nbody", "Fwd: x"},
		{"> Begin forwarded message:\n>\n> From: A <a@b.c>\n> Subject: x\n> Date: 30 November 2026 at 09:14:00 MEZ\n>\n> body", ""},
		{"note\n\nFrom: A [mailto:a@b.c]\r\nSent: 30 November 2026 09:14\r\nTo: d\r\nSubject: x\r\n\r\nbody", "FW: x"},
		{"  ----- Forwarded Message ----- From: A <a@b.c>To: d@e.fSent: Monday, November 30, 2026, 09:14:00 AM GMT+1Subject: x\n body", ""},
		{"On 30/11/2026, 09:14, \"A\" <a@b.c> wrote:\n\n    body", "转发：x"},
		{"-------- Weitergeleitete Nachricht --------\nBetreff: \tx\nDatum: \t2026年11月30日 9:14\nVon: \t<a@b.c>", "WG: x"},
		{"_______\n*From:* a@\n*Sent:* 99/99/99 99:99\n*To:* \n*Subject:* ", "Re: Fwd: x"},
		{"\xff\xfe>>>> -- fwd --\n>>>> From: \xc3\n>>>> Date: \xe2\x80", "\xe2"},
	} {
		f.Add(s.text, s.subject, false)
	}
	f.Fuzz(func(t *testing.T, text, subject string, inReplyTo bool) {
		p := &Parsed{Text: text, Subject: subject}
		if inReplyTo {
			p.InReplyTo = []string{"x@example.com"}
		}
		f1, ok1 := DetectForward(p)
		f2, ok2 := DetectForward(p)
		if ok1 != ok2 || !reflect.DeepEqual(f1, f2) {
			t.Fatalf("not deterministic: %v %+v, then %v %+v", ok1, f1, ok2, f2)
		}
		if !ok1 && !reflect.DeepEqual(f1, Forward{}) {
			t.Fatalf("no forward, but %+v", f1)
		}
		for what, s := range map[string]string{
			"Subject": f1.Subject, "Note": f1.Note, "Text": f1.Text, "From.Name": f1.From.Name, "From.Addr": f1.From.Addr,
		} {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not valid UTF-8: %q", what, s)
			}
		}
		if !f1.Date.IsZero() && f1.Date.Location().String() != "UTC" {
			t.Fatalf("Date %v is not in UTC", f1.Date)
		}
		p.Auto = AutoBounce
		if _, ok := DetectForward(p); ok {
			t.Fatal("a bounce was taken for a forward")
		}
	})
}
