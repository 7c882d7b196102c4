package mailin

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The author of a forwarded mail is written for people, not parsers:
// "John Doe <john@…>", "John Doe [mailto:john@…]", "John, Doe <john@…>",
// "John Doe<mailto:john@…> <john@…<mailto:john@…>> on behalf of …",
// "« John Doe » <john@…>", "John Doe (john@…)", a bare address, or a name
// alone. looseAddress takes the first address and the text before it as
// the name.

// behalfPhrases end the author in Outlook's "A on behalf of B" (the
// author is A), in the languages of fwdLabels.
var behalfPhrases = []string{
	" on behalf of ", " im auftrag von ", " au nom de ", " en nombre de ", " namens ", " per conto di ",
	" em nome de ", " på vegne af ", " på vegne av ", " för ", " w imieniu ", " jménem ", " nevében ",
	" от имени ",
}

// looseAddress reads the From value of a forwarded header block.
func looseAddress(v string) Address {
	v = strings.TrimSpace(v)
	lower := lowerSameLen(v)
	for _, ph := range behalfPhrases {
		if i := strings.Index(lower, ph); i > 0 {
			v, lower = v[:i], lower[:i]
		}
	}
	addr, a0, a1 := findEmail(v)
	if addr == "" {
		return Address{Name: displayName(v)}
	}
	name := displayName(v[:a0])
	if name == "" {
		// "john@… (John Doe)"
		if after := strings.TrimSpace(v[a1:]); strings.HasPrefix(after, "(") && !strings.Contains(after, "@") {
			name = displayName(strings.Trim(after, "()"))
		}
	}
	if strings.Contains(name, "@") && cleanAddr(strings.Trim(name, "<>")) == addr {
		name = ""
	}
	return Address{Name: name, Addr: addr}
}

// displayName cleans the text before an address: white space, quotes of
// any kind, emphasis, a trailing comma, encoded words.
func displayName(s string) string {
	for {
		t := strings.Trim(s, " \t\u00a0*,;:")
		for _, q := range [][2]string{{`"`, `"`}, {"'", "'"}, {"«", "»"}, {"„", "”"}, {"„", "“"}, {"“", "”"}, {"‘", "’"}} {
			if len(t) >= len(q[0])+len(q[1]) && strings.HasPrefix(t, q[0]) && strings.HasSuffix(t, q[1]) {
				t = t[len(q[0]) : len(t)-len(q[1])]
				break
			}
		}
		if t == s {
			break
		}
		s = t
	}
	if strings.Contains(s, "=?") {
		return decodeName(s)
	}
	return cleanName(s)
}

// findEmail finds the first addr-spec in s; a0 and a1 bound it with the
// brackets, "mailto:" and Outlook's "<mailto:…>" echo around it.
func findEmail(s string) (addr string, a0, a1 int) {
	for from := 0; from < len(s); {
		at := strings.IndexByte(s[from:], '@')
		if at < 0 {
			return "", 0, 0
		}
		at += from
		ls := at
		for ls > 0 {
			r, n := utf8.DecodeLastRuneInString(s[:ls])
			if !localRune(r) {
				break
			}
			ls -= n
		}
		de := at + 1
		for de < len(s) {
			r, n := utf8.DecodeRuneInString(s[de:])
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '.') {
				break
			}
			de += n
		}
		for de > at+1 && s[de-1] == '.' {
			de--
		}
		if ls == at || de == at+1 {
			from = at + 1
			continue
		}
		addr = cleanAddr(s[ls:de])
		if addr == "" || strings.IndexByte(addr, '@') <= 0 {
			from = at + 1
			continue
		}
		a0 = ls
		if a0 >= 7 && strings.EqualFold(s[a0-7:a0], "mailto:") {
			a0 -= 7
		}
		for a0 > 0 && strings.IndexByte("<([", s[a0-1]) >= 0 {
			a0--
		}
		a1 = de
		for a1 < len(s) {
			if strings.HasPrefix(strings.ToLower(s[a1:]), "<mailto:") {
				k := strings.IndexByte(s[a1:], '>')
				if k < 0 {
					a1 = len(s)
					break
				}
				a1 += k + 1
				continue
			}
			if strings.IndexByte(">)]", s[a1]) < 0 {
				break
			}
			a1++
		}
		return addr, a0, a1
	}
	return "", 0, 0
}

// localRune reports whether r may be part of the local part of an
// address as written in text (RFC 5322 atext and dots, and letters).
func localRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
}

// attributionAuthor reads the author of an attribution line ("On …,
// "John Doe" <john@…> wrote:") and returns the line without the author,
// for its date.
func attributionAuthor(line string) (Address, string) {
	addr, a0, a1 := findEmail(line)
	if addr == "" {
		return Address{}, line
	}
	name, n0 := nameBefore(line[:a0])
	return Address{Name: name, Addr: addr}, line[:n0] + " " + line[a1:]
}

// nameQuotes pair the closing quotes names are written in with their
// openings.
var nameQuotes = map[rune]string{'"': `"`, '”': "„“", '»': "«", '’': "‘", '“': "„", '\'': "'"}

// nameBefore finds the name that ends s: a quoted one, or the capitalised
// words before the address ("…12:46, John Doe", "…heeft John Doe"). It
// returns the name and where it starts.
func nameBefore(s string) (string, int) {
	b := strings.TrimRight(s, " \t\u00a0")
	if b == "" {
		return "", len(s)
	}
	last, n := utf8.DecodeLastRuneInString(b)
	if opens, ok := nameQuotes[last]; ok {
		inner := b[:len(b)-n]
		k := strings.LastIndexAny(inner, opens)
		if k >= 0 {
			_, on := utf8.DecodeRuneInString(inner[k:])
			return displayName(inner[k+on:]), k
		}
	}
	type span struct{ i, j int }
	var words []span
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRuneInString(b[i:])
		if unicode.IsSpace(r) {
			i += n
			continue
		}
		j := i
		for j < len(b) {
			r, n := utf8.DecodeRuneInString(b[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += n
		}
		words = append(words, span{i, j})
		i = j
	}
	start := len(b)
	for k := len(words) - 1; k >= 0 && len(words)-k <= 4; k-- {
		w := b[words[k].i:words[k].j]
		if r, _ := utf8.DecodeRuneInString(w); !unicode.IsUpper(r) || strings.ContainsAny(w, "0123456789,:;") {
			break
		}
		if _, ok := ampmWord(strings.ToLower(w)); ok {
			break
		}
		start = words[k].i
	}
	if start >= len(b) {
		return "", len(s)
	}
	return displayName(b[start:]), start
}
