package mailout

import (
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	message "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"golang.org/x/net/idna"
)

// cleanText makes s fit to be a header's display text: invalid UTF-8
// replaced, bidirectional controls dropped (they can make a name read as
// another address), control characters and line separators turned into
// spaces, runs of white space collapsed and the ends trimmed. Subjects and
// names come from received mail, where RFC 2047 words may decode to CR, LF
// or NUL: this is where those stop. Text longer than max characters is cut
// with an ellipsis, so that no word of it makes a line too long.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space, n := false, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Bidi_Control, r):
			continue
		case unicode.IsControl(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			space = true
			continue
		}
		sep := space && b.Len() > 0
		if n+1 > max || sep && n+2 > max {
			b.WriteRune('…')
			break
		}
		if sep {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// formatAddress writes a as a mailbox: the display name cleaned, quoted or
// RFC 2047-encoded by net/mail, and the address checked.
func formatAddress(a mail.Address) (string, error) {
	spec, err := addrSpec(a.Address)
	if err != nil {
		return "", err
	}
	return mailbox(cleanText(a.Name, maxName), spec), nil
}

// mailbox writes name <spec>. net/mail quotes or encodes the name, but its
// Q-encoding leaves a backslash as it is, which its own parser, like others,
// then refuses; such a name falls back to B-encoding, made only of safe
// characters. The result always parses back to name and spec.
func mailbox(name, spec string) string {
	a := mail.Address{Name: name, Address: spec}
	s := a.String()
	if p, err := mail.ParseAddress(s); err == nil && *p == a {
		return s
	}
	return mime.BEncoding.Encode("utf-8", name) + " " + (&mail.Address{Address: spec}).String()
}

// addrSpec accepts a bare addr-spec that net/mail parses back to itself,
// and writes its domain in A-labels (RFC 5890) so that the header stays
// ASCII there. A UTF-8 local part is kept as it is (RFC 6532): it has no
// ASCII form.
func addrSpec(s string) (string, error) {
	if s == "" {
		return "", errors.New("no address")
	}
	p, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", s, err)
	}
	if p.Name != "" || p.Address != s {
		return "", fmt.Errorf("address %q: not a bare addr-spec", s)
	}
	at := strings.LastIndexByte(s, '@')
	domain := asciiDomain(s[at+1:])
	if domain == "" {
		return "", fmt.Errorf("address %q: bad domain", s)
	}
	return s[:at+1] + domain, nil
}

// asciiDomain returns d with its labels in A-labels, or "" when d is not a
// domain name that has an ASCII form.
func asciiDomain(d string) string {
	if isASCII(d) {
		if !isDotAtom(d) {
			return ""
		}
		return d
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil || !isDotAtom(a) {
		return ""
	}
	return a
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isDotAtom reports whether s is an ASCII dot-atom-text (RFC 5322 § 3.2.3):
// what List-Id's identifier and a plain domain are made of.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if c <= ' ' || c > '~' || strings.IndexByte(`()<>[]:;@\,"`, c) >= 0 {
			return false
		}
	}
	return true
}

// phrase writes s as an RFC 5322 phrase, as List-Id's description is
// (RFC 2919 § 3). A display name has the same syntax, and net/mail knows
// how to quote or encode one, so it formats it.
func phrase(s string) string {
	s = cleanText(s, maxName)
	if s == "" {
		return ""
	}
	const stub = " <x@x>"
	return strings.TrimSuffix(mailbox(s, "x@x"), stub)
}

// parseMsgID parses h's Message-ID as go-message reads it.
func parseMsgID(h message.Header) (string, error) {
	mh := gomail.Header{Header: h}
	return mh.MessageID()
}
