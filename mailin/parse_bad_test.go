package mailin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/store"
)

// TestParseBadInput: each kind of broken mail, with what becomes of it.
func TestParseBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		wantErr error
		check   func(t *testing.T, p *Parsed)
	}{
		{
			name:    "two From fields",
			raw:     "From: ana@example.com\r\nSubject: hi\r\nfrom: mallory@example.org\r\n\r\nbody\r\n",
			wantErr: ErrMultipleFrom,
		},
		{
			name: "one From field with two mailboxes is read",
			raw:  "From: Ana <ana@example.com>, bo@example.com\n\nbody\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "From", p.From, Address{Name: "Ana", Addr: "ana@example.com"})
				wantContains(t, "Problems", strings.Join(p.Problems, "|"), "From names 2 mailboxes")
			},
		},
		{
			name: "empty body",
			raw:  "From: ana@example.com\r\nSubject: nothing\r\nMessage-ID: <e@x>\r\n\r\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "")
				wantEqual(t, "Subject", p.Subject, "nothing")
				wantEqual(t, "MessageID", p.MessageID, "e@x")
			},
		},
		{
			name: "header only, no blank line",
			raw:  "From: ana@example.com\r\nSubject: nothing",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Subject", p.Subject, "nothing")
				wantEqual(t, "Text", p.Text, "")
			},
		},
		{
			name: "empty input",
			raw:  "",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Synthetic", p.Synthetic, true)
				wantEqual(t, "Text", p.Text, "")
				wantEqual(t, "From", p.From, Address{})
			},
		},
		{
			name: "NUL bytes",
			raw:  "From: ana@example.com\nSubject: nu\x00ll\n\nbe\x00fore\x00\nafter\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Subject", p.Subject, "null")
				wantEqual(t, "Text", p.Text, "before\nafter")
			},
		},
		{
			name: "encoded words decoding to CR, LF and NUL",
			raw: "From: =?utf-8?q?Ana=0D=0ABcc:_x@evil.example?= <ana@example.com>\n" +
				"Subject: =?utf-8?q?one=0D=0Atwo=00three?= =?utf-8?b?Zm91cgpmaXZl?=\n\nx\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Subject", p.Subject, "one twothreefour five")
				wantEqual(t, "From", p.From, Address{Name: "Ana Bcc: x@evil.example", Addr: "ana@example.com"})
			},
		},
		{
			name: "bidi override in a file name",
			raw: "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nsee file\n--b\n" +
				"Content-Type: application/octet-stream; name=\"=?utf-8?q?invoice=E2=80=AEfdp.exe?=\"\n\nMZ\n--b--\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "invoicefdp.exe", Type: "application/octet-stream", Size: 2}})
			},
		},
		{
			name: "Latin-1 and Windows-1252 header bytes",
			raw:  "From: Jos\xe9 <jose@example.com>\nSubject: Caf\xe9 \x93cr\xe8me\x94\n\nx\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Subject", p.Subject, "Café “crème”")
				wantEqual(t, "From", p.From, Address{Name: "José", Addr: "jose@example.com"})
			},
		},
		{
			name: "raw UTF-8 header bytes",
			raw:  "From: Zoë <zoe@example.com>\nSubject: naïve résumé ✓\n\nx\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Subject", p.Subject, "naïve résumé ✓")
				wantEqual(t, "From.Name", p.From.Name, "Zoë")
			},
		},
		{
			name: "raw 8-bit header in the body's charset",
			raw: "From: a@example.com\nSubject: \xcf\xf0\xe8\xe2\xe5\xf2\nContent-Type: text/plain; charset=windows-1251\n\n" +
				"\xcf\xf0\xe8\xe2\xe5\xf2\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Subject", p.Subject, "Привет")
				wantEqual(t, "Text", p.Text, "Привет")
			},
		},
		{
			name: "malformed header lines",
			raw: "From sender@example.com Mon Jan  1 00:00:00 2024\n" + // mbox envelope line
				"Subject : spaced name\n" +
				"X-Broken line without colon\n" +
				"From: <ANA@Example.COM>\n" +
				"To: ,,, bo@example.com,, \"Cy\" <cy@example.com\n" +
				"\nbody\n",
			check: func(t *testing.T, p *Parsed) {
				// A line without a colon continues the field before it
				// (a broken fold): kept, not lost.
				wantEqual(t, "Subject", p.Subject, "spaced name X-Broken line without colon")
				wantEqual(t, "From", p.From, Address{Addr: "ana@example.com"})
				wantEqual(t, "To", p.To, []Address{{Addr: "bo@example.com"}, {Name: "Cy", Addr: "cy@example.com"}})
				wantEqual(t, "Text", p.Text, "body")
			},
		},
		{
			name: "malformed encoded words kept",
			raw:  "From: a@example.com\nSubject: =?utf-8?x?abc?= =?utf-8?b?!!!?= =?utf-8?q?ok?= =?\n\nx\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Subject", p.Subject, "=?utf-8?x?abc?= =?utf-8?b?!!!?= ok =?")
			},
		},
		{
			name: "unknown charset in an encoded word",
			raw:  "From: a@example.com\nSubject: =?x-klingon?q?Gr=C3=BC=C3=9Fe?= and =?x-klingon?q?caf=E9?=\n\nx\n",
			check: func(t *testing.T, p *Parsed) {
				// Read as UTF-8, or Windows-1252 where it is not: nothing lost.
				wantEqual(t, "Subject", p.Subject, "Grüße and café")
			},
		},
		{
			name: "unknown body charset",
			raw:  "From: a@example.com\nContent-Type: text/plain; charset=x-unknown-8bit\n\nGr\xfc\xdfe aus K\xf6ln\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "Grüße aus Köln")
				wantContains(t, "Problems", strings.Join(p.Problems, "|"), `unknown charset "x-unknown-8bit"`)
			},
		},
		{
			name: "invalid UTF-8 in a UTF-8 body",
			raw:  "From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\nok \xe2\x9c\x93 then \xe9t\xe9\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "ok ✓ then été")
			},
		},
		{
			name: "broken base64 and quoted-printable",
			raw: "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\n" +
				"SGVsbG8gd29y\r\nbGQsIGhvdyBh*cmUgeW91Pw\n--b\nContent-Transfer-Encoding: quoted-printable\n\nsoft=\nbreak =ZZ =3d =C3=A9=\n\n--b--\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "Hello world, how are you?\n\nsoftbreak =ZZ = é")
			},
		},
		{
			name: "missing closing boundary",
			raw:  "From: a@example.com\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n\none\n--b\n\ntwo\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "one\n\ntwo")
				wantEqual(t, "Truncated", p.Truncated, false)
			},
		},
		{
			name: "boundary never used",
			raw:  "From: a@example.com\nContent-Type: multipart/mixed; boundary=\"b\"\n\njust text\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "just text")
				wantContains(t, "Problems", strings.Join(p.Problems, "|"), "multipart boundary not found")
			},
		},
		{
			name: "bad dates",
			raw:  "From: a@example.com\nDate: yesterday at noon\n\nx\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Date", p.Date, time.Time{})
			},
		},
		{
			name: "ids with junk, comments and no brackets",
			raw: "From: a@example.com\nMessage-ID: (generated) <abc@host> (trailing)\n" +
				"In-Reply-To: your message of Mon <p1@host> \"quoted\"\nReferences: <r1@host>,junk <r2@host>\n r3@host\n\nx\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "MessageID", p.MessageID, "abc@host")
				wantEqual(t, "InReplyTo", p.InReplyTo, []string{"p1@host"})
				wantEqual(t, "References", p.References, []string{"r1@host", "r2@host"})
			},
		},
		{
			name: "ids without brackets",
			raw:  "From: a@example.com\nMessage-ID: bare@host\nIn-Reply-To: p1@host\nReferences: r1@host r2@host\n\nx\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "MessageID", p.MessageID, "bare@host")
				wantEqual(t, "InReplyTo", p.InReplyTo, []string{"p1@host"})
				wantEqual(t, "References", p.References, []string{"r1@host", "r2@host"})
			},
		},
		{
			name: "Thread-Index kept as sent",
			raw:  "From: a@example.com\nThread-Index: \tAdPQ1Ju3cpqXaqbDTcm2Z7nXVw== \n\nx\n",
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "ThreadIndex", p.ThreadIndex, "AdPQ1Ju3cpqXaqbDTcm2Z7nXVw==")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(tt.raw), Limits{})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if p != nil {
					t.Fatalf("got a Parsed with error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, p)
			tt.check(t, p)
		})
	}
}
