package digest

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tidings/tidings/store"
)

// How much of one message a digest shows; the rest is a click away.
const (
	maxTextRunes = 1200
	maxTextLines = 25
	maxQuoteRun  = 3 // lines kept of a quote that new text answers
)

// attribution matches the line a mail client writes above the quoted
// message ("On Mon, 30 Nov 2026, Ana <ana@example.com> wrote:"), in the
// languages teams write in most, and the separators of Outlook and others.
var attribution = regexp.MustCompile(`(?i)^(` +
	`on\b.{4,200}\bwrote:|` + // English (Gmail, Apple Mail, Thunderbird)
	`am\b.{4,200}\bschrieb\b.{0,200}:|` + // German
	`le\b.{4,200}\ba écrit\s*:|` + // French
	`el\b.{4,200}\bescribió:|` + // Spanish
	`op\b.{4,200}\bschreef\b.{0,200}:|` + // Dutch
	`il\b.{4,200}\bha scritto:|` + // Italian
	`em\b.{4,200}\bescreveu:|` + // Portuguese
	`-{2,}\s*original message\s*-{2,}|` +
	`-{2,}\s*ursprüngliche nachricht\s*-{2,}|` +
	`_{20,}` + // Outlook's rule above its header block
	`)\s*$`)

// outlookHeader is the first line of the header block Outlook quotes.
var outlookHeader = regexp.MustCompile(`^\*?(From|Von|De|Van):\*?\s+\S`)

// mobileSignature is the line phones append.
var mobileSignature = regexp.MustCompile(`(?i)^(sent from my |sent from outlook for |get outlook for |von meinem .* gesendet)`)

// newText returns what a message adds: its text without the quoted
// message below the reply (from the client's attribution line on), without
// long quotes it answers in between (a few lines of each are kept for
// context), and without the signature. A forward is kept whole: the
// forwarded mail is its content. When nothing would be left, the text is
// shown as it came.
func newText(text, kind string) string {
	if strings.Contains(text, "\r") {
		text = strings.ReplaceAll(text, "\r\n", "\n")
	}
	if kind == store.KindForward {
		return strings.TrimSpace(text)
	}
	lines := strings.Split(text, "\n")
	cut := len(lines)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "-- " || t == "--" || l == "-- " {
			cut = i
			break
		}
		if attribution.MatchString(t) {
			cut = i
			break
		}
		// An attribution folded over two lines.
		if i+1 < len(lines) && len(t) < 200 && !strings.HasPrefix(t, ">") &&
			!attribution.MatchString(strings.TrimSpace(lines[i+1])) &&
			attribution.MatchString(t+" "+strings.TrimSpace(lines[i+1])) {
			cut = i
			break
		}
		// Outlook's header block: From:, then Sent: or Date: within a few lines.
		if outlookHeader.MatchString(t) && (i == 0 || strings.TrimSpace(lines[i-1]) == "") && headerBlockFollows(lines[i+1:]) {
			cut = i
			break
		}
	}
	lines = lines[:cut]
	// Drop the phone's signature, then trailing quotes: the reply's answer
	// is above them.
	for len(lines) > 0 {
		t := strings.TrimSpace(lines[len(lines)-1])
		if t == "" || strings.HasPrefix(t, ">") || mobileSignature.MatchString(t) {
			lines = lines[:len(lines)-1]
			continue
		}
		break
	}
	// Quotes answered in between: keep the first lines of each for context.
	var out []string
	run := 0
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), ">") {
			run++
			switch {
			case run <= maxQuoteRun:
				out = append(out, l)
			case run == maxQuoteRun+1:
				out = append(out, "> …")
			}
			continue
		}
		run = 0
		out = append(out, l)
	}
	s := strings.TrimSpace(strings.Join(out, "\n"))
	if s == "" {
		return strings.TrimSpace(text)
	}
	if strings.Contains(s, "\n\n\n") || strings.Contains(s, " \n") {
		s = strings.TrimSpace(collapseBlank(s))
	}
	if t := strings.TrimSpace(text); t == s {
		return t // the common case: nothing removed, and no copy kept
	}
	return s
}

func headerBlockFollows(lines []string) bool {
	for i := 0; i < len(lines) && i < 4; i++ {
		t := strings.TrimLeft(strings.TrimSpace(lines[i]), "*")
		for _, h := range []string{"Sent:", "Date:", "Gesendet:", "Envoyé :", "Verzonden:", "To:", "An:"} {
			if strings.HasPrefix(t, h) {
				return true
			}
		}
	}
	return false
}

// collapseBlank leaves at most one blank line in a row.
func collapseBlank(s string) string {
	var b strings.Builder
	blank := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			blank++
			if blank > 1 {
				continue
			}
			l = ""
		} else {
			blank = 0
		}
		b.WriteString(strings.TrimRight(l, " \t"))
		b.WriteByte('\n')
	}
	return b.String()
}

// cutText cuts text to the digest's limits, at a line or word boundary,
// and reports whether it did.
func cutText(s string) (string, bool) {
	cut := false
	if n := strings.Count(s, "\n"); n >= maxTextLines {
		i := 0
		for range maxTextLines {
			j := strings.IndexByte(s[i:], '\n')
			i += j + 1
		}
		s, cut = s[:i-1], true
	}
	if c, ok := cutRunes(s, maxTextRunes); ok {
		s, cut = c, true
	}
	// The templates say that there is more (Truncated).
	return strings.TrimRightFunc(s, unicode.IsSpace), cut
}

// cutRunes cuts s to at most max runes, after a whole line or word when
// one ends in the second half.
func cutRunes(s string, max int) (string, bool) {
	if utf8.RuneCountInString(s) <= max {
		return s, false
	}
	i := 0
	for range max {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if nl := strings.LastIndexByte(s[:i], '\n'); nl > i/2 {
		i = nl
	} else if sp := strings.LastIndexByte(s[:i], ' '); sp > i/2 {
		i = sp
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace), true
}

// mentionsIn lists the @handles in text, lower-case: "@ana", "@bo.berg".
// An @ inside an address (ana@example.com) is not one.
func mentionsIn(text string) []string {
	var out []string
	for i := 0; i < len(text); i++ {
		if text[i] != '@' {
			continue
		}
		if i > 0 {
			r, _ := utf8.DecodeLastRuneInString(text[:i])
			if isHandleRune(r) || r == '+' || r == '@' {
				continue
			}
		}
		j := i + 1
		for j < len(text) {
			r, size := utf8.DecodeRuneInString(text[j:])
			if !isHandleRune(r) {
				break
			}
			j += size
		}
		h := strings.ToLower(strings.TrimRight(text[i+1:j], ".-_"))
		if h != "" && !contains(out, h) {
			out = append(out, h)
		}
		i = j - 1
	}
	return out
}

func isHandleRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-'
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
