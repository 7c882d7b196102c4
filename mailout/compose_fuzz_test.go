package mailout

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	message "github.com/emersion/go-message"
)

// FuzzCompose composes mail from arbitrary display text and addresses and
// reads it back with net/mail and go-message: the header must hold exactly
// the fields Compose writes, each reading back as what was put in (cleaned),
// and the text part as the text. An address may be refused, but only with
// ErrInvalid.
func FuzzCompose(f *testing.F) {
	f.Add("[tidings] 2 waiting on you · 9 updates", "Zoë", "zoe", "Eng team", "note", "Hello.\n")
	f.Add("hi\r\nBcc: victim@example.org", "a\r\nBcc: b", "zoe\r\nBcc", "x\ny", "\r\n\r\n", "a\rb")
	f.Add(strings.Repeat("ü ", 300), strings.Repeat("\"", 80), "a.b+c", "=?utf-8?q?x?=", "\x00", strings.Repeat("=", 100))
	f.Add("  \t ", "", "\"a b\"", "(comment)", "\u2028", "--=_x\n")
	f.Fuzz(func(t *testing.T, subject, name, local, listName, extra, text string) {
		m := Mail{
			From:              mail.Address{Name: name, Address: "eng@example.com"},
			To:                mail.Address{Name: name, Address: local + "@example.com"},
			ReplyTo:           &mail.Address{Name: listName, Address: "eng+d@example.com"},
			Subject:           subject,
			Date:              time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC),
			MessageID:         MessageID("digest", subject, "example.com"),
			ListID:            "eng.example.com",
			ListName:          listName,
			UnsubscribeURL:    "https://example.com/u",
			UnsubscribeMailto: "u@example.com",
			Text:              []byte(text),
			HTML:              []byte("<p>" + text),
			Extra:             map[string]string{"X-Note": extra},
		}
		raw, err := Compose(m)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			if _, aerr := addrSpec(m.To.Address); aerr == nil {
				t.Fatalf("refused with a valid address: %v", err)
			}
			return
		}
		nm, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("net/mail cannot read it: %v\n%q", err, raw)
		}
		var keys []string
		for k := range nm.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"Auto-Submitted", "Content-Type", "Date", "From", "List-Id", "List-Unsubscribe",
			"List-Unsubscribe-Post", "Message-Id", "Mime-Version", "Precedence", "Reply-To", "Subject", "To",
			"X-Auto-Response-Suppress", "X-Loop", "X-Note"}
		if !slices.Equal(keys, want) {
			t.Fatalf("header fields %q, want %q\n%q", keys, want, raw)
		}
		for k, v := range nm.Header {
			if len(v) != 1 {
				t.Fatalf("%s appears %d times", k, len(v))
			}
		}
		for _, line := range strings.Split(string(raw), "\r\n") {
			if len(line) > 998 || strings.ContainsAny(line, "\r\n") {
				t.Fatalf("bad line %q", line)
			}
		}
		head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			if strings.TrimLeft(line, " \t") == "" {
				t.Fatalf("white-space-only line in the header:\n%q", head)
			}
		}

		// An encoded-word look-alike in the text is decoded by readers: a
		// known limit (mime.QEncoding leaves ASCII text alone), so skip
		// the comparison for it.
		dec := new(mime.WordDecoder)
		if s := cleanText(subject, maxSubject); !strings.Contains(s, "=?") {
			if got, err := dec.DecodeHeader(nm.Header.Get("Subject")); err != nil || got != s {
				t.Fatalf("Subject reads back as %q %v, want %q", got, err, s)
			}
		}
		to, err := nm.Header.AddressList("To")
		if err != nil || len(to) != 1 {
			t.Fatalf("To reads back as %v %v (%q)", to, err, nm.Header.Get("To"))
		}
		if s := cleanText(name, maxName); !strings.Contains(s, "=?") && to[0].Name != s {
			t.Fatalf("To name reads back as %q, want %q", to[0].Name, s)
		}
		if to[0].Address != m.To.Address {
			t.Fatalf("To address reads back as %q, want %q", to[0].Address, m.To.Address)
		}
		if s := cleanText(extra, maxSubject); !strings.Contains(s, "=?") {
			if got, err := dec.DecodeHeader(nm.Header.Get("X-Note")); err != nil || got != s {
				t.Fatalf("X-Note reads back as %q %v, want %q", got, err, s)
			}
		}

		e, err := message.Read(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		mr := e.MultipartReader()
		if mr == nil {
			t.Fatal("not multipart")
		}
		for _, want := range [][2]string{{"text/plain", text}, {"text/html", "<p>" + text}} {
			typ, wantText := want[0], string(normalizeBody([]byte(want[1])))
			p, err := mr.NextPart()
			if err != nil {
				t.Fatalf("%s part: %v", typ, err)
			}
			if got, _, _ := p.Header.ContentType(); got != typ {
				t.Fatalf("part %q, want %q", got, typ)
			}
			b, err := io.ReadAll(p.Body)
			if err != nil || string(b) != wantText {
				t.Fatalf("%s reads back as %q %v, want %q", typ, b, err, wantText)
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Fatalf("a third part: %v", err)
		}
	})
}
