package mailin

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// cp1252 maps the bytes 0x80–0x9F of Windows-1252 to runes; the five bytes
// it leaves undefined become U+FFFD so that they are visible, not lost.
var cp1252 = [32]rune{
	'€', '\ufffd', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\ufffd', 'Ž', '\ufffd',
	'\ufffd', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\ufffd', 'ž', 'Ÿ',
}

func cp1252Rune(c byte) rune {
	if c >= 0x80 && c < 0xa0 {
		return cp1252[c-0x80]
	}
	return rune(c)
}

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
			sb.WriteRune(cp1252Rune(b[0]))
			b = b[1:]
			continue
		}
		sb.Write(b[:n])
		b = b[n:]
	}
	return sb.String()
}

// decodeCharset converts b from the named charset to UTF-8. known is false
// when the charset is not one we can decode: the text is then read as
// UTF-8/Windows-1252 by toUTF8 rather than lost.
func decodeCharset(cs string, b []byte) (s string, known bool) {
	n := normCharset(cs)
	switch n {
	case "", "us-ascii", "ascii", "utf-8", "utf8", "unicode-1-1-utf-8", "ansi_x3.4-1968", "iso-646-us", "us":
		return toUTF8(b), true
	}
	if isLatin1(n) && utf8.Valid(b) {
		// Text labelled Latin-1 that is valid UTF-8 is UTF-8 mislabelled:
		// Latin-1 text is valid UTF-8 only when it is ASCII or nonsense.
		return string(b), true
	}
	if isLatin1(n) && n != "iso-8859-15" {
		// WHATWG reads the Latin-1 labels as Windows-1252, as we do.
		var sb strings.Builder
		sb.Grow(len(b) + len(b)/4)
		for _, c := range b {
			if c < 0x80 {
				sb.WriteByte(c)
			} else {
				sb.WriteRune(cp1252Rune(c))
			}
		}
		return sb.String(), true
	}
	if isASCII(b) && asciiCompatible(n) {
		// ASCII reads the same in every charset but the stateful and
		// wide ones: no need to build a decoder, only to know the name.
		return string(b), knownCharset(cs)
	}
	r, err := charset.Reader(strings.TrimSpace(cs), bytes.NewReader(b))
	if err != nil {
		return toUTF8(b), false
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return toUTF8(b), false
	}
	return toUTF8(out), true
}

func isLatin1(cs string) bool {
	switch cs {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252", "x-cp1252", "iso-8859-15":
		return true
	}
	return false
}

// knownCharset reports whether charset.Reader would decode cs, by the same
// indexes, without building a decoder (which costs kilobytes).
func knownCharset(cs string) bool {
	cs = strings.TrimSpace(cs)
	if enc, err := ianaindex.MIME.Encoding(cs); err == nil && enc != nil {
		return true
	}
	if enc, err := ianaindex.MIME.Encoding("cs" + cs); err == nil && enc != nil {
		return true
	}
	enc, err := htmlindex.Get(cs)
	return err == nil && enc != nil
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

// asciiCompatible reports whether ASCII bytes mean ASCII in charset cs
// (lower case): false for the wide and the stateful encodings.
func asciiCompatible(cs string) bool {
	for _, p := range []string{"utf-16", "utf16", "utf-32", "utf32", "ucs", "unicode", "iso-2022", "utf-7", "utf7", "hz"} {
		if strings.HasPrefix(cs, p) {
			return false
		}
	}
	return true
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
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
