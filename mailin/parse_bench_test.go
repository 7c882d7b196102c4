package mailin

import (
	"strings"
	"testing"

	"github.com/tidings/tidings/store"
)

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

// BenchmarkRead is what the pipeline does with a parsed message besides
// parsing it: the new text, quote and signature apart, forward and
// reaction recognised.
func BenchmarkRead(b *testing.B) {
	p, err := Parse(benchMessage(), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	if rd := Read(p, true, nil); rd.Text == p.Text || rd.Quoted == "" {
		b.Fatalf("the bench message reads as %+v: its quote should come apart", rd)
	}
	b.ReportAllocs()
	for b.Loop() {
		Read(p, true, nil)
	}
}
