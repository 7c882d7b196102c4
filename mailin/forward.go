package mailin

import (
	"strings"
	"time"
	"unicode"
)

// Forward is what a forwarded mail carried: the original's author, date
// and subject, its text, and what the forwarder wrote above it.
type Forward struct {
	// From is the original author. Name may be ""; Addr is lower case and
	// may be empty when the forward names only a display name (then Name
	// is set).
	From Address
	// Date is the original's date in UTC; zero when the header block has
	// none or it cannot be read. Localised dates are read as far as
	// reasonable (see parseLooseDate); one without a zone is taken as UTC.
	Date time.Time
	// Subject is the original subject, decoded, without Fwd:/FW:/WG:/TR:/…
	// prefixes.
	Subject string
	// Note is the forwarder's own text above the forwarded block, trimmed;
	// "" when none.
	Note string
	// Text is the forwarded mail's text: its body below the header block.
	Text string
}

// DetectForward reports whether p is a forward, and what it forwarded. A
// message/rfc822 attachment (p.Embedded, already parsed) makes one from its
// header; otherwise p.Text is searched for an inline forward: a separator
// ("---------- Forwarded message ---------", "Begin forwarded message:",
// "-------- Weitergeleitete Nachricht --------", Outlook's "From: … Sent:
// …" block, …) and the header block below it, as the clients write them,
// in many languages, quoted with "> " or not.
//
// Outlook writes the same "From:/Sent:" block (and "-----Original
// Message-----") above the mail answered in a reply; such a block is only
// a forward when the subject says forward (Fwd:, FW:, WG:, TR:, RV:, …) or
// when nothing but a short note stands above it in a mail that is neither
// a reply by its subject nor answers a message (In-Reply-To). Bounces and
// other automatic mail (p.Auto set) are never forwards.
//
// DetectForward only reads p. It does not block.
func DetectForward(p *Parsed) (Forward, bool) {
	if p == nil || p.Auto != "" {
		// A bounce carries the mail it returns, an out-of-office the mail
		// it answers: neither was forwarded by a person.
		return Forward{}, false
	}
	if len(p.Embedded) > 0 && p.Embedded[0] != nil {
		// The attachment wins over any inline text. With several attached
		// messages the first is taken as the original: clients attach the
		// forwarded mail first, and a thread takes one original.
		e := p.Embedded[0]
		f := Forward{
			From:    e.From,
			Date:    e.Date,
			Subject: forwardSubject(e.Subject),
			Text:    trimText(e.Text),
			Note:    trimText(p.Text),
		}
		if f.Subject == "" {
			f.Subject = forwardSubject(p.Subject)
		}
		if in, ok := detectInline(p); ok {
			// Some clients also write the forwarded mail inline: the note is
			// only what stands above it.
			f.Note = in.Note
		}
		return f, true
	}
	return detectInline(p)
}

// forwardSubject is the original subject of a forward: s with any leading
// forward markers ("Fwd:", "[ext] FW:", "Redir.:") and a trailing "(fwd)"
// removed. Reply markers stay: "Re: x" is what the original was called.
func forwardSubject(s string) string {
	s = strings.Join(strings.Fields(cleanLine(strings.ToValidUTF8(s, "\ufffd"))), " ")
	for {
		t := s
		if strings.HasPrefix(t, "[") {
			// A tag the forwarder's system put before the marker goes with it.
			if i := strings.IndexByte(t, ']'); i > 0 {
				if rest, ok := cutFwdPrefix(strings.TrimSpace(t[i+1:])); ok {
					s = strings.TrimSpace(rest)
					continue
				}
			}
		}
		rest, ok := cutFwdPrefix(t)
		if !ok {
			break
		}
		s = strings.TrimSpace(rest)
	}
	for {
		l := strings.ToLower(s)
		if !strings.HasSuffix(l, "(fwd)") {
			break
		}
		s = strings.TrimSpace(s[:len(s)-len("(fwd)")])
	}
	return s
}

// cutFwdPrefix removes one forward marker ("Fwd:", "FW[2]:", "Redir.:",
// "转发：") from the start of s.
func cutFwdPrefix(s string) (string, bool) {
	word, rest, ok := subjectPrefix(s)
	if !ok || !fwdPrefixes[word] {
		return s, false
	}
	return rest, true
}

// subjectPrefix splits a "word:" marker off s: word lower case, without a
// count ("[2]", "^3", "(2)") or a closing dot ("Redir."), and the rest.
func subjectPrefix(s string) (word, rest string, ok bool) {
	i := colonWithin(s, 24)
	if i <= 0 || i > 16 {
		return "", s, false
	}
	word = s[:i]
	if j := strings.IndexAny(word, "[^("); j > 0 {
		count := strings.Trim(word[j:], "[]^() ")
		for _, r := range count {
			if r < '0' || r > '9' {
				return "", s, false
			}
		}
		word = word[:j]
	}
	word = strings.TrimSuffix(strings.TrimSpace(word), ".")
	if word == "" || strings.ContainsAny(word, " \t") {
		return "", s, false
	}
	word = strings.ReplaceAll(strings.ToLower(word), "\u0307", "") // "İLT" lower-cases with a dot
	rest = s[i:]
	if strings.HasPrefix(rest, "：") {
		rest = rest[len("："):]
	} else {
		rest = rest[1:]
	}
	return word, rest, true
}

// subjectSays reports whether a subject's first marker says forward or
// reply: "Fwd: Re: x" is a forward, "Re: Fwd: x" a reply to one.
func subjectSays(s string) (fwd, reply bool) {
	s = strings.TrimSpace(cleanLine(s))
	for strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			break
		}
		s = strings.TrimSpace(s[i+1:])
	}
	if word, _, ok := subjectPrefix(s); ok {
		switch {
		case fwdPrefixes[word]:
			return true, false
		case replyPrefix(word):
			return false, true
		}
	}
	if strings.HasSuffix(strings.ToLower(s), "(fwd)") {
		return true, false
	}
	return false, false
}

// trimText trims white space (and byte-order marks) around s.
func trimText(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' })
}
