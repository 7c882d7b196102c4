package mailin

import (
	"strings"
	"unicode"
)

// replyPrefixes are the reply and forward markers mail clients put before a
// subject, lower-cased, without the colon: English, German (AW, WG), the
// Nordic languages (SV, VS, VB), Dutch (Antw, Doorst), French (TR), Spanish
// and Portuguese (RV, Enc), Italian (R, I), Polish (Odp, PD), Finnish (VL),
// Czech (Odp), Turkish (YNT, İLT), Greek (ΑΠ, ΣΧΕΤ, ΠΡΘ), Chinese (回复, 转发)
// and others.
var replyPrefixes = map[string]bool{
	"re": true, "fw": true, "fwd": true, "aw": true, "wg": true, "sv": true,
	"vs": true, "vb": true, "antw": true, "antwort": true, "doorst": true,
	"tr": true, "rv": true, "enc": true, "r": true, "i": true, "odp": true,
	"pd": true, "vl": true, "ynt": true, "ilt": true, "İlt": true, "απ": true,
	"σχετ": true, "πρθ": true, "回复": true, "回覆": true, "转发": true, "轉寄": true,
	"答复": true, "返信": true, "転送": true, "ref": true, "res": true, "rif": true,
}

// NormalizeSubject strips reply and forward prefixes ("Re:", "AW:", "Fwd:",
// "Re[2]:", "RE^3:"), "[tag]" prefixes and a trailing "(fwd)" from a subject,
// folds white space and case, and reports whether it looked like a reply or
// forward. Normalised subjects are what the subject fallback of threading
// compares (RFC 5256 section 2.1 describes the same idea as the "base subject").
func NormalizeSubject(s string) (base string, reply bool) {
	s = strings.Join(strings.Fields(s), " ")
	for {
		t := strings.TrimLeftFunc(s, unicode.IsSpace)
		if strings.HasPrefix(t, "[") {
			if i := strings.IndexByte(t, ']'); i > 0 {
				s = t[i+1:]
				continue
			}
		}
		if rest, ok := cutReplyPrefix(t); ok {
			s, reply = rest, true
			continue
		}
		s = t
		break
	}
	s = strings.TrimSpace(s)
	for {
		l := strings.ToLower(s)
		if strings.HasSuffix(l, "(fwd)") {
			s = strings.TrimSpace(s[:len(s)-len("(fwd)")])
			reply = true
			continue
		}
		break
	}
	return strings.ToLower(s), reply
}

// cutReplyPrefix removes one "word:" or "word[n]:" or "word^n:" marker, or
// their full-width colon form, when word is a known prefix.
func cutReplyPrefix(s string) (string, bool) {
	i := strings.IndexAny(s, ":：")
	if i <= 0 || i > 12 {
		return s, false
	}
	word := s[:i]
	if j := strings.IndexAny(word, "[^("); j > 0 {
		count := strings.Trim(word[j:], "[]^() ")
		for _, r := range count {
			if r < '0' || r > '9' {
				return s, false
			}
		}
		word = word[:j]
	}
	word = strings.ToLower(strings.TrimSpace(word))
	if !replyPrefixes[word] {
		return s, false
	}
	rest := s[i:]
	if strings.HasPrefix(rest, "：") {
		rest = rest[len("："):]
	} else {
		rest = rest[1:]
	}
	return rest, true
}

// DisplaySubject strips reply and forward prefixes but keeps tags and case:
// the subject a thread is shown under.
func DisplaySubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for {
		t := strings.TrimSpace(s)
		// Step over leading tags to find a reply prefix behind them, but keep
		// the first tag itself.
		tag := ""
		if strings.HasPrefix(t, "[") {
			if i := strings.IndexByte(t, ']'); i > 0 {
				tag, t = t[:i+1], strings.TrimSpace(t[i+1:])
			}
		}
		rest, ok := cutReplyPrefix(t)
		if !ok {
			return strings.TrimSpace(s)
		}
		rest = strings.TrimSpace(rest)
		if tag != "" && !strings.HasPrefix(rest, tag) {
			rest = tag + " " + rest
		}
		s = rest
	}
}
