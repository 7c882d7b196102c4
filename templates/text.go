package templates

import (
	"bytes"
	"strconv"
	"strings"
	texttemplate "text/template"
	"unicode"

	"golang.org/x/text/width"
)

// Width is the column the text part is wrapped at.
const Width = 72

// textData is what the text template sees: the digest, and the numbered
// references its links become.
type textData struct {
	*Digest
	linkRefs
}

// linkRefs numbers the links of a text part for the list at its end.
type linkRefs struct {
	refs  []string
	index map[string]int
}

// Ref numbers a link for the list at the end of the text part and returns
// its mark, "[3]"; the same link keeps its number. "" gives "".
func (t *linkRefs) Ref(u string) string {
	if u == "" {
		return ""
	}
	if t.index == nil {
		t.index = make(map[string]int)
	}
	n, ok := t.index[u]
	if !ok {
		t.refs = append(t.refs, u)
		n = len(t.refs)
		t.index[u] = n
	}
	return "[" + strconv.Itoa(n) + "]"
}

// Refs lists the links numbered so far, as "[n] URL" lines.
func (t *linkRefs) Refs() []string {
	out := make([]string, len(t.refs))
	for i, u := range t.refs {
		out[i] = "[" + strconv.Itoa(i+1) + "] " + u
	}
	return out
}

var textFuncs = texttemplate.FuncMap{
	"wrap":   func(prefix, s string) string { return wrapText(s, prefix, prefix, Width) },
	"hang":   func(first, rest, s string) string { return wrapText(s, first, rest, Width) },
	"plural": plural,
	"join":   strings.Join,
	"meta":   meta,
	"news":   news,
}

// meta keeps the non-empty parts of a line like "eng · Ana, Bo · 3 new".
func meta(parts ...string) []string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// wrapText wraps every line of s to width columns, the first output line
// prefixed with first and the others with rest. Lines already short enough
// keep their breaks (mail is often wrapped by its writer); a longer line's
// continuation is indented like the line, list marker or quote included.
// Code (fenced, or indented by four spaces) is never rewrapped, and a word
// wider than the line (a URL) stands alone on its line, unbroken.
func wrapText(s, first, rest string, width int) string {
	var out []string
	prefix := first
	emit := func(line string) {
		out = append(out, strings.TrimRightFunc(prefix+line, unicode.IsSpace))
		prefix = rest
	}
	fence := false
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		line = strings.TrimRight(line, " \t\r")
		trimmed := strings.TrimLeft(line, " ")
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = !fence
			emit(line)
			continue
		}
		if fence || strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") {
			emit(line)
			continue
		}
		avail := width - textWidth(prefix)
		if textWidth(line) <= avail {
			emit(line)
			continue
		}
		lead := leader(line)
		// Continuation lines line up under the text; quoted text stays quoted.
		quote := strings.TrimRight(lead[:len(lead)-len(strings.TrimLeft(lead, " >"))], " ")
		if !strings.Contains(quote, ">") {
			quote = ""
		}
		hangIndent := quote + strings.Repeat(" ", textWidth(lead)-textWidth(quote))
		hangW := textWidth(hangIndent)
		nextAvail := width - textWidth(rest)
		cur, curW, empty := lead, textWidth(lead), true
		flush := func() {
			emit(cur)
			avail = width - textWidth(prefix)
			cur, curW, empty = hangIndent, hangW, true
		}
		for _, w := range strings.Fields(line[len(lead):]) {
			for w != "" {
				sep := 1
				if empty {
					sep = 0
				}
				ww := textWidth(w)
				if curW+sep+ww <= avail {
					cur += strings.Repeat(" ", sep) + w
					curW += sep + ww
					empty = false
					break
				}
				if !empty && hangW+ww <= nextAvail {
					flush() // fits on the next line
					continue
				}
				// Wider than a whole line. Wide characters (CJK is written
				// without spaces) may break between any two; anything
				// else, a URL say, stands alone, unbroken.
				if hasWide(w) {
					head, tail := cutWidth(w, avail-curW-sep)
					if head != "" {
						cur += strings.Repeat(" ", sep) + head
						flush()
						w = tail
						continue
					}
					if !empty {
						flush()
						continue
					}
				}
				if !empty {
					flush()
				}
				cur += w
				curW += ww
				empty = false
				break
			}
		}
		if !empty {
			emit(cur)
		}
	}
	return strings.Join(out, "\n")
}

// leader is the indentation, quote marks and list marker a line starts
// with: "  - ", "> > ", "12. ".
func leader(line string) string {
	i := 0
	for i < len(line) {
		switch {
		case line[i] == ' ' || line[i] == '>':
			i++
		case (line[i] == '-' || line[i] == '*' || line[i] == '+') && i+1 < len(line) && line[i+1] == ' ':
			return line[:i+2]
		case line[i] >= '0' && line[i] <= '9':
			j := i
			for j < len(line) && line[j] >= '0' && line[j] <= '9' {
				j++
			}
			if j-i <= 3 && j+1 < len(line) && (line[j] == '.' || line[j] == ')') && line[j+1] == ' ' {
				return line[:j+2]
			}
			return line[:i]
		default:
			return line[:i]
		}
	}
	return line
}

// textWidth is how many columns s takes in a monospaced font: East Asian
// wide and full-width characters take two, combining marks none.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == 0x200D || (r >= 0xFE00 && r <= 0xFE0F):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

func hasWide(s string) bool {
	for _, r := range s {
		if runeWidth(r) == 2 {
			return true
		}
	}
	return false
}

// cutWidth splits s after as many runes as fit in w columns.
func cutWidth(s string, w int) (head, tail string) {
	n := 0
	for i, r := range s {
		rw := runeWidth(r)
		if n+rw > w {
			return s[:i], s[i:]
		}
		n += rw
	}
	return s, ""
}

// tidyText leaves at most one blank line in a row, none at the start, and
// one line break at the end. It works in place: the result shares b.
func tidyText(b []byte) []byte {
	out := b[:0]
	blank := true // no blank lines at the start
	for len(b) > 0 {
		l := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		l = bytes.TrimRight(l, " \t")
		if len(l) == 0 {
			if !blank {
				out = append(out, '\n')
			}
			blank = true
			continue
		}
		// out never overtakes l: both walk b, out at most as far.
		out = append(out, l...)
		out = append(out, '\n')
		blank = false
	}
	out = bytes.TrimRight(out, "\n")
	return append(out, '\n')
}
