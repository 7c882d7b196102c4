package mailin

import (
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/charset"
)

// wordDecoder decodes RFC 2047 encoded words; the charsets it does not
// know itself come from go-message/charset. It is only ever read.
var wordDecoder = mime.WordDecoder{CharsetReader: wordCharset}

// wordCharset is wordDecoder's CharsetReader.
func wordCharset(cs string, r io.Reader) (io.Reader, error) {
	if i := strings.IndexByte(cs, '*'); i >= 0 {
		cs = cs[:i] // an RFC 2231 §5 language: "=?utf-8*en?q?...?="
	}
	if cr, err := charset.Reader(cs, r); err == nil {
		return cr, nil
	}
	// Fallback: mime.WordDecoder fails the whole field on one unknown
	// charset; the word is read as UTF-8 or Windows-1252 instead.
	b, err := io.ReadAll(r)
	return strings.NewReader(toUTF8(b)), err
}

// decodeWords decodes the RFC 2047 encoded words in s (valid UTF-8) with
// mime.WordDecoder, which also drops the blanks between two words (§6.2)
// and keeps a word it cannot decode as it is. The decoder stops at the
// first "=?" that does not parse as a word and leaves the rest of the
// field undecoded, so the field is cut there first and the pieces decoded
// one by one; and base64 words folded over lines come with blanks inside,
// which it refuses, so those are joined.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	var out, piece strings.Builder
	out.Grow(len(s))
	flush := func() {
		if piece.Len() == 0 {
			return
		}
		d, err := wordDecoder.DecodeHeader(piece.String())
		if err != nil {
			d = piece.String() // a charset failing half-way: keep the words
		}
		out.WriteString(toUTF8([]byte(d)))
		piece.Reset()
	}
	i := 0
	for {
		j := strings.Index(s[i:], "=?")
		if j < 0 {
			break
		}
		j += i
		piece.WriteString(s[i:j])
		n, enc, ok := wordLen(s[j:])
		if !ok {
			flush()
			out.WriteString("=?")
			i = j + 2
			continue
		}
		word := s[j : j+n]
		if enc == 'b' && strings.ContainsAny(word, " \t") {
			word = strings.NewReplacer(" ", "", "\t", "").Replace(word)
		}
		piece.WriteString(word)
		i = j + n
	}
	piece.WriteString(s[i:])
	flush()
	return out.String()
}

// Longest charset name and encoded text of a word decoded. RFC 2047 §2
// allows 75 characters for the whole word; senders write longer ones.
const (
	maxCharsetLen = 64
	maxWordText   = 1000
)

// wordLen returns the length of the encoded word "=?cs?e?text?=" at the
// start of s and its encoding, 'b' or 'q'; ok is false when there is none.
func wordLen(s string) (n int, enc byte, ok bool) {
	q := strings.IndexByte(s[2:min(len(s), 2+maxCharsetLen+1)], '?')
	if q <= 0 || strings.ContainsAny(s[2:2+q], " \t\"=") {
		return 0, 0, false
	}
	p := 2 + q + 1 // the encoding letter
	if p+1 >= len(s) || s[p+1] != '?' {
		return 0, 0, false
	}
	switch enc = s[p] | 0x20; enc {
	case 'b', 'q':
	default:
		return 0, 0, false
	}
	rest := s[p+2:]
	e := strings.Index(rest[:min(len(rest), maxWordText+2)], "?=")
	if e < 0 || strings.IndexByte(rest[:e], '?') >= 0 {
		return 0, 0, false
	}
	return p + 2 + e + 2, enc, true
}

// decodeHeaderText is the whole treatment of an unstructured field such as
// Subject: 8-bit bytes read, encoded words decoded, control characters
// removed. hint is the charset for raw 8-bit bytes (see toUTF8Hint).
func decodeHeaderText(v, hint string) string {
	if v == "" {
		return ""
	}
	return cleanLine(decodeWords(toUTF8Hint(v, hint)))
}
