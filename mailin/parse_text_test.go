package mailin

import (
	"testing"

	"github.com/tidings/tidings/store"
)

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
			// The library reads 0x80-0x9F as control characters, which
			// would be dropped: senders mean Windows-1252.
			name: "Latin-1 label, Windows-1252 quotes",
			raw:  hdr + "Content-Type: text/plain; charset=iso-8859-1\n\n\x93quoted\x94 \x96 caf\xe9\n",
			want: "\u201cquoted\u201d \u2013 café",
		},
		{
			name: "Latin-1 label, Latin-1 text",
			raw:  hdr + "Content-Type: text/plain; charset=\"ISO-8859-1\"\n\nna\xefve \xa3\n",
			want: "naïve £",
		},
		{
			name: "transfer encoding names go-message does not know",
			raw: hdr + "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Transfer-Encoding: Quoted Printable\n\ncaf=C3=A9\n" +
				"--m\nContent-Transfer-Encoding: base64 (text)\n\nb2s=\n--m--\n",
			want: "café\n\nok",
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
			// Counted as decodeBase64 reads it: the standard decoder stops at
			// the stray character.
			name: "base64 with a stray character and no padding",
			part: "Content-Type: application/octet-stream; name=b.bin\nContent-Transfer-Encoding: base64\n\naGVsbG8g*d29ybGQ\n",
			want: []store.Attachment{{Name: "b.bin", Type: "application/octet-stream", Size: 11}},
		},
		{
			name: "message/global in base64",
			part: "Content-Type: message/global\nContent-Transfer-Encoding: base64\n\n" +
				"RnJvbTogYkBleGFtcGxlLmNvbQpTdWJqZWN0OiBpbm5lcgoKaGkK\n",
			want: []store.Attachment{{Name: "inner.eml", Type: "message/global", Size: 39}},
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
