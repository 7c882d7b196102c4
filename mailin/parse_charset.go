package mailin

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/ianaindex"
)

// toUTF8 returns b as a string of valid UTF-8: valid UTF-8 sequences are
// kept and every byte that is not part of one is read as Windows-1252 (a
// superset of Latin-1 for text). Raw 8-bit mail is nearly always one of the
// two, and this way no byte is dropped.
func toUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/4)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			sb.WriteRune(charmap.Windows1252.DecodeByte(b[0]))
			b = b[1:]
			continue
		}
		sb.Write(b[:n])
		b = b[n:]
	}
	return sb.String()
}

// validUTF8 is toUTF8 for a header value.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return toUTF8([]byte(s))
}

// toUTF8Hint is validUTF8 for text whose raw 8-bit bytes, when they are
// not UTF-8, are most likely in charset hint: the charset of the message's
// text, which senders of raw 8-bit headers use for those too.
func toUTF8Hint(s, hint string) string {
	if hint == "" || utf8.ValidString(s) {
		return validUTF8(s)
	}
	out, _ := decodeCharset(hint, []byte(s))
	return out
}

// decodeCharset converts b from charset cs to UTF-8 with go-message's
// charset package. known is false when it does not know the charset: the
// text is then read by toUTF8 rather than lost.
func decodeCharset(cs string, b []byte) (s string, known bool) {
	cs = normCharset(cs)
	switch cs {
	case "", "us-ascii", "utf-8":
		// Passed through, as go-message does: text labelled ASCII is
		// often UTF-8.
		return toUTF8(b), true
	}
	if enc, _ := ianaindex.MIME.Encoding(cs); enc == charmap.ISO8859_1 && hasC1(b) {
		// Fallback: bytes 0x80-0x9F are control characters in Latin-1,
		// never text; senders labelling text Latin-1 mean Windows-1252
		// (as WHATWG reads the label), and its quotes and dashes would
		// be lost.
		cs = "windows-1252"
	}
	r, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		return toUTF8(b), false
	}
	out, _ := io.ReadAll(r)
	return string(out), true
}

// hasC1 reports whether b has a byte in 0x80-0x9F.
func hasC1(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 && c < 0xa0 {
			return true
		}
	}
	return false
}

// normCharset lower-cases a charset label and removes quotes and blanks.
func normCharset(cs string) string {
	cs = strings.Trim(cs, " \t\"'")
	for i := 0; i < len(cs); i++ {
		if c := cs[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(cs)
		}
	}
	return cs
}

// cleanLine makes a decoded header value safe to show on one line: a run of
// tabs, CRs and LFs becomes one space, every other control character (C0, DEL, C1)
// and the bidirectional overrides used to disguise file names are removed,
// and the ends are trimmed.
func cleanLine(s string) string {
	dirty := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == 0xc2 || c == 0xe2 || c == 0xef {
			dirty = true
			break
		}
	}
	if !dirty {
		return strings.TrimSpace(s)
	}
	var sb strings.Builder
	sb.Grow(len(s))
	last := rune(0)
	for _, r := range s {
		switch {
		case r == '\t' || r == '\r' || r == '\n':
			// A line break becomes one space, however it was written.
			if last != ' ' {
				sb.WriteByte(' ')
				last = ' '
			}
			continue
		case r < 0x20 || (r >= 0x7f && r < 0xa0) || r == 0xfeff || isBidiControl(r):
			continue
		default:
			sb.WriteRune(r)
		}
		last = r
	}
	return strings.TrimSpace(sb.String())
}

func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f
}

// cleanText normalises body text: line endings to \n, control characters
// other than \n and \t removed (NUL included), a byte-order mark dropped,
// trailing white space trimmed from every line and from the end, leading
// empty lines dropped. The RFC 3676 §4.3 signature separator "-- " keeps
// its space so that signatures can still be told apart.
func cleanText(s string) string { return cleanTextBlanks(s, -1) }

// cleanTextBlanks is cleanText keeping at most maxBlank empty lines in a
// row (-1: all). Text made from HTML gets 1: layouts pile up empty
// paragraphs that say nothing.
func cleanTextBlanks(s string, maxBlank int) string {
	var sb strings.Builder
	sb.Grow(len(s))
	pending := 0 // blank lines not yet written
	started := false
	var line []byte
	flush := func() {
		// line holds the current line without its break.
		end := len(line)
		for end > 0 && (line[end-1] == ' ' || line[end-1] == '\t') {
			end--
		}
		if end == 2 && len(line) >= 3 && line[0] == '-' && line[1] == '-' && line[2] == ' ' {
			end = 3
		}
		if end == 0 {
			if started {
				pending++
			}
			line = line[:0]
			return
		}
		if started {
			sb.WriteByte('\n')
			if maxBlank >= 0 {
				pending = min(pending, maxBlank)
			}
			for ; pending > 0; pending-- {
				sb.WriteByte('\n')
			}
		}
		started = true
		sb.Write(line[:end])
		line = line[:0]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			flush()
		case c == '\r':
			flush()
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case c < 0x20 && c != '\t', c == 0x7f:
		case c == 0xef && i+2 < len(s) && s[i+1] == 0xbb && s[i+2] == 0xbf:
			i += 2 // U+FEFF
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] < 0xa0:
			i++ // C1 control
		default:
			line = append(line, c)
		}
	}
	flush()
	return sb.String()
}
