package mailin

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
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
