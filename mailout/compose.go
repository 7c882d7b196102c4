package mailout

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	message "github.com/emersion/go-message"
	"net/textproto"
)

// ErrInvalid is wrapped by the errors Compose and Queue return for a field
// they refuse: an address, Message-ID, URL or header name that cannot be
// written safely. Display text (subjects, names) is never refused: it is
// cleaned instead.
var ErrInvalid = errors.New("mailout: invalid mail")

// Mail is one message to compose. From, To, Date and MessageID are
// required; everything else may be left empty.
type Mail struct {
	From, To mail.Address
	ReplyTo  *mail.Address
	Subject  string
	// Date is written with its own offset: pass the reader's local time to
	// show it, or UTC.
	Date time.Time
	// MessageID is the addr-spec-like identifier without angle brackets;
	// see MessageID for a stable one.
	MessageID string
	// ListID is the RFC 2919 list identifier, e.g. "eng.example.com", and
	// ListName its description. List-Id and Precedence: list are written
	// only with a ListID.
	ListID   string
	ListName string
	// UnsubscribeURL (http or https) and UnsubscribeMailto (an address, or
	// a mailto: URL) make List-Unsubscribe (RFC 2369); the URL adds
	// List-Unsubscribe-Post for one-click unsubscription (RFC 8058, which
	// receivers honour only for https).
	UnsubscribeURL, UnsubscribeMailto string
	InReplyTo                         string
	References                        []string
	// Text is the plain-text body; HTML, when set, makes the mail
	// multipart/alternative with Text first. Line endings may be LF or CRLF.
	Text, HTML []byte
	// AutoSubmitted is the RFC 3834 keyword: "auto-generated" (the
	// default), "auto-replied" or "auto-notified".
	AutoSubmitted string
	// Extra adds unstructured header fields, written in key order. Keys
	// Compose writes itself, MIME fields and address fields are refused;
	// values are cleaned like a subject.
	Extra map[string]string
}

// The header fields every composed mail carries, besides those that depend
// on the Mail's fields.
const (
	// xLoop, with "@" and the domain of the mail's Message-ID, marks our
	// own mail, so that it can be recognised when it comes back, and told
	// from another instance's.
	xLoop = "tidings"
	// dateLayout is RFC 5322 § 3.3 without the optional comment.
	dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"
	// maxURL keeps "List-Unsubscribe: <url>," within the 998-octet line
	// limit of RFC 5322 § 2.1.1, so that a URL is never folded.
	maxURL = 900
	// maxSubject and maxName bound display text, in characters: an ASCII
	// word is written as it is, and must fit in a line.
	maxSubject = 400
	maxName    = 200
	// lineLen is where fold breaks lines (RFC 5322 § 2.1.1: 78 SHOULD).
	lineLen = 78
)

// reserved are the header fields Extra may not set: Compose writes them, or
// they would change where the mail goes or how its body is read.
var reserved = []string{
	"Auto-Submitted", "Bcc", "Cc", "Content-Disposition", "Content-Id", "Content-Transfer-Encoding",
	"Content-Type", "Date", "From", "In-Reply-To", "List-Id", "List-Unsubscribe",
	"List-Unsubscribe-Post", "Message-Id", "Mime-Version", "Precedence", "References",
	"Reply-To", "Resent-Bcc", "Resent-Cc", "Resent-To", "Return-Path", "Sender", "Subject", "To",
	"X-Auto-Response-Suppress", "X-Loop",
}

type field struct{ k, v string }

// LoopMarker is the X-Loop value of the mail an instance sends for domain:
// "tidings@<domain>", lower-case.
func LoopMarker(domain string) string {
	return xLoop + "@" + strings.ToLower(domain)
}

// Compose writes m as an RFC 5322 message with CRLF line endings. Its
// output depends only on m: composing the same Mail twice gives the same
// bytes.
//
// No field can add a header line: names and subjects are cleaned of control
// characters and written as RFC 2047 encoded words when they are not ASCII;
// addresses, Message-IDs, URLs and header names that are not well-formed
// are refused with an error wrapping ErrInvalid.
func Compose(m Mail) ([]byte, error) {
	fields, err := headerFields(m)
	if err != nil {
		return nil, err
	}
	text := normalizeBody(m.Text)
	if len(m.HTML) == 0 {
		enc := transferEncoding(text)
		fields = append(fields,
			field{"Content-Type", mime.FormatMediaType("text/plain", map[string]string{"charset": "utf-8"})},
			field{"Content-Transfer-Encoding", enc})
		return write(fields, nil, text)
	}
	html := normalizeBody(m.HTML)
	fields = append(fields, field{"Content-Type",
		mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": boundary(m.MessageID, text, html)})})
	return write(fields, []part{{"text/plain", text}, {"text/html", html}}, nil)
}

type part struct {
	typ  string
	body []byte
}

// write puts the header fields, in order, and the body or parts through
// go-message, which folds long fields and refuses a CR or LF in a value:
// a second line of defence behind the checks in headerFields.
func write(fields []field, parts []part, body []byte) ([]byte, error) {
	var h message.Header
	// AddRaw puts a field above those already there, so add them bottom up.
	for i := len(fields) - 1; i >= 0; i-- {
		raw, err := fold(fields[i].k, fields[i].v)
		if err != nil {
			return nil, err
		}
		h.AddRaw(raw)
	}
	var buf bytes.Buffer
	w, err := message.CreateWriter(&buf, h)
	if err != nil {
		return nil, fmt.Errorf("mailout: write header: %w", err)
	}
	if parts == nil {
		if _, err := w.Write(body); err != nil {
			return nil, fmt.Errorf("mailout: write body: %w", err)
		}
	}
	for _, p := range parts {
		var ph message.Header
		enc := transferEncoding(p.body)
		ph.Add("Content-Transfer-Encoding", enc)
		ph.Add("Content-Type", mime.FormatMediaType(p.typ, map[string]string{"charset": "utf-8"}))
		pw, err := w.CreatePart(ph)
		if err == nil {
			_, err = pw.Write(p.body)
		}
		if err == nil {
			err = pw.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("mailout: write %s part: %w", p.typ, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("mailout: write body: %w", err)
	}
	if parts == nil && !bytes.HasSuffix(buf.Bytes(), []byte("\r\n")) {
		buf.WriteString("\r\n")
	}
	return buf.Bytes(), nil
}

// fold writes a header field, breaking lines before a space where a line
// would pass lineLen. go-message's own folding leaves the whole field on
// one line when its first word does not fit beside the name, which an
// encoded word (up to 75 characters) after "Subject: " never does.
// Folding only at a space before a non-empty word keeps the unfolded value
// the same and never makes a line of white space alone.
func fold(k, v string) ([]byte, error) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return nil, fmt.Errorf("mailout: header %s: control character %q in %q", k, c, v)
		}
	}
	var b strings.Builder
	b.WriteString(k)
	b.WriteByte(':')
	n := len(k) + 1
	for i, w := range strings.Split(v, " ") {
		if i > 0 && w != "" && n+1+len(w) > lineLen {
			b.WriteString("\r\n")
			n = 0
		}
		b.WriteByte(' ')
		b.WriteString(w)
		n += 1 + len(w)
	}
	b.WriteString("\r\n")
	return []byte(b.String()), nil
}

// headerFields checks m and returns its header fields in the order they are
// written, up to MIME-Version.
func headerFields(m Mail) ([]field, error) {
	bad := func(what string, err error) ([]field, error) {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, what, err)
	}
	if m.Date.IsZero() {
		return bad("date", errors.New("missing"))
	}
	from, err := formatAddress(m.From)
	if err != nil {
		return bad("from", err)
	}
	to, err := formatAddress(m.To)
	if err != nil {
		return bad("to", err)
	}
	if err := checkMsgID(m.MessageID); err != nil {
		return bad("message-id", err)
	}
	fields := []field{
		{"Date", m.Date.Format(dateLayout)},
		{"From", from},
		{"To", to},
	}
	if m.ReplyTo != nil {
		rt, err := formatAddress(*m.ReplyTo)
		if err != nil {
			return bad("reply-to", err)
		}
		fields = append(fields, field{"Reply-To", rt})
	}
	fields = append(fields,
		field{"Subject", mime.QEncoding.Encode("utf-8", cleanText(m.Subject, maxSubject))},
		field{"Message-ID", "<" + m.MessageID + ">"})
	if m.InReplyTo != "" {
		if err := checkMsgID(m.InReplyTo); err != nil {
			return bad("in-reply-to", err)
		}
		fields = append(fields, field{"In-Reply-To", "<" + m.InReplyTo + ">"})
	}
	if len(m.References) > 0 {
		for _, id := range m.References {
			if err := checkMsgID(id); err != nil {
				return bad("references", err)
			}
		}
		fields = append(fields, field{"References", "<" + strings.Join(m.References, "> <") + ">"})
	}
	if m.ListID != "" {
		if !isDotAtom(m.ListID) {
			return bad("list-id", fmt.Errorf("%q is not a dot-atom (RFC 2919 § 2)", m.ListID))
		}
		v := "<" + m.ListID + ">"
		if p := phrase(m.ListName); p != "" {
			v = p + " " + v
		}
		fields = append(fields, field{"List-Id", v})
	}
	var unsub []string
	if m.UnsubscribeURL != "" {
		if err := checkURL(m.UnsubscribeURL, "http", "https"); err != nil {
			return bad("unsubscribe url", err)
		}
		unsub = append(unsub, "<"+m.UnsubscribeURL+">")
	}
	if m.UnsubscribeMailto != "" {
		u, err := mailtoURL(m.UnsubscribeMailto)
		if err != nil {
			return bad("unsubscribe mailto", err)
		}
		unsub = append(unsub, "<"+u+">")
	}
	if len(unsub) > 0 {
		fields = append(fields, field{"List-Unsubscribe", strings.Join(unsub, ", ")})
	}
	if m.UnsubscribeURL != "" {
		fields = append(fields, field{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"})
	}
	auto := m.AutoSubmitted
	switch auto {
	case "":
		auto = "auto-generated"
	case "auto-generated", "auto-replied", "auto-notified":
	default:
		return bad("auto-submitted", fmt.Errorf("%q is not an RFC 3834 keyword", auto))
	}
	fields = append(fields,
		field{"Auto-Submitted", auto},
		// Outlook and Exchange: no out-of-office or read receipts for this.
		field{"X-Auto-Response-Suppress", "All"})
	if m.ListID != "" {
		fields = append(fields, field{"Precedence", "list"})
	}
	fields = append(fields, field{"X-Loop", LoopMarker(m.MessageID[strings.LastIndexByte(m.MessageID, '@')+1:])})
	keys := make([]string, 0, len(m.Extra))
	for k := range m.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := checkFieldName(k); err != nil {
			return bad("extra field", err)
		}
		fields = append(fields, field{k, mime.QEncoding.Encode("utf-8", cleanText(m.Extra[k], maxSubject))})
	}
	return append(fields, field{"MIME-Version", "1.0"}), nil
}

// checkFieldName accepts a field name of RFC 5322 § 2.2 that Compose does
// not write itself.
func checkFieldName(k string) error {
	if k == "" || len(k) > 76 {
		return fmt.Errorf("field name %q: empty or too long", k)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < '!' || c > '~' || c == ':' {
			return fmt.Errorf("field name %q: character %q not allowed", k, c)
		}
	}
	ck := textproto.CanonicalMIMEHeaderKey(k)
	if slices.Contains(reserved, ck) || strings.HasPrefix(ck, "Content-") {
		return fmt.Errorf("field name %q is set by Compose or not allowed", k)
	}
	return nil
}

// checkMsgID accepts what go-message parses back as the same msg-id
// (RFC 5322 § 3.6.4), limited to printable ASCII.
func checkMsgID(id string) error {
	if id == "" {
		return errors.New("missing")
	}
	if len(id) > 250 {
		return fmt.Errorf("%d bytes is too long", len(id))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == '<' || c == '>' {
			return fmt.Errorf("%q: character %q not allowed", id, c)
		}
	}
	var h message.Header
	h.Set("Message-Id", "<"+id+">")
	got, err := parseMsgID(h)
	if err != nil || got != id {
		return fmt.Errorf("%q is not a msg-id", id)
	}
	return nil
}

// checkURL accepts an absolute URL of one of the schemes, written in
// printable ASCII without the characters that would end it inside angle
// brackets or a list (RFC 2369 § 2).
func checkURL(s string, schemes ...string) error {
	if len(s) > maxURL {
		return fmt.Errorf("%d bytes is too long", len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || strings.IndexByte(`<>",`, c) >= 0 {
			return fmt.Errorf("%q: character %q not allowed", s, c)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if !slices.Contains(schemes, strings.ToLower(u.Scheme)) {
		return fmt.Errorf("%q: scheme must be %s", s, strings.Join(schemes, " or "))
	}
	if u.Scheme != "mailto" && u.Host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

// mailtoURL makes a mailto: URL (RFC 6068) of an address, or checks one.
func mailtoURL(s string) (string, error) {
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		if err := checkURL(s, "mailto"); err != nil {
			return "", err
		}
		to, _, _ := strings.Cut(s[7:], "?")
		addr, err := url.PathUnescape(to)
		if err == nil {
			_, err = addrSpec(addr)
		}
		if err != nil {
			return "", fmt.Errorf("%q: %w", s, err)
		}
		return s, nil
	}
	addr, err := addrSpec(s)
	if err != nil {
		return "", err
	}
	u := "mailto:" + addr
	return u, checkURL(u, "mailto")
}

// normalizeBody makes b valid UTF-8, as its charset says, and ends it with a
// line break. Line endings become CRLF on the way out: the quoted-printable
// writer does that itself, and base64 gets canonical CRLF text here.
func normalizeBody(b []byte) []byte {
	b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	b = bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// transferEncoding picks the shorter encoding: quoted-printable spends three
// bytes on each non-ASCII byte, base64 four on every three bytes, so base64
// wins once more than a sixth of the bytes are not ASCII (CJK text, say).
func transferEncoding(b []byte) string {
	high := 0
	for _, c := range b {
		if c >= 0x80 {
			high++
		}
	}
	if high*6 > len(b) {
		return "base64"
	}
	return "quoted-printable"
}

// boundary derives the multipart boundary from the content, so that Compose
// is deterministic. "=_" cannot occur in quoted-printable or base64 text,
// so the boundary never collides with a body line.
func boundary(msgID string, text, html []byte) string {
	h := sha256.New()
	h.Write([]byte(msgID))
	h.Write([]byte{0})
	h.Write(text)
	h.Write([]byte{0})
	h.Write(html)
	return "=_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// MessageID returns a stable Message-ID (without angle brackets) for a mail
// of a kind ("digest", "notice", …) identified by key, e.g. a member and a
// due time: the same kind and key always give the same ID, so a mail that is
// built again after a crash is recognisably the same mail.
func MessageID(kind, key, domain string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + key))
	var b strings.Builder
	for _, r := range strings.ToLower(kind) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		b.WriteString("mail")
	}
	b.WriteByte('.')
	b.WriteString(hex.EncodeToString(sum[:12]))
	b.WriteByte('@')
	b.WriteString(asciiDomain(strings.ToLower(domain)))
	return b.String()
}
