package mailin

import (
	netmail "net/mail"
	"strings"
)

// addressParser reads address lists with net/mail, decoding encoded words
// in display names with wordDecoder. It is only ever read.
var addressParser = netmail.AddressParser{WordDecoder: &wordDecoder}

// parseAddressList reads an address list field (From, To, Cc; RFC 5322
// §3.4) with net/mail; groups are flattened and addresses lower-cased.
// hint is the charset for raw 8-bit bytes (see toUTF8Hint).
func parseAddressList(v, hint string) []Address {
	s := toUTF8Hint(v, hint)
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if strings.Contains(s, "=?") && strings.IndexByte(s, '"') >= 0 {
		// Fallback: net/mail leaves encoded words inside quotes alone (RFC
		// 2047 §5 forbids them there), and many clients put them there.
		return lenientAddressList(s)
	}
	list, err := addressParser.ParseList(s)
	if err != nil {
		return lenientAddressList(s)
	}
	out := make([]Address, 0, len(list))
	for _, a := range list {
		if addr := cleanAddr(a.Address); addr != "" {
			out = append(out, Address{Name: cleanName(a.Name), Addr: addr})
		}
	}
	return out
}

// lenientAddressList is the fallback for lists net/mail refuses whole, as
// real mail writes them (the obsolete forms of RFC 5322 §4.4, and worse):
// comments give a name when there is no phrase, addresses without
// brackets or commas between them are split, bare local names are kept,
// and display names are decoded after the structure is known, so an
// encoded word that decodes to "<" or "," cannot change it.
func lenientAddressList(s string) []Address {
	var out []Address
	var seg addrSegment
	segStart := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '"':
			text, n := readQuoted(s[i:])
			seg.words = append(seg.words, addrWord{text: text, quoted: true})
			seg.breakWord()
			i += n
		case '(':
			text, n := readComment(s[i:])
			if t := strings.TrimSpace(text); t != "" {
				seg.comments = append(seg.comments, t)
			}
			seg.breakWord()
			i += n
		case '<':
			seg.breakWord()
			end := strings.IndexByte(s[i+1:], '>')
			var inner string
			if end < 0 {
				inner, i = s[i+1:], len(s)
			} else {
				inner, i = s[i+1:i+1+end], i+1+end+1
			}
			seg.angle, seg.hasAngle = inner, true
		case ',', ';':
			out = seg.emit(out, s[segStart:i])
			seg = addrSegment{}
			i++
			segStart = i
		case ':':
			if !seg.hasAngle && !seg.at {
				// A group's display name: its members follow.
				seg = addrSegment{}
				i++
				segStart = i
				continue
			}
			seg.appendText(s, i, i+1)
			i++
		case ' ', '\t', '\r', '\n':
			seg.breakWord()
			i++
		default:
			if strings.HasPrefix(s[i:], "=?") {
				// An encoded word is one atom, whatever it holds: senders
				// leave ",", ":" and "<" unencoded in them.
				if n, _, ok := wordLen(s[i:]); ok {
					seg.appendText(s, i, i+n)
					i += n
					continue
				}
			}
			j := i + 1
			for j < len(s) && !strings.ContainsRune("\"(<,;: \t\r\n", rune(s[j])) {
				j++
			}
			seg.appendText(s, i, j)
			i = j
		}
	}
	return seg.emit(out, s[segStart:])
}

type addrWord struct {
	text   string
	quoted bool
	start  int // offset of an atom in the field, for appendText
}

// addrSegment collects one mailbox of an address list.
type addrSegment struct {
	words    []addrWord
	open     bool // the last word is an unfinished atom
	at       bool // an atom holds an "@"
	comments []string
	angle    string
	hasAngle bool
}

// appendText adds s[i:j] to the unfinished atom, or starts one. The pieces
// of an atom are adjacent in s, so it grows by slicing, not by copying
// (a long field of "a@b:" pieces would otherwise cost quadratic time).
func (g *addrSegment) appendText(s string, i, j int) {
	if strings.IndexByte(s[i:j], '@') >= 0 {
		g.at = true
	}
	if n := len(g.words); g.open && n > 0 {
		g.words[n-1].text = s[g.words[n-1].start:j]
		return
	}
	g.words = append(g.words, addrWord{text: s[i:j], start: i})
	g.open = true
}

func (g *addrSegment) breakWord() { g.open = false }

// emit appends the mailbox(es) of the segment to out; raw is the segment's
// text, searched for an address as a last resort.
func (g *addrSegment) emit(out []Address, raw string) []Address {
	if g.hasAngle {
		addr := cleanAddr(g.angle)
		if addr == "" {
			return out
		}
		name := joinWords(g.words)
		if name == "" {
			name = strings.Join(g.comments, " ")
		}
		return append(out, Address{Name: decodeName(name), Addr: addr})
	}
	var addrs []string
	var rest []addrWord
	for _, w := range joinObsolete(g.words) {
		if !w.quoted && strings.Contains(w.text, "@") {
			addrs = append(addrs, w.text)
		} else {
			rest = append(rest, w)
		}
	}
	switch {
	case len(addrs) == 1:
		name := joinWords(rest)
		if name == "" {
			name = strings.Join(g.comments, " ")
		}
		if a := cleanAddr(addrs[0]); a != "" {
			out = append(out, Address{Name: decodeName(name), Addr: a})
		}
		return out
	case len(addrs) > 1:
		for _, a := range addrs {
			if a = cleanAddr(a); a != "" {
				out = append(out, Address{Addr: a})
			}
		}
		return out
	case len(g.words) == 1 && !g.words[0].quoted:
		// A bare local name such as MAILER-DAEMON.
		if a := cleanAddr(g.words[0].text); a != "" {
			out = append(out, Address{Name: decodeName(strings.Join(g.comments, " ")), Addr: a})
		}
		return out
	}
	// Nothing usable by the grammar (say, an unclosed quote swallowed the
	// address): take any token with an @ in it.
	for _, tok := range strings.FieldsFunc(raw, func(r rune) bool {
		return strings.ContainsRune(" \t\r\n\"'<>(),;", r)
	}) {
		if strings.Contains(tok, "@") {
			if a := cleanAddr(tok); a != "" {
				out = append(out, Address{Addr: a})
			}
		}
	}
	return out
}

// joinObsolete puts back together an addr-spec written with blanks around
// its dots or "@" (RFC 5322 §4.4 allows "jdoe@test . example").
func joinObsolete(words []addrWord) []addrWord {
	var out []addrWord
	for _, w := range words {
		if n := len(out); n > 0 && !w.quoted && !out[n-1].quoted {
			prev := out[n-1].text
			glue := strings.HasPrefix(w.text, ".") || strings.HasPrefix(w.text, "@") ||
				strings.HasSuffix(prev, ".") || strings.HasSuffix(prev, "@")
			at := strings.Contains(prev, "@") || strings.HasPrefix(w.text, "@") || strings.Contains(w.text, "@")
			if glue && at {
				out[n-1].text = prev + w.text
				continue
			}
		}
		out = append(out, w)
	}
	return out
}

// joinWords joins the words of a phrase into a display name.
func joinWords(words []addrWord) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0].text
	}
	var sb strings.Builder
	for i, w := range words {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(w.text)
	}
	return sb.String()
}

// decodeName decodes a display name: encoded words (inside quotes too, as
// many clients send them), control characters, and the single quotes
// Outlook puts around names.
func decodeName(s string) string {
	return cleanName(decodeWords(s))
}

// cleanName removes control characters and the single quotes Outlook puts
// around names.
func cleanName(s string) string {
	s = cleanLine(s)
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// cleanAddr normalises an addr-spec: comments and white space removed, a
// source route or mailto: dropped, lower-cased.
func cleanAddr(s string) string {
	if strings.ContainsAny(s, "( \t\r\n\"") {
		var sb strings.Builder
		for i := 0; i < len(s); {
			switch c := s[i]; c {
			case '(':
				_, n := readComment(s[i:])
				i += n
			case ' ', '\t', '\r', '\n':
				i++
			case '"':
				// Keep a quoted local part as it is.
				j := strings.IndexByte(s[i+1:], '"')
				if j < 0 {
					sb.WriteString(s[i:])
					i = len(s)
				} else {
					sb.WriteString(s[i : i+j+2])
					i += j + 2
				}
			default:
				sb.WriteByte(c)
				i++
			}
		}
		s = sb.String()
	}
	if strings.HasPrefix(s, "@") {
		if k := strings.LastIndexByte(s, ':'); k >= 0 {
			s = s[k+1:]
		}
	}
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	s = strings.Trim(s, ".'")
	return strings.ToLower(cleanLine(s))
}

// readQuoted reads a quoted string at the start of s, returning its content
// without escapes and the bytes consumed. An unclosed quote runs to the end.
func readQuoted(s string) (string, int) {
	var sb strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				sb.WriteByte(s[i])
			}
		case '"':
			return sb.String(), i + 1
		default:
			sb.WriteByte(s[i])
		}
	}
	return sb.String(), len(s)
}
