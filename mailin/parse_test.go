package mailin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tidings/tidings/store"
)

// parseFixture parses testdata/parse/name and fails the test on error.
func parseFixture(t *testing.T, name string) *Parsed {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "parse", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	checkInvariants(t, p)
	return p
}

// checkInvariants holds for every successful parse.
func checkInvariants(t *testing.T, p *Parsed) {
	t.Helper()
	if p.MessageID == "" {
		t.Error("empty MessageID")
	}
	for name, s := range map[string]string{"Text": p.Text, "Subject": p.Subject, "From.Name": p.From.Name} {
		if !utf8.ValidString(s) {
			t.Errorf("%s is not valid UTF-8: %q", name, s)
		}
		if strings.ContainsRune(s, 0) {
			t.Errorf("%s contains NUL: %q", name, s)
		}
	}
	if strings.ContainsAny(p.Subject, "\r\n") {
		t.Errorf("Subject contains a line break: %q", p.Subject)
	}
	if strings.Contains(p.Text, "\r") {
		t.Errorf("Text contains CR: %q", p.Text)
	}
	if p.From.Addr != strings.ToLower(p.From.Addr) {
		t.Errorf("From address not lower case: %q", p.From.Addr)
	}
	if !p.Date.IsZero() && p.Date.Location() != time.UTC {
		t.Errorf("Date not in UTC: %v", p.Date)
	}
}

func wantContains(t *testing.T, what, s string, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestParseFixtures(t *testing.T) {
	t.Parallel()
	date := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	tests := []struct {
		file  string
		check func(t *testing.T, p *Parsed)
	}{
		{"mikel/basic_email.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "MessageID", p.MessageID, "6B7EC235-5B17-4CA8-B2B8-39290DEB43A3@test.lindsaar.net")
			wantEqual(t, "From", p.From, Address{Name: "Mikel Lindsaar", Addr: "test@lindsaar.net"})
			wantEqual(t, "To", p.To, []Address{{Name: "Mikel Lindsaar", Addr: "raasdnil@gmail.com"}})
			wantEqual(t, "Subject", p.Subject, "Testing 123")
			wantEqual(t, "Date", p.Date, date("2008-11-22T04:04:59Z"))
			wantEqual(t, "Text", p.Text, "Plain email.\n\nHope it works well!\n\nMikel")
			wantEqual(t, "Synthetic", p.Synthetic, false)
		}},
		{"mikel/basic_email_lf.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Text", p.Text, "Plain email.\n\nHope it works well!\n\nMikel")
		}},
		{"mikel/example03.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "From", p.From, Address{Name: "Joe Q. Public", Addr: "john.q.public@example.com"})
			wantEqual(t, "To", p.To, []Address{{Name: "Mary Smith", Addr: "mary@x.test"}, {Addr: "jdoe@example.org"}, {Name: "Who?", Addr: "one@y.test"}})
			wantEqual(t, "Cc", p.Cc, []Address{{Addr: "boss@nil.test"}, {Name: `Giant; "Big" Box`, Addr: "sysservices@example.net"}})
			wantEqual(t, "Date", p.Date, date("2003-07-01T08:52:37Z"))
		}},
		{"mikel/example04.eml", func(t *testing.T, p *Parsed) {
			// A group with comments everywhere, and a Newfoundland date
			// folded over lines.
			wantEqual(t, "To", p.To, []Address{{Name: "Chris Jones", Addr: "c@a.test"}, {Addr: "joe@where.test"}, {Name: "John", Addr: "jdoe@one.test"}})
			wantEqual(t, "Date", p.Date, date("1969-02-14T03:02:54Z"))
		}},
		{"mikel/utf8_headers.eml", func(t *testing.T, p *Parsed) {
			// RFC 6532: raw UTF-8 in header fields.
			wantEqual(t, "From", p.From, Address{Name: "Jöhn Doe", Addr: "jdöe@mächine.example"})
			wantEqual(t, "Subject", p.Subject, "Säying Hello")
		}},
		{"mikel/japanese_iso_2022.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Subject", p.Subject, "まみむめも")
			wantEqual(t, "To", p.To, []Address{{Name: "みける", Addr: "raasdnil@gmail.com"}})
			wantEqual(t, "Text", p.Text, "すみません。")
		}},
		{"mikel/japanese_shift_jis.eml", func(t *testing.T, p *Parsed) {
			wantContains(t, "Text", p.Text, "あいうえお", "このメールはテスト用のメールです。")
		}},
		{"mikel/ks_c_5601-1987.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Text", p.Text, "스티해")
		}},
		{"mikel/japanese_attachment_long_name.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Subject", p.Subject, strings.Repeat("まみむめも", 10))
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "かきくけこかきくけこかきくけこかきくけこかきくけこ.txt", Type: "text/plain", Size: 18}})
		}},
		{"mikel/attachment_nonascii_filename.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "ciële.txt", Type: "text/plain", Size: 11}})
			wantEqual(t, "Text", p.Text, "This is the first part.")
		}},
		{"mikel/attachment_with_quoted_filename.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Subject", p.Subject, "Eelanalüüsi päring")
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "Eelanalüüsi päring.jpg", Type: "image/jpeg", Size: 1952}})
		}},
		{"mikel/attachment_message_rfc822.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "ForwardedMessage.eml", Type: "message/rfc822", Size: 3781}})
			if len(p.Embedded) != 1 {
				t.Fatalf("Embedded: %d messages, want 1", len(p.Embedded))
			}
			e := p.Embedded[0]
			wantEqual(t, "Embedded.Subject", e.Subject, "Another PDF")
			wantEqual(t, "Embedded.From", e.From, Address{Name: "Test Tester", Addr: "xxxx@xxxx.com"})
			wantEqual(t, "Embedded.Attachments", e.Attachments, []store.Attachment{{Name: "broken.pdf", Type: "application/pdf", Size: 1026}})
		}},
		{"mikel/multi_address_bounce1.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Auto", p.Auto, AutoBounce)
			wantContains(t, "Text", p.Text, "could not\nbe delivered")
		}},
		{"mikel/report_422.eml", func(t *testing.T, p *Parsed) {
			// A delay warning is a DSN too.
			wantEqual(t, "Auto", p.Auto, AutoBounce)
		}},
		{"mikel/raw_email_multiple_from.eml", func(t *testing.T, p *Parsed) {
			// One From field naming two mailboxes without a comma.
			wantEqual(t, "From", p.From, Address{Addr: "tim@powerupdev.com"})
			wantEqual(t, "To", p.To, []Address{{Addr: "tim@powerupdev.com"}, {Addr: "concierge@powerupdev.com"}})
		}},
		{"mikel/raw_email_with_bad_date.eml", func(t *testing.T, p *Parsed) {
			// "Pn, 29 paX 2007": no month; the date is left out, the rest read.
			wantEqual(t, "Date", p.Date, time.Time{})
			wantEqual(t, "Text", p.Text, "hotnewsoft . com")
		}},
		{"mikel/content_transfer_encoding_x_uuencode.eml", func(t *testing.T, p *Parsed) {
			wantContains(t, "Problems", strings.Join(p.Problems, "|"), `unknown transfer encoding "x-uuencode"`)
			wantContains(t, "Text", p.Text, "Attached are the comments of the Public Generating Pool.")
		}},
		{"enmime/simple_dsn.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Auto", p.Auto, AutoBounce)
			wantEqual(t, "Text", p.Text, "[human-readable explanation goes here]")
		}},
		{"enmime/dsn_with_multipart_alternative.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Auto", p.Auto, AutoBounce)
			wantEqual(t, "Subject", p.Subject, "Undeliverable: Some subject")
		}},
		{"enmime/multipart-wo-boundary.raw", func(t *testing.T, p *Parsed) {
			// multipart/report without a boundary, from Mailer-Daemon with
			// a DSN subject: still a bounce, and the text is kept.
			wantEqual(t, "Auto", p.Auto, AutoBounce)
			wantEqual(t, "Text", p.Text, "I'm  multipart message without boundary")
		}},
		{"enmime/html-only-inline.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "FromHTML", p.FromHTML, true)
			wantEqual(t, "Text", p.Text, "Test of HTML section")
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "favicon.png", Type: "image/png", Size: 687}})
		}},
		{"enmime/html-mime-inline.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "FromHTML", p.FromHTML, false)
			wantEqual(t, "Text", p.Text, "Test of text section")
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "favicon.png", Type: "image/png", Size: 687}})
		}},
		{"enmime/other-multi-related.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Text", p.Text, "Plain text.")
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{
				{Name: "image001.png", Type: "image/png", Size: 687}, {Name: "image002.png", Type: "image/png", Size: 687}})
		}},
		{"enmime/mime-bad-8bit-filename.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "管理.doc", Type: "application/msword", Size: 7}})
		}},
		{"enmime/mime-duplicate-param.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "Invoice_302232133150612.pdf", Type: "application/pdf", Size: 524}})
		}},
		{"enmime/mime-unquoted-tspecials-param.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "Invoice_(302232133150612).pdf", Type: "application/pdf", Size: 524}})
		}},
		{"enmime/mime-bad-content-type.raw", func(t *testing.T, p *Parsed) {
			// "application/pdf name=..." without the semicolon.
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "Invoice_302232133150612.pdf", Type: "application/pdf", Size: 524}})
		}},
		{"enmime/bad-header-start.raw", func(t *testing.T, p *Parsed) {
			// The first line is folded: the From field is still read.
			wantEqual(t, "From", p.From, Address{Name: "James Hillyerd", Addr: "james@makita.skynet"})
			wantEqual(t, "Text", p.Text, "A text section")
		}},
		{"enmime/bad-header-wrap.raw", func(t *testing.T, p *Parsed) {
			// A parameter continued on a line without leading blank.
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "7DDA4_foo_9E5D72.zip", Type: "application/x-zip-compressed", Size: 7}})
		}},
		{"enmime/bad-final-boundary.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Text", p.Text, "A text section")
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "foo_9E5D72.zip", Type: "application/x-zip-compressed", Size: 7}})
			wantContains(t, "Problems", strings.Join(p.Problems, "|"), "multipart without closing boundary")
		}},
		{"enmime/unk-charset-part.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Text", p.Text, "A text section")
			wantContains(t, "Problems", strings.Join(p.Problems, "|"), `unknown charset "fakescii"`)
		}},
		{"enmime/incorrect-charset.raw", func(t *testing.T, p *Parsed) {
			// Labelled us-ascii, sent as UTF-8: the UTF-8 is kept.
			wantContains(t, "Text", p.Text, "∮ E⋅da = Q,  n → ∞")
		}},
		{"enmime/quoted-printable-invalid.raw", func(t *testing.T, p *Parsed) {
			wantContains(t, "Text", p.Text, "Stuffs’s Weekly Summary", "Sunday, January 15th – Saturday, January 21st")
		}},
		{"enmime/extra-base64-character.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Text", p.Text, "Hello World!")
		}},
		{"enmime/mime-bad-content-transfer-encoding.raw", func(t *testing.T, p *Parsed) {
			// Declared base64, plainly text: shown as text.
			wantContains(t, "Text", p.Text, "ploozdect  nispplul swunkglap")
		}},
		{"enmime/qp-utf8-header.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Subject", p.Subject, "MIME UTF8 Test ¢ More Text")
			wantEqual(t, "To", p.To, []Address{{Name: "Mirosław Marczak", Addr: "marczak@inbucket.com"}})
			wantEqual(t, "From", p.From, Address{Name: "James Hillyerd", Addr: "jamehi03@jamehi03lx.noa.com"})
		}},
		{"enmime/mime-signed.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Text", p.Text, "Section one\n\nSection two")
			wantEqual(t, "Attachments", len(p.Attachments), 0)
		}},
		{"enmime/similar-boundary.raw", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Text", p.Text, "Section one\n\nA text section")
		}},
		{"enmime/erroneous.raw", func(t *testing.T, p *Parsed) {
			// Not a message at all: all of it is text.
			wantEqual(t, "Text", p.Text, "// Not an RFC-822 Document")
			wantEqual(t, "Synthetic", p.Synthetic, true)
		}},
		{"mailparser/nodemailer.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Subject", p.Subject, "Nodemailer is unicode friendly ✔ (1476358788189)")
			wantEqual(t, "Text", p.Text, "Hello to myself!")
			// The Apple Watch rendering is an alternative, not a file.
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{
				{Name: "image.png", Type: "image/png", Size: 126},
				{Name: "nyan cat ✔.gif", Type: "image/gif", Size: 29361},
				{Name: "notes.txt", Type: "text/plain", Size: 28},
			})
		}},
		{"mailparser/nested.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Text", p.Text, "Dear Sir,\n\nGood evening.\n\nThe footer")
		}},
		{"mailparser/delivery-status.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Auto", p.Auto, AutoBounce)
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "Example Subject.eml", Type: "message/rfc822", Size: 1024}})
		}},
		{"mailparser/decoderended.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Subject", p.Subject, "Fwd: fotos")
			wantEqual(t, "Text", p.Text, "Note: forwarded message attached.\n\n---------------------------------\nBe a better something.\nCheck it out.")
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "message.eml", Type: "message/rfc822", Size: 0}})
		}},
		{"mailparser/large_text.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Subject", p.Subject, "[Bug 381598] Re: ubiquity crashes in ubuntu 9.04 installation")
			wantEqual(t, "Bulk", p.Bulk, true) // Launchpad list mail
			wantContains(t, "Text", p.Text, "Exception during installation:")
			if len(p.Text) < 1_000_000 {
				t.Errorf("Text has %d bytes, want the whole megabyte", len(p.Text))
			}
		}},
		{"mailparser/outofmemory.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "FromHTML", p.FromHTML, true)
			wantContains(t, "Text", p.Text, "$1 million in Life Insurance Coverage")
		}},
		{"mailparser/htmllargecallstack.eml", func(t *testing.T, p *Parsed) {
			// 570 KB of junk inside <title>: nothing readable, no trouble.
			wantEqual(t, "Subject", p.Subject, "Kill the HTML parser")
			wantEqual(t, "Text", p.Text, "")
		}},
		{"postal-mime/mimetorture.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Subject", p.Subject, "Ryan Finnie's MIME Torture Test v1.0")
			wantContains(t, "Text", p.Text, "Welcome to Ryan Finnie's MIME torture test.", "Ryan Finnie")
			wantEqual(t, "Truncated", p.Truncated, false)
			var names []string
			for _, a := range p.Attachments {
				names = append(names, a.Name)
			}
			wantEqual(t, "attachment names", names, []string{
				"plain jane message.eml", "messages inside messages inside....eml",
				"this message JUST contains an attachment.eml", "Attachment filename vs. name.eml",
				"No filename?  No problem!.eml", "html and text, both inline.eml",
				"text and text, both inline.eml", "HTML and...  HTML?.eml", "smiley!.eml",
				"the PROPER way to do alternative-related.eml",
			})
			if len(p.Embedded) != 10 {
				t.Fatalf("Embedded: %d, want 10", len(p.Embedded))
			}
			// Three levels of message/rfc822 inside each other.
			inner := p.Embedded[1]
			wantEqual(t, "inner subject", inner.Subject, "messages inside messages inside...")
			if len(inner.Embedded) != 1 || inner.Embedded[0].Subject != "the original message" {
				t.Fatalf("inner.Embedded = %+v", inner.Embedded)
			}
			orig := inner.Embedded[0]
			wantContains(t, "original text", orig.Text, "by this point, I should be the 3rd layer deep!")
			wantEqual(t, "original attachment", orig.Attachments[0], store.Attachment{Name: "foo.gz", Type: "application/x-gzip", Size: 42})
			// Filename and name disagree: the filename wins.
			wantEqual(t, "filename vs name", p.Embedded[3].Attachments[0].Name, "blah1.gz")
			wantEqual(t, "alternative-related", p.Embedded[9].FromHTML, false)
		}},
		{"postal-mime/bounce.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Auto", p.Auto, AutoBounce)
			wantEqual(t, "From", p.From, Address{Name: "Mail Delivery System", Addr: "mailer-daemon@messagingengine.com"})
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "Proovikiri.eml", Type: "message/rfc822", Size: 3939}})
		}},
		{"postal-mime/arf.eml", func(t *testing.T, p *Parsed) {
			// An abuse report is machine mail: kept out of threads.
			wantEqual(t, "Auto", p.Auto, AutoBounce)
		}},
		{"postal-mime/calendar-event.eml", func(t *testing.T, p *Parsed) {
			wantContains(t, "Subject", p.Subject, "Invitation: Test event ⏰")
			wantContains(t, "Text", p.Text, "Join with Google Meet")
			wantEqual(t, "FromHTML", p.FromHTML, false)
			// The same file twice, quoted-printable and base64: one size
			// (its lines end in CRLF, as RFC 5545 requires).
			wantEqual(t, "Attachments", p.Attachments, []store.Attachment{
				{Name: "attachment.ics", Type: "text/calendar", Size: 2052},
				{Name: "invite.ics", Type: "application/ics", Size: 2052},
			})
		}},
		{"stalwart/rfc-002.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Text", p.Text, "Fred,\n\nFire up Air Force One!  We're going South!\n\nThanks,\nAl")
			if len(p.Embedded) != 1 {
				t.Fatalf("Embedded: %d, want 1", len(p.Embedded))
			}
			wantEqual(t, "forwarded subject", p.Embedded[0].Subject, "Map of Argentina with Description")
		}},
		{"stalwart/rfc-004.eml", func(t *testing.T, p *Parsed) {
			// multipart/digest: parts without a type are messages.
			var subjects []string
			for _, e := range p.Embedded {
				subjects = append(subjects, e.Subject)
			}
			wantEqual(t, "digest subjects", subjects, []string{"my opinion", "my different opinion"})
		}},
		{"stalwart/thirdparty-010.eml", func(t *testing.T, p *Parsed) {
			wantEqual(t, "Subject", p.Subject, "こんにちは")
			wantEqual(t, "Text", p.Text, "人権の無視及")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			tt.check(t, parseFixture(t, tt.file))
		})
	}
}

// TestParseAllFixturesInvariants parses every fixture, and every one
// with its line endings swapped, and checks what must hold for any mail.
func TestParseAllFixturesInvariants(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "parse", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f, ".eml") && !strings.HasSuffix(f, ".raw") {
			continue
		}
		n++
		t.Run(filepath.ToSlash(f), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lf := []byte(strings.ReplaceAll(string(raw), "\r\n", "\n"))
			crlf := []byte(strings.ReplaceAll(string(lf), "\n", "\r\n"))
			a, errA := Parse(lf, Limits{})
			b, errB := Parse(crlf, Limits{})
			if errA != nil || errB != nil {
				t.Fatalf("Parse: %v / %v", errA, errB)
			}
			checkInvariants(t, a)
			checkInvariants(t, b)
			// Line endings change nothing a reader sees.
			wantEqual(t, "MessageID LF vs CRLF", a.MessageID, b.MessageID)
			wantEqual(t, "Subject LF vs CRLF", a.Subject, b.Subject)
			wantEqual(t, "Text LF vs CRLF", a.Text, b.Text)
			wantEqual(t, "Attachment count LF vs CRLF", len(a.Attachments), len(b.Attachments))
		})
	}
	if n < 40 {
		t.Fatalf("only %d fixtures found", n)
	}
}

func TestParseSyntheticID(t *testing.T) {
	t.Parallel()
	lf := "From: ana@example.com\nSubject: no id\n\nHello\nthere\n"
	crlf := strings.ReplaceAll(lf, "\n", "\r\n")
	sum := sha256.Sum256([]byte(lf))
	want := hex.EncodeToString(sum[:]) + "@synthetic.tidings.invalid"
	for name, raw := range map[string]string{"LF": lf, "CRLF": crlf} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "MessageID", p.MessageID, want)
			wantEqual(t, "Synthetic", p.Synthetic, true)
		})
	}
	t.Run("different content, different id", func(t *testing.T) {
		t.Parallel()
		p, err := Parse([]byte(strings.Replace(lf, "Hello", "Hallo", 1)), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if p.MessageID == want {
			t.Fatal("two different messages got one synthetic id")
		}
	})
	t.Run("empty and junk ids are missing ids", func(t *testing.T) {
		t.Parallel()
		for _, id := range []string{"<>", "   ", "<" + strings.Repeat("x", 1200) + "@example.com>"} {
			p, err := Parse([]byte("Message-ID: "+id+"\nFrom: a@example.com\n\nx\n"), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !p.Synthetic || !strings.HasSuffix(p.MessageID, "@synthetic.tidings.invalid") {
				t.Errorf("Message-ID %.20q: got %q, Synthetic %v", id, p.MessageID, p.Synthetic)
			}
		}
	})
}

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

// TestParseText covers the choice and clean-up of the text.
func TestParseText(t *testing.T) {
	t.Parallel()
	const hdr = "From: a@example.com\nMIME-Version: 1.0\n"
	tests := []struct {
		name     string
		raw      string
		want     string
		fromHTML bool
	}{
		{
			name: "plain text first in alternative",
			raw: hdr + "Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\nplain\n" +
				"--b\nContent-Type: text/html\n\n<p>html</p>\n--b--\n",
			want: "plain",
		},
		{
			name: "plain text second in alternative",
			raw: hdr + "Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/html\n\n<p>html</p>\n" +
				"--b\nContent-Type: text/plain\n\nplain\n--b--\n",
			want: "plain",
		},
		{
			name: "empty plain alternative falls back to HTML",
			raw: hdr + "Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\n  \n" +
				"--b\nContent-Type: text/html\n\n<p>from <b>html</b></p>\n--b--\n",
			want: "from html", fromHTML: true,
		},
		{
			name: "HTML inside related inside alternative",
			raw: hdr + "Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: multipart/related; boundary=r\n\n" +
				"--r\nContent-Type: text/html\n\n<div>rich</div>\n--r\nContent-Type: image/png\nContent-ID: <i>\n\nPNG\n--r--\n--a--\n",
			want: "rich", fromHTML: true,
		},
		{
			name: "related root named by start",
			raw: hdr + "Content-Type: multipart/related; boundary=r; start=\"<two>\"\n\n--r\nContent-ID: <one>\n\nnot root\n" +
				"--r\nContent-ID: <two>\n\nroot\n--r--\n",
			want: "root",
		},
		{
			name: "inline parts of mixed joined",
			raw: hdr + "Content-Type: multipart/mixed; boundary=m\n\n--m\n\nbefore\n--m\nContent-Type: image/png\n\nPNG\n" +
				"--m\nContent-Type: text/plain\nContent-Disposition: inline\n\nafter\n--m--\n",
			want: "before\n\nafter",
		},
		{
			name: "text attachment not in text",
			raw: hdr + "Content-Type: multipart/mixed; boundary=m\n\n--m\n\nbody\n--m\nContent-Type: text/plain\n" +
				"Content-Disposition: attachment; filename=notes.txt\n\nnotes\n--m--\n",
			want: "body",
		},
		{
			name: "format=flowed",
			raw:  hdr + "Content-Type: text/plain; format=flowed\n\nThis is one \nlong line.\n> quoted \n> too\n\n-- \nsig\n",
			want: "This is one long line.\n> quoted too\n\n-- \nsig",
		},
		{
			name: "format=flowed delsp",
			raw:  hdr + "Content-Type: text/plain; format=flowed; delsp=yes\n\n日本語の \n文章\n",
			want: "日本語の文章",
		},
		{
			name: "line endings and trailing blanks",
			raw:  hdr + "\n\n\nline one   \r\nline two\t\rline three\n\n\n",
			want: "line one\nline two\nline three",
		},
		{
			name: "signature separator keeps its space",
			raw:  hdr + "\nhello\n-- \nAna\n",
			want: "hello\n-- \nAna",
		},
		{
			name: "HTML only",
			raw:  hdr + "Content-Type: text/html; charset=utf-8\n\n<html><head><style>x{}</style></head><body><p>Hi &amp; bye</p><ul><li>one</li></ul></body></html>\n",
			want: "Hi & bye\n\n- one", fromHTML: true,
		},
		{
			name: "HTML charset from meta",
			raw:  hdr + "Content-Type: text/html\n\n<meta charset=\"iso-8859-1\"><p>caf\xe9</p>\n",
			want: "café", fromHTML: true,
		},
		{
			name: "base64 UTF-16",
			raw:  hdr + "Content-Type: text/plain; charset=utf-16le\nContent-Transfer-Encoding: base64\n\naABpACEA\n",
			want: "hi!",
		},
		{
			name: "encrypted",
			raw: hdr + "Content-Type: multipart/encrypted; boundary=e; protocol=\"application/pgp-encrypted\"\n\n" +
				"--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--e\nContent-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\n--e--\n",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(tt.raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, p)
			wantEqual(t, "Text", p.Text, tt.want)
			wantEqual(t, "FromHTML", p.FromHTML, tt.fromHTML)
		})
	}
}

func TestParseAttachments(t *testing.T) {
	t.Parallel()
	const hdr = "From: a@example.com\nContent-Type: multipart/mixed; boundary=m\n\n--m\n\nbody\n--m\n"
	tests := []struct {
		name string
		part string
		want []store.Attachment
	}{
		{
			name: "RFC 2231 continuation with charset",
			part: "Content-Type: application/pdf\nContent-Disposition: attachment;\n filename*0*=iso-8859-1''Gr%FC%DF;\n filename*1=e.pdf\n\nPDF\n",
			want: []store.Attachment{{Name: "Grüße.pdf", Type: "application/pdf", Size: 3}},
		},
		{
			name: "encoded word in name",
			part: "Content-Type: image/jpeg; name=\"=?UTF-8?B?0YTQvtGC0L4uanBn?=\"\nContent-Transfer-Encoding: base64\n\n/9j/4AAQ\n",
			want: []store.Attachment{{Name: "фото.jpg", Type: "image/jpeg", Size: 6}},
		},
		{
			name: "path in name dropped",
			part: "Content-Type: text/csv\nContent-Disposition: attachment; filename=\"C:\\\\Users\\\\ana\\\\q3.csv\"\n\na,b\n",
			want: []store.Attachment{{Name: "q3.csv", Type: "text/csv", Size: 3}},
		},
		{
			name: "inline image without name",
			part: "Content-Type: image/png\nContent-Disposition: inline\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n",
			want: []store.Attachment{{Name: "attachment.png", Type: "image/png", Size: 8}},
		},
		{
			name: "message/rfc822 named after its subject",
			part: "Content-Type: message/rfc822\n\nFrom: b@example.com\nSubject: =?utf-8?q?Q3_plan?=\n\nplan\n",
			want: []store.Attachment{{Name: "Q3 plan.eml", Type: "message/rfc822", Size: 54}},
		},
		{
			name: "message/rfc822 without subject",
			part: "Content-Type: message/rfc822\n\nFrom: b@example.com\n\nplan\n",
			want: []store.Attachment{{Name: "message.eml", Type: "message/rfc822", Size: 25}},
		},
		{
			name: "quoted-printable size decoded",
			part: "Content-Type: application/octet-stream; name=q.bin\nContent-Transfer-Encoding: quoted-printable\n\n=00=01=\n=02\n",
			want: []store.Attachment{{Name: "q.bin", Type: "application/octet-stream", Size: 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(hdr+tt.part+"--m--\n"), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "Attachments", p.Attachments, tt.want)
			wantEqual(t, "Text", p.Text, "body")
		})
	}
}

// TestParseLimits: hostile structure is cut at the limits, and what was
// read before is kept. (Memory is checked in TestParseLimitsMemory.)
func TestParseLimits(t *testing.T) {
	t.Parallel()
	for _, tt := range limitCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(tt.raw, tt.lim)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
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

type limitCase struct {
	name    string
	raw     []byte
	lim     Limits
	wantErr error
	check   func(t *testing.T, p *Parsed)
}

// deepMultipart nests n multipart/mixed levels, each with a text part
// "level i" before the next level.
func deepMultipart(n int) []byte {
	var sb strings.Builder
	sb.WriteString("From: a@example.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 0; i < n; i++ {
		b := "b" + strconv.Itoa(i)
		sb.WriteString("--" + b + "\r\nContent-Type: text/plain\r\n\r\nlevel " + strconv.Itoa(i) + "\r\n--" + b +
			"\r\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i+1) + "\r\n\r\n")
	}
	for i := n; i >= 0; i-- {
		sb.WriteString("--b" + strconv.Itoa(i) + "--\r\n")
	}
	return []byte(sb.String())
}

func limitCases() []limitCase {
	manyParts := func(n int) []byte {
		var sb strings.Builder
		sb.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\n\r\nfirst\r\n")
		for i := 0; i < n; i++ {
			sb.WriteString("--p\r\n\r\n\r\n")
		}
		sb.WriteString("--p--\r\n")
		return []byte(sb.String())
	}
	hugeHeader := func() []byte {
		line := "X-Junk: " + strings.Repeat("x", 990) + "\r\n"
		return []byte("From: a@example.com\r\n" + strings.Repeat(line, 20<<20/len(line)) + "\r\nbody\r\n")
	}
	deepRFC822 := func(n int) []byte {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			sb.WriteString("From: a@example.com\r\nSubject: s" + strconv.Itoa(i) + "\r\nContent-Type: message/rfc822\r\n\r\n")
		}
		sb.WriteString("From: a@example.com\r\n\r\ninnermost\r\n")
		return []byte(sb.String())
	}
	return []limitCase{
		{
			name: "5000 levels of multipart",
			raw:  deepMultipart(5000),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Truncated", p.Truncated, true)
				wantContains(t, "Problems", strings.Join(p.Problems, "|"), "truncated: MIME nesting deeper than 20")
				wantContains(t, "Text", p.Text, "level 0\n\nlevel 1\n", "level 19")
				if strings.Contains(p.Text, "level 20") {
					t.Error("text beyond the depth limit was read")
				}
			},
		},
		{
			name: "depth limit of 3",
			raw:  deepMultipart(10),
			lim:  Limits{MaxDepth: 3},
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "level 0\n\nlevel 1\n\nlevel 2")
				wantEqual(t, "Truncated", p.Truncated, true)
			},
		},
		{
			name: "within the depth limit",
			raw:  deepMultipart(5),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "level 0\n\nlevel 1\n\nlevel 2\n\nlevel 3\n\nlevel 4")
				wantEqual(t, "Truncated", p.Truncated, false)
			},
		},
		{
			name: "2000 levels of message/rfc822",
			raw:  deepRFC822(2000),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Truncated", p.Truncated, true)
				depth := 0
				for q := p; len(q.Embedded) > 0; q = q.Embedded[0] {
					depth++
				}
				wantEqual(t, "embedded depth", depth, 20)
			},
		},
		{
			name: "100000 empty parts",
			raw:  manyParts(100000),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "first")
				wantEqual(t, "Truncated", p.Truncated, true)
				wantContains(t, "Problems", strings.Join(p.Problems, "|"), "truncated: more than 500 MIME parts")
			},
		},
		{
			name: "part limit of 10",
			raw:  manyParts(100),
			lim:  Limits{MaxParts: 10},
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Truncated", p.Truncated, true)
			},
		},
		{
			name: "499 parts are fine",
			raw:  manyParts(498), // with the root and "first": 500
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Truncated", p.Truncated, false)
			},
		},
		{
			// Fields that would take quadratic time to read if dedupe,
			// atoms or encoded-word searches were naive (about 60 KB each).
			name: "hostile fields",
			raw: []byte("From: a@example.com\r\nReferences: " + strings.Repeat("<a@b> <c@d> ", 5000) +
				"\r\nIn-Reply-To: " + strings.Repeat("<"+strings.Repeat("x", 10)+"@y>", 3000) + strings.Repeat("<z@y>", 1) +
				"\r\nTo: b@example.com" + strings.Repeat(":a@b", 14000) +
				"\r\nSubject: " + strings.Repeat("=?utf-8?q?", 6000) + "\r\n\r\nbody\r\n"),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "References", p.References, []string{"a@b", "c@d"})
				wantEqual(t, "InReplyTo", p.InReplyTo, []string{"xxxxxxxxxx@y", "z@y"})
				wantEqual(t, "Text", p.Text, "body")
				if len(p.To) != 1 || !strings.HasPrefix(p.To[0].Addr, "b@example.com:a@b:") {
					t.Errorf("To: %d addresses, want one long one", len(p.To))
				}
				wantEqual(t, "Subject", p.Subject, strings.Repeat("=?utf-8?q?", 6000))
			},
		},
		{
			name:    "20 MB header",
			raw:     hugeHeader(),
			wantErr: ErrHeaderTooLarge,
		},
		{
			name:    "20 MB single header line",
			raw:     []byte("From: a@example.com\r\nSubject: " + strings.Repeat("a", 20<<20) + "\r\n\r\nbody\r\n"),
			wantErr: ErrHeaderTooLarge,
		},
		{
			name:    "header over a small limit",
			raw:     []byte("From: a@example.com\r\nSubject: " + strings.Repeat("a", 200) + "\r\n\r\nbody\r\n"),
			lim:     Limits{MaxHeaderBytes: 100},
			wantErr: ErrHeaderTooLarge,
		},
		{
			name: "20 MB part header",
			raw: []byte("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\n\r\nkept\r\n--p\r\n" +
				"X-Junk: " + strings.Repeat("x", 20<<20) + "\r\n\r\nlost\r\n--p--\r\n"),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "kept")
				wantEqual(t, "Truncated", p.Truncated, true)
				wantContains(t, "Problems", strings.Join(p.Problems, "|"), "MIME part header too large")
			},
		},
	}
}

func TestParseTruncatedAttachments(t *testing.T) {
	t.Parallel()
	// A cut part is not a reason to lose the attachments before it.
	raw := "From: a@example.com\nContent-Type: multipart/mixed; boundary=p\n\n--p\n\ntext\n" +
		"--p\nContent-Type: application/pdf; name=a.pdf\n\nPDF\n" + strings.Repeat("--p\n\n\n", 600) + "--p--\n"
	p, err := Parse([]byte(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "a.pdf", Type: "application/pdf", Size: 3}})
	wantEqual(t, "Truncated", p.Truncated, true)
}

func TestParseProblemsBounded(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	sb.WriteString("From: a@example.com\nContent-Type: multipart/mixed; boundary=p\n\n")
	for i := 0; i < 200; i++ {
		sb.WriteString("--p\nContent-Type: text/plain; charset=x-unknown-" + strconv.Itoa(i) + "\n\nx\n")
	}
	sb.WriteString("--p--\n")
	p, err := Parse([]byte(sb.String()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Problems) != maxProblems {
		t.Fatalf("%d problems, want them capped at %d", len(p.Problems), maxProblems)
	}
	if !slices.Contains(p.Problems, `unknown charset "x-unknown-0"`) {
		t.Fatalf("first problem missing: %q", p.Problems)
	}
}

// benchMessage is a realistic 4 KiB reply: a Gmail-style
// multipart/alternative (text and HTML) in a multipart/mixed with a small
// PDF, threading headers, encoded words.
func benchMessage() []byte {
	text := "Hi team,\r\n\r\nThe Q3 numbers are in: revenue is up 12% and churn is down. I attached the\r\n" +
		"summary; the full report is on the drive. Let's go through it on Thursday.\r\n\r\nCheers,\r\nAna\r\n\r\n" +
		"On Mon, Nov 30, 2026 at 9:12 AM Bo Berg <bo@example.com> wrote:\r\n> Any news on the quarter?\r\n> We need the numbers for the board pack.\r\n"
	html := "<div dir=\"ltr\"><div>Hi team,</div><div><br></div><div>The Q3 numbers are in: revenue is up 12% and churn is down. " +
		"I attached the summary; the full report is on <a href=\"https://drive.example.com/q3\">the drive</a>. Let&#39;s go through it on Thursday.</div>" +
		"<div><br></div><div>Cheers,</div><div>Ana</div></div><br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">On Mon, Nov 30, 2026 at 9:12 AM Bo Berg " +
		"&lt;<a href=\"mailto:bo@example.com\">bo@example.com</a>&gt; wrote:<br></div><blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;" +
		"border-left:1px solid rgb(204,204,204);padding-left:1ex\">Any news on the quarter?<br>We need the numbers for the board pack.</blockquote></div>\r\n"
	pdf := strings.Repeat("JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+\r\n", 20)
	return []byte("Received: from mail-ed1-f41.google.com (mail-ed1-f41.google.com [209.85.208.41])\r\n" +
		"\tby mx.example.com (Postfix) with ESMTPS id 4ABCD1234\r\n\tfor <eng@example.com>; Tue, 1 Dec 2026 09:30:12 +0100 (CET)\r\n" +
		"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=20230601; t=1764577812;\r\n" +
		"\th=to:subject:message-id:date:from:in-reply-to:references:mime-version;\r\n\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n" +
		"\tb=VGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgaXMgYXMgbG9uZyBhcyBvbmUgd291bGQgYmU=\r\n" +
		"MIME-Version: 1.0\r\nReferences: <CAF1@mail.example.com> <CAF2@mail.example.com>\r\nIn-Reply-To: <CAF2@mail.example.com>\r\n" +
		"From: =?UTF-8?Q?Ana_Mar=C3=ADa_L=C3=B3pez?= <Ana.Lopez@example.com>\r\nDate: Tue, 1 Dec 2026 09:30:01 +0100\r\n" +
		"Message-ID: <CAF3+ana@mail.example.com>\r\nSubject: =?UTF-8?Q?Re=3A_Q3_numbers_=E2=80=94_board_pack?=\r\n" +
		"To: Engineering <eng@example.com>\r\nCc: Bo Berg <bo@example.com>, \"Cy, Chen\" <cy@example.com>\r\n" +
		"Content-Type: multipart/mixed; boundary=\"000000000000mixed\"\r\n\r\n" +
		"--000000000000mixed\r\nContent-Type: multipart/alternative; boundary=\"000000000000alt\"\r\n\r\n" +
		"--000000000000alt\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\n" + text +
		"\r\n--000000000000alt\r\nContent-Type: text/html; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + html +
		"\r\n--000000000000alt--\r\n--000000000000mixed\r\nContent-Type: application/pdf; name=\"Q3 summary.pdf\"\r\n" +
		"Content-Disposition: attachment; filename=\"Q3 summary.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + pdf +
		"--000000000000mixed--\r\n")
}

func TestBenchMessage(t *testing.T) {
	t.Parallel()
	raw := benchMessage()
	if len(raw) < 3500 || len(raw) > 4700 {
		t.Fatalf("benchmark message is %d bytes, want about 4 KiB", len(raw))
	}
	p, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "Subject", p.Subject, "Re: Q3 numbers — board pack")
	wantEqual(t, "From", p.From, Address{Name: "Ana María López", Addr: "ana.lopez@example.com"})
	wantEqual(t, "Cc", p.Cc, []Address{{Name: "Bo Berg", Addr: "bo@example.com"}, {Name: "Cy, Chen", Addr: "cy@example.com"}})
	wantEqual(t, "References", p.References, []string{"CAF1@mail.example.com", "CAF2@mail.example.com"})
	wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "Q3 summary.pdf", Type: "application/pdf", Size: 1200}})
	wantContains(t, "Text", p.Text, "The Q3 numbers are in", "> Any news on the quarter?")
	wantEqual(t, "FromHTML", p.FromHTML, false)
}

func BenchmarkParse(b *testing.B) {
	raw := benchMessage()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(raw, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseHTMLOnly(b *testing.B) {
	raw := []byte(strings.Replace(string(benchMessage()), "Content-Type: text/plain; charset=\"UTF-8\"", "Content-Type: application/x-ignored", 1))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(raw, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
