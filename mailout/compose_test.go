package mailout_test

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
	gomail "github.com/emersion/go-message/mail"

	"github.com/tidings/tidings/mailout"
)

// digestMail is a realistic digest with non-ASCII everywhere it may be.
func digestMail(t *testing.T) mailout.Mail {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return mailout.Mail{
		From:              mail.Address{Name: "Eng (tidings)", Address: "eng@example.com"},
		To:                mail.Address{Name: "Zoë Ångström", Address: "zoe@example.com"},
		ReplyTo:           &mail.Address{Name: "Eng digest", Address: "eng+dabcdefghij@example.com"},
		Subject:           "[tidings] 2 waiting on you · 9 updates · Mon 30 Nov",
		Date:              time.Date(2026, 11, 30, 9, 0, 0, 0, berlin),
		MessageID:         mailout.MessageID("digest", "zoe@example.com|2026-11-30T08:00:00Z", "example.com"),
		ListID:            "eng.example.com",
		ListName:          "Eng team",
		UnsubscribeURL:    "https://tidings.example.com/unsubscribe?m=zoe%40example.com&s=0f3a",
		UnsubscribeMailto: "eng+unsubscribe@example.com",
		InReplyTo:         "a1@example.com",
		References:        []string{"a0@example.com", "a1@example.com"},
		Text:              []byte("Good morning, Zoë.\n\nWaiting on you\n  Café budget = 3 € (2 days)\n"),
		HTML:              []byte("<!doctype html>\n<p>Good morning, Zoë.</p>\n<p>Café budget = 3 €</p>\n"),
	}
}

// crlf is how a body reads back: CRLF line endings, ending in one.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// checkWire checks the bytes as a receiving MTA sees them: CRLF only, no
// line over 998 octets (RFC 5322 § 2.1.1), header lines folded near 78 and
// every continuation line carrying something besides white space. It
// returns the header's field names in order.
func checkWire(t *testing.T, raw []byte) []string {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) ||
		bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\r")) {
		t.Errorf("bare CR or LF in\n%s", raw)
	}
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("does not end with CRLF")
	}
	head, _, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no end of header in\n%s", raw)
	}
	var names []string
	for i, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 998 {
			t.Errorf("header line %d is %d octets", i, len(line))
		}
		if strings.IndexFunc(line, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) >= 0 {
			t.Errorf("control character in header line %q", line)
		}
		if line[0] == ' ' || line[0] == '\t' {
			if strings.TrimLeft(line, " \t") == "" {
				t.Errorf("white-space-only header line %d", i)
			}
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			t.Errorf("header line %q is neither a field nor a continuation", line)
		}
		names = append(names, name)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("body line of %d octets", len(line))
		}
	}
	return names
}

type part struct {
	typ, charset, enc, body string
}

// parse reads raw back with go-message and returns its header and parts.
func parse(t *testing.T, raw []byte) (gomail.Header, []part) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("go-message cannot read the mail: %v\n%s", err, raw)
	}
	h := gomail.Header{Header: e.Header}
	var parts []part
	read := func(e *message.Entity) {
		typ, params, err := e.Header.ContentType()
		if err != nil {
			t.Errorf("content type: %v", err)
		}
		b, err := io.ReadAll(e.Body)
		if err != nil {
			t.Errorf("read %s: %v", typ, err)
		}
		parts = append(parts, part{typ, params["charset"], e.Header.Get("Content-Transfer-Encoding"), string(b)})
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("next part: %v", err)
			}
			read(p)
		}
	} else {
		read(e)
	}
	return h, parts
}

func TestComposeDigest(t *testing.T) {
	t.Parallel()
	m := digestMail(t)
	raw, err := mailout.Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	names := checkWire(t, raw)
	want := []string{"Date", "From", "To", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References",
		"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted", "X-Auto-Response-Suppress",
		"Precedence", "X-Loop", "MIME-Version", "Content-Type"}
	if !slices.Equal(names, want) {
		t.Errorf("header fields\n got %q\nwant %q", names, want)
	}

	h, parts := parse(t, raw)
	addr := func(key string) *mail.Address {
		t.Helper()
		l, err := h.AddressList(key)
		if err != nil || len(l) != 1 {
			t.Fatalf("%s: %v %v", key, l, err)
		}
		return l[0]
	}
	for _, c := range []struct {
		key        string
		got, wantA mail.Address
	}{
		{"From", *addr("From"), m.From},
		{"To", *addr("To"), m.To},
		{"Reply-To", *addr("Reply-To"), *m.ReplyTo},
	} {
		if c.got != c.wantA {
			t.Errorf("%s = %+v, want %+v", c.key, c.got, c.wantA)
		}
	}
	if subj, err := h.Subject(); err != nil || subj != m.Subject {
		t.Errorf("Subject = %q %v, want %q", subj, err, m.Subject)
	}
	if !strings.HasPrefix(h.Get("Subject"), "=?utf-8?q?") {
		t.Errorf("non-ASCII subject not RFC 2047-encoded: %q", h.Get("Subject"))
	}
	if d, err := h.Date(); err != nil || !d.Equal(m.Date) {
		t.Errorf("Date = %v %v, want %v", d, err, m.Date)
	}
	if got := h.Get("Date"); got != "Mon, 30 Nov 2026 09:00:00 +0100" {
		t.Errorf("Date = %q: not the reader's local time", got)
	}
	if id, err := h.MessageID(); err != nil || id != m.MessageID {
		t.Errorf("Message-ID = %q %v, want %q", id, err, m.MessageID)
	}
	if ids, err := h.MsgIDList("In-Reply-To"); err != nil || !slices.Equal(ids, []string{m.InReplyTo}) {
		t.Errorf("In-Reply-To = %q %v", ids, err)
	}
	if ids, err := h.MsgIDList("References"); err != nil || !slices.Equal(ids, m.References) {
		t.Errorf("References = %q %v", ids, err)
	}
	for key, want := range map[string]string{
		"List-Id":                  `"Eng team" <eng.example.com>`,
		"List-Unsubscribe":         "<" + m.UnsubscribeURL + ">, <mailto:eng+unsubscribe@example.com>",
		"List-Unsubscribe-Post":    "List-Unsubscribe=One-Click",
		"Auto-Submitted":           "auto-generated",
		"X-Auto-Response-Suppress": "All",
		"Precedence":               "list",
		"X-Loop":                   "tidings@example.com",
		"Mime-Version":             "1.0",
	} {
		if got := h.Get(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	typ, params, err := h.ContentType()
	if err != nil || typ != "multipart/alternative" || !strings.HasPrefix(params["boundary"], "=_") {
		t.Errorf("Content-Type = %q %v %v", typ, params, err)
	}
	wantParts := []part{
		{"text/plain", "utf-8", "quoted-printable", crlf(string(m.Text))},
		{"text/html", "utf-8", "quoted-printable", crlf(string(m.HTML))},
	}
	if !slices.Equal(parts, wantParts) {
		t.Errorf("parts\n got %q\nwant %q", parts, wantParts)
	}

	// The standard library reads the same header.
	nm, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if subj, err := new(mime.WordDecoder).DecodeHeader(nm.Header.Get("Subject")); err != nil || subj != m.Subject {
		t.Errorf("net/mail Subject = %q %v", subj, err)
	}
	if to, err := nm.Header.AddressList("To"); err != nil || len(to) != 1 || *to[0] != m.To {
		t.Errorf("net/mail To = %v %v", to, err)
	}
}

func TestComposeIsDeterministic(t *testing.T) {
	t.Parallel()
	m := digestMail(t)
	a, err := mailout.Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := mailout.Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the same Mail composed twice differs: a retry would not send the same bytes")
	}
	m.HTML = append(m.HTML, "<p>more</p>"...)
	c, _ := mailout.Compose(m)
	if bytes.Equal(a, c) {
		t.Error("different content, same bytes")
	}
}

func TestComposeBodies(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 400) + strings.Repeat("x", 3000)
	for _, c := range []struct {
		name, text, html string
		want             string // the text part as it reads back
		wantTypes        []string
		wantEnc          string
	}{
		{"text only", "Hello.\nSecond line\n", "", "Hello.\r\nSecond line\r\n", []string{"text/plain"}, "quoted-printable"},
		{"no final newline", "Hello.", "", "Hello.\r\n", []string{"text/plain"}, "quoted-printable"},
		{"CRLF and bare CR", "a\r\nb\rc\n", "", "a\r\nb\r\nc\r\n", []string{"text/plain"}, "quoted-printable"},
		{"long lines", long, "<p>" + long + "</p>", long + "\r\n", []string{"text/plain", "text/html"}, "quoted-printable"},
		{"mostly Japanese", "おはようございます。今日のまとめです。\n", "<p>おはようございます。</p>",
			"おはようございます。今日のまとめです。\r\n", []string{"text/plain", "text/html"}, "base64"},
		{"invalid UTF-8", "caf\xe9 au lait, and some more plain text\n", "",
			"caf\uFFFD au lait, and some more plain text\r\n", []string{"text/plain"}, "quoted-printable"},
		{"boundary-like line", "--=_0000\n--=_0000--\n", "<p>x</p>", "--=_0000\r\n--=_0000--\r\n",
			[]string{"text/plain", "text/html"}, "quoted-printable"},
		{"empty text", "", "", "", []string{"text/plain"}, "quoted-printable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := digestMail(t)
			m.Text, m.HTML = []byte(c.text), []byte(c.html)
			raw, err := mailout.Compose(m)
			if err != nil {
				t.Fatal(err)
			}
			checkWire(t, raw)
			_, parts := parse(t, raw)
			var types []string
			for _, p := range parts {
				types = append(types, p.typ)
				if p.charset != "utf-8" || p.enc != c.wantEnc {
					t.Errorf("%s: charset %q, encoding %q, want utf-8, %s", p.typ, p.charset, p.enc, c.wantEnc)
				}
			}
			if !slices.Equal(types, c.wantTypes) {
				t.Fatalf("parts %q, want %q", types, c.wantTypes)
			}
			if parts[0].body != c.want {
				t.Errorf("text reads back as %q, want %q", parts[0].body, c.want)
			}
			if c.html != "" && parts[1].body != crlf(c.html) {
				t.Errorf("html reads back as %q", parts[1].body)
			}
		})
	}
}

func TestComposeTextOnlyHeader(t *testing.T) {
	t.Parallel()
	m := digestMail(t)
	m.HTML = nil
	m.ListID, m.UnsubscribeURL, m.UnsubscribeMailto, m.ReplyTo, m.InReplyTo, m.References = "", "", "", nil, "", nil
	m.AutoSubmitted = "auto-replied"
	m.Extra = map[string]string{"X-Tidings-Kind": "notice", "Importance": "low"}
	raw, err := mailout.Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	names := checkWire(t, raw)
	want := []string{"Date", "From", "To", "Subject", "Message-ID", "Auto-Submitted", "X-Auto-Response-Suppress",
		"X-Loop", "Importance", "X-Tidings-Kind", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"}
	if !slices.Equal(names, want) {
		t.Errorf("header fields\n got %q\nwant %q\n(no List-Id: no Precedence; no URL: no List-Unsubscribe-Post)", names, want)
	}
	h, _ := parse(t, raw)
	if h.Get("Auto-Submitted") != "auto-replied" || h.Get("X-Tidings-Kind") != "notice" {
		t.Errorf("Auto-Submitted %q, X-Tidings-Kind %q", h.Get("Auto-Submitted"), h.Get("X-Tidings-Kind"))
	}
}

func TestComposeUnsubscribeAlone(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, url, mailto, want string
		post                    bool
	}{
		{"url", "http://127.0.0.1:8080/u?t=1", "", "<http://127.0.0.1:8080/u?t=1>", true},
		{"mailto address", "", "eng+u@example.com", "<mailto:eng+u@example.com>", false},
		{"mailto url", "", "mailto:eng+u@example.com?subject=unsubscribe", "<mailto:eng+u@example.com?subject=unsubscribe>", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := digestMail(t)
			m.UnsubscribeURL, m.UnsubscribeMailto = c.url, c.mailto
			raw, err := mailout.Compose(m)
			if err != nil {
				t.Fatal(err)
			}
			h, _ := parse(t, raw)
			if got := h.Get("List-Unsubscribe"); got != c.want {
				t.Errorf("List-Unsubscribe = %q, want %q", got, c.want)
			}
			if got := h.Has("List-Unsubscribe-Post"); got != c.post {
				t.Errorf("List-Unsubscribe-Post present %v, want %v (RFC 8058: only with a URL)", got, c.post)
			}
		})
	}
}

func TestComposeNonASCIIAddresses(t *testing.T) {
	t.Parallel()
	m := digestMail(t)
	m.To = mail.Address{Name: "Jürgen Groß", Address: "juergen@bücher.example"}
	m.From = mail.Address{Name: "Ünïcødé, \"quoted\" (team)", Address: "eng@example.com"}
	raw, err := mailout.Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	checkWire(t, raw)
	h, _ := parse(t, raw)
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 {
		t.Fatalf("To: %v %v", to, err)
	}
	if *to[0] != (mail.Address{Name: "Jürgen Groß", Address: "juergen@xn--bcher-kva.example"}) {
		t.Errorf("To = %+v: the domain should be in A-labels", to[0])
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || *from[0] != m.From {
		t.Errorf("From = %v %v, want %+v", from, err, m.From)
	}
	if raw := h.Get("From"); !strings.HasPrefix(raw, "=?utf-8?") {
		t.Errorf("From = %q: a non-ASCII name must be an encoded word", raw)
	}

	// Names that net/mail alone would write in a form it cannot read back.
	for _, name := range []string{"Zoë \\ Backslash", "\\ü", "Ünï\\\"cødé\"", "ü\\" + strings.Repeat("ß", 150)} {
		m.To.Name = name
		raw, err := mailout.Compose(m)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := parse(t, raw)
		to, err := h.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Name != name {
			t.Errorf("To name %q reads back as %v %v (%q)", name, to, err, h.Get("To"))
		}
	}
}

// TestComposeHostileInput feeds header-injection attempts through every
// field that takes display text. Each must come out as one field with the
// attack as (cleaned) text inside it, never as a field of its own.
func TestComposeHostileInput(t *testing.T) {
	t.Parallel()
	attacks := []string{
		"hi\r\nBcc: victim@example.org",
		"hi\nBcc: victim@example.org",
		"hi\rBcc: victim@example.org",
		"hi\r\n\r\n<html>body injection",
		"hi\x00Bcc: victim@example.org",
		"hi\u2028Bcc: victim@example.org",
		"hi\u0085Bcc: victim@example.org",
		"hi\r\n Bcc: continuation",
		"\r\n",
		"hi\u202eelpmaxe.lim\u202c",
		"Grüße\r\nBcc: victim@example.org",
		"\"quoted\\\" name\r\nBcc: x\" <evil@example.org>",
		strings.Repeat("\r\n", 100) + strings.Repeat("ü", 500),
		strings.Repeat("x", 3000) + "\r\nBcc: victim@example.org",
	}
	wantNames := []string{"Date", "From", "To", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References",
		"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted", "X-Auto-Response-Suppress",
		"Precedence", "X-Loop", "X-Note", "MIME-Version", "Content-Type"}
	for i, a := range attacks {
		m := digestMail(t)
		m.Subject = a
		m.From.Name, m.To.Name, m.ReplyTo.Name = a, a, a
		m.ListName = a
		m.Extra = map[string]string{"X-Note": a}
		raw, err := mailout.Compose(m)
		if err != nil {
			t.Errorf("attack %d (%q): %v: display text is cleaned, never refused", i, a, err)
			continue
		}
		if names := checkWire(t, raw); !slices.Equal(names, wantNames) {
			t.Errorf("attack %d (%q): header fields\n got %q\nwant %q", i, a, names, wantNames)
		}
		h, _ := parse(t, raw)
		subj, err := h.Subject()
		if err != nil || strings.ContainsAny(subj, "\r\n\x00\u2028\u0085\u202e") {
			t.Errorf("attack %d: subject reads back as %q %v", i, subj, err)
		}
		to, err := h.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != m.To.Address || strings.ContainsAny(to[0].Name, "\r\n\x00") {
			t.Errorf("attack %d: To reads back as %v %v", i, to, err)
		}
		if !strings.HasSuffix(h.Get("List-Id"), "<eng.example.com>") {
			t.Errorf("attack %d: List-Id = %q", i, h.Get("List-Id"))
		}
	}
}

func TestComposeRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		change func(*mailout.Mail)
	}{
		{"no date", func(m *mailout.Mail) { m.Date = time.Time{} }},
		{"no from", func(m *mailout.Mail) { m.From.Address = "" }},
		{"from with CRLF", func(m *mailout.Mail) { m.From.Address = "eng@example.com\r\nBcc: victim@example.org" }},
		{"from with a name inside", func(m *mailout.Mail) { m.From.Address = "Eng <eng@example.com>" }},
		{"to not an address", func(m *mailout.Mail) { m.To.Address = "zoe" }},
		{"to with LF in the domain", func(m *mailout.Mail) { m.To.Address = "zoe@example.com\nBcc:x@y" }},
		// net/mail would quote "zoe@example.com" as the local part: mail to evil.example.
		{"to with two @", func(m *mailout.Mail) { m.To.Address = "zoe@example.com@evil.example" }},
		{"to with NUL", func(m *mailout.Mail) { m.To.Address = "zoe\x00@example.com" }},
		{"to with a list", func(m *mailout.Mail) { m.To.Address = "zoe@example.com, victim@example.org" }},
		{"to quoted local part with CRLF", func(m *mailout.Mail) { m.To.Address = "\"zoe\r\nBcc: x\"@example.com" }},
		{"reply-to bad", func(m *mailout.Mail) { m.ReplyTo.Address = "eng+d@@example.com" }},
		{"no message-id", func(m *mailout.Mail) { m.MessageID = "" }},
		{"message-id with brackets", func(m *mailout.Mail) { m.MessageID = "<a@b>" }},
		{"message-id with CRLF", func(m *mailout.Mail) { m.MessageID = "a@b\r\nBcc: x@y" }},
		{"message-id with space", func(m *mailout.Mail) { m.MessageID = "a b@c" }},
		{"message-id without @", func(m *mailout.Mail) { m.MessageID = "abc" }},
		{"message-id non-ASCII", func(m *mailout.Mail) { m.MessageID = "ä@b" }},
		{"in-reply-to bad", func(m *mailout.Mail) { m.InReplyTo = "x>\r\nBcc: y" }},
		{"references bad", func(m *mailout.Mail) { m.References = []string{"a@b", "c d"} }},
		{"list-id with space", func(m *mailout.Mail) { m.ListID = "eng example.com" }},
		{"list-id with CRLF", func(m *mailout.Mail) { m.ListID = "eng.example.com>\r\nBcc: x" }},
		{"list-id with bracket", func(m *mailout.Mail) { m.ListID = "eng>.example.com" }},
		{"unsubscribe javascript", func(m *mailout.Mail) { m.UnsubscribeURL = "javascript:alert(1)" }},
		{"unsubscribe ftp", func(m *mailout.Mail) { m.UnsubscribeURL = "ftp://example.com/u" }},
		{"unsubscribe CRLF", func(m *mailout.Mail) { m.UnsubscribeURL = "https://example.com/u\r\nBcc: x@y" }},
		{"unsubscribe angle", func(m *mailout.Mail) { m.UnsubscribeURL = "https://example.com/u>, <mailto:x@y" }},
		{"unsubscribe space", func(m *mailout.Mail) { m.UnsubscribeURL = "https://example.com/a b" }},
		{"unsubscribe no host", func(m *mailout.Mail) { m.UnsubscribeURL = "https:///u" }},
		{"unsubscribe too long", func(m *mailout.Mail) { m.UnsubscribeURL = "https://example.com/" + strings.Repeat("a", 1000) }},
		{"mailto CRLF", func(m *mailout.Mail) { m.UnsubscribeMailto = "u@example.com\r\nBcc: x@y" }},
		{"mailto url bad address", func(m *mailout.Mail) { m.UnsubscribeMailto = "mailto:nobody" }},
		{"mailto url encoded CRLF", func(m *mailout.Mail) { m.UnsubscribeMailto = "mailto:u%0D%0A@example.com" }},
		{"auto-submitted unknown", func(m *mailout.Mail) { m.AutoSubmitted = "no" }},
		{"auto-submitted CRLF", func(m *mailout.Mail) { m.AutoSubmitted = "auto-generated\r\nBcc: x@y" }},
		{"extra Bcc", func(m *mailout.Mail) { m.Extra = map[string]string{"bcc": "victim@example.org"} }},
		{"extra Subject", func(m *mailout.Mail) { m.Extra = map[string]string{"Subject": "two"} }},
		{"extra Content-Type", func(m *mailout.Mail) { m.Extra = map[string]string{"content-type": "text/html"} }},
		{"extra Content-Whatever", func(m *mailout.Mail) { m.Extra = map[string]string{"Content-Base": "x"} }},
		{"extra name with colon", func(m *mailout.Mail) { m.Extra = map[string]string{"X-A: b\r\nBcc": "x"} }},
		{"extra name with space", func(m *mailout.Mail) { m.Extra = map[string]string{"X A": "x"} }},
		{"extra empty name", func(m *mailout.Mail) { m.Extra = map[string]string{"": "x"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := digestMail(t)
			c.change(&m)
			raw, err := mailout.Compose(m)
			if !errors.Is(err, mailout.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid; composed\n%s", err, raw)
			}
		})
	}
}

func TestMessageID(t *testing.T) {
	t.Parallel()
	a := mailout.MessageID("digest", "zoe@example.com|2026-11-30T08:00:00Z", "Example.COM")
	if a != mailout.MessageID("digest", "zoe@example.com|2026-11-30T08:00:00Z", "example.com") {
		t.Error("the same kind and key give different IDs")
	}
	if !strings.HasPrefix(a, "digest.") || !strings.HasSuffix(a, "@example.com") || len(a) != len("digest.")+24+len("@example.com") {
		t.Errorf("MessageID = %q", a)
	}
	for _, other := range []string{
		mailout.MessageID("digest", "zoe@example.com|2026-12-01T08:00:00Z", "example.com"),
		mailout.MessageID("notice", "zoe@example.com|2026-11-30T08:00:00Z", "example.com"),
		mailout.MessageID("digest", "ana@example.com|2026-11-30T08:00:00Z", "example.com"),
	} {
		if other == a {
			t.Errorf("different kind or key, same ID %q", a)
		}
	}
	for _, c := range []struct{ kind, domain string }{
		{"digest", "example.com"}, {"Weird Kind!\r\n", "localhost"}, {"", "bücher.example"},
	} {
		m := digestMail(t)
		m.MessageID = mailout.MessageID(c.kind, "key", c.domain)
		if _, err := mailout.Compose(m); err != nil {
			t.Errorf("MessageID(%q, key, %q) = %q: Compose refuses it: %v", c.kind, c.domain, m.MessageID, err)
		}
	}
}
