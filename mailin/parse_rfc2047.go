package mailin

import "strings"

// decodeWords decodes the RFC 2047 encoded words in s, which is valid UTF-8
// already. It is written for real mail rather than taken from mime's
// WordDecoder, which fails a whole header on one unknown charset:
//
//   - white space between two encoded words is dropped (§6.2);
//   - adjacent words in one charset are decoded together, so a character
//     split across two words (common with UTF-8 in base64) survives;
//   - a word that does not parse is kept literally, and a word in an
//     unknown charset is read as UTF-8/Windows-1252: no text is lost;
//   - spaces inside a Q word (sent by some clients) are kept.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	var pend []byte // decoded bytes of the current run of words
	pendCS := ""
	inRun := false
	flush := func() {
		if inRun {
			t, _ := decodeCharset(pendCS, pend)
			sb.WriteString(t)
			pend = pend[:0]
			inRun = false
		}
	}
	i := 0
	for i < len(s) {
		j := strings.Index(s[i:], "=?")
		if j < 0 {
			break
		}
		j += i
		cs, enc, text, n, ok := splitWord(s[j:])
		if !ok {
			flush()
			sb.WriteString(s[i : j+2])
			i = j + 2
			continue
		}
		if between := s[i:j]; !inRun || !isBlank(between) {
			flush()
			sb.WriteString(between)
		}
		if inRun && !strings.EqualFold(cs, pendCS) {
			flush()
		}
		if enc == 'b' {
			pend = decodeBase64(pend, []byte(text))
		} else {
			pend = decodeQWord(pend, text)
		}
		pendCS = cs
		inRun = true
		i = j + n
	}
	flush()
	sb.WriteString(s[i:])
	return sb.String()
}

// Longest charset name and encoded text of a word we decode. RFC 2047 §2
// allows 75 characters for the whole word; senders write longer ones.
const (
	maxCharsetLen = 64
	maxWordText   = 1000
)

// splitWord parses an encoded word at the start of s ("=?cs?e?text?="). It
// returns the charset (without an RFC 2231 language), the encoding ('b' or
// 'q'), the encoded text and the length of the word.
func splitWord(s string) (cs string, enc byte, text string, n int, ok bool) {
	q := strings.IndexByte(s[2:min(len(s), 2+maxCharsetLen+1)], '?')
	if q <= 0 {
		return "", 0, "", 0, false
	}
	cs = s[2 : 2+q]
	if strings.ContainsAny(cs, " \t\r\n=\"") {
		return "", 0, "", 0, false
	}
	if star := strings.IndexByte(cs, '*'); star >= 0 {
		cs = cs[:star]
	}
	p := 2 + q + 1 // the encoding letter
	if p+1 >= len(s) || s[p+1] != '?' {
		return "", 0, "", 0, false
	}
	switch s[p] {
	case 'B', 'b':
		enc = 'b'
	case 'Q', 'q':
		enc = 'q'
	default:
		return "", 0, "", 0, false
	}
	rest := s[p+2:]
	// Searching only so far keeps a field full of "=?" that never close
	// linear.
	e := strings.Index(rest[:min(len(rest), maxWordText+2)], "?=")
	if e < 0 {
		return "", 0, "", 0, false
	}
	text = rest[:e]
	if strings.IndexByte(text, '?') >= 0 {
		return "", 0, "", 0, false
	}
	if enc == 'b' && !validBase64(text) {
		return "", 0, "", 0, false
	}
	return cs, enc, text, p + 2 + e + 2, true
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n' {
			return false
		}
	}
	return true
}

// decodeHeaderText is the whole treatment of an unstructured field such as
// Subject: unfolded, 8-bit bytes read, encoded words decoded, control
// characters removed. hint is the charset for raw 8-bit bytes (see
// unfoldHint).
func decodeHeaderText(v []byte, hint string) string {
	if v == nil {
		return ""
	}
	return cleanLine(decodeWords(unfoldHint(v, hint)))
}
