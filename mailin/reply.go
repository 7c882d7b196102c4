package mailin

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Split is a message's text divided into what its author wrote now, what
// they quoted, and their signature. Each part is a piece of the text as it
// came (line endings made LF), trimmed; the zero value is an empty text.
type Split struct {
	// New is what the author wrote now. In an inline reply it keeps the
	// quoted lines the new lines answer (they are the context a reader
	// needs); only what follows the last new line is moved out. "" when
	// nothing new remains (the whole mail is a quote or a signature).
	New string
	// Quoted is the quoted message below (or between) the author's text
	// and signature: from its attribution line ("On … wrote:", Outlook's
	// header block, "-----Original Message-----") to its end.
	Quoted string
	// Signature is the author's signature: from its "-- " line (or a
	// phone's "Sent from my iPhone", a "-Name" sign-off) on.
	Signature string
}

// Lines longer than this are never an attribution, a header or a
// signature line: no pattern runs on them, which keeps hostile input
// (a 700 KB line of '>') linear.
const maxPatternLine = 1000

// Labels of the lines after the new text.
const (
	labNew byte = iota
	labQuote
	labSig
)

type replyLine struct {
	start, end int // byte offsets of the line in replyText.s, without its "\n"
	size       int // bytes without the white space around the line
	blank      bool
	quoted     bool // begins with '>' after indentation
}

// replyText is a text cut into lines, with what every rule asks of a line
// worked out once.
type replyText struct {
	s     string
	lines []replyLine
	// firstContent is the first line neither blank nor quoted (len(lines)
	// when there is none): a sign-off needs something above it to sign.
	firstContent int
}

func newReplyText(s string) *replyText {
	t := &replyText{s: s}
	t.lines = make([]replyLine, 0, strings.Count(s, "\n")+1)
	for start := 0; ; {
		end := strings.IndexByte(s[start:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		// Every test of a line ignores the white space around it, as
		// trimming New does: splitting New again must not read it anew.
		l := replyLine{start: start, end: end}
		body := strings.TrimLeftFunc(s[start:end], unicode.IsSpace)
		l.size = len(strings.TrimRightFunc(body, unicode.IsSpace))
		l.blank = l.size == 0
		l.quoted = strings.HasPrefix(body, ">")
		t.lines = append(t.lines, l)
		if end == len(s) {
			break
		}
		start = end + 1
	}
	t.firstContent = len(t.lines)
	for i, l := range t.lines {
		if !l.blank && !l.quoted {
			t.firstContent = i
			break
		}
	}
	return t
}

func (t *replyText) line(i int) string { return t.s[t.lines[i].start:t.lines[i].end] }

// short returns line i when it is short enough for the patterns.
func (t *replyText) short(i int) (string, bool) {
	l := t.lines[i]
	if l.size > maxPatternLine {
		return "", false
	}
	return t.s[l.start:l.end], true
}

// content reports whether line i is written text: neither blank nor quoted.
func (t *replyText) content(i int) bool {
	return i >= 0 && i < len(t.lines) && !t.lines[i].blank && !t.lines[i].quoted
}

// SplitReply divides a message's text (LF or CRLF line endings) into new
// text, quote and signature, the way mail clients write them: quotes
// marked with '>' below an attribution line in the languages teams write
// in, Outlook's header block and "-----Original Message-----" with the
// unmarked original below them, signatures after "-- " and the lines
// phones append, and quoted digests. Quotes that new lines follow stay in
// New as their context. It never panics and takes time linear in the
// text.
func SplitReply(text string) Split {
	text = lfOnly(text)
	t := newReplyText(text)
	n := len(t.lines)
	lab := make([]byte, n)
	cut := t.hardCut()
	for i := cut; i < n; i++ {
		lab[i] = labQuote
	}
	// Walk up from the cut over what no reader needs: blank lines, quoted
	// blocks with their attribution, signatures. The first written line
	// met ends the new text.
	tail := cut
	i := cut - 1
	for {
		for i >= 0 && t.lines[i].blank {
			i--
		}
		if i < 0 {
			tail = 0
			break
		}
		if t.lines[i].quoted {
			top, j := t.quoteBlock(i)
			for k := top; k <= i; k++ {
				lab[k] = labQuote
			}
			tail, i = top, j
			continue
		}
		m := t.signatureStart(i)
		if m < 0 {
			break
		}
		for k := m; k <= i; k++ {
			lab[k] = labSig
		}
		tail, i = m, m-1
	}

	var sp Split
	if tail > 0 {
		sp.New = strings.TrimSpace(text[:t.lines[tail-1].end])
	}
	sp.Quoted, sp.Signature = t.tailParts(lab, tail)
	return sp
}

// quoteBlock finds the quoted block that ends at line i (quoted lines and
// the blank lines among them) with the attribution line above it, if
// any: its first line, and the line above it (-1 at the top).
func (t *replyText) quoteBlock(i int) (top, above int) {
	j := i
	for j >= 0 && (t.lines[j].quoted || t.lines[j].blank) {
		j--
	}
	top = j + 1
	if j >= 0 {
		if a := t.attributionEndingAt(j); a >= 0 {
			top, j = a, a-1
		}
	}
	return top, j
}

// ownText returns the lines of a reply's new text that its author wrote:
// without the quotes, and their attribution lines, that an inline or
// bottom-posted reply keeps as context. "> Shall we?\n\n+1" is "+1".
func ownText(newText string) string {
	t := newReplyText(lfOnly(newText))
	drop := make([]bool, len(t.lines))
	for i := len(t.lines) - 1; i >= 0; {
		if !t.lines[i].quoted {
			i--
			continue
		}
		top, j := t.quoteBlock(i)
		for k := top; k <= i; k++ {
			drop[k] = true
		}
		i = j
	}
	var b strings.Builder
	for k, l := range t.lines {
		if !drop[k] {
			b.WriteString(t.s[l.start:l.end])
			b.WriteByte('\n')
		}
	}
	return strings.TrimSpace(b.String())
}

// lfOnly ends lines with LF alone: the CRs before each LF go, however
// many ("\r\r\n" too, or a second split would find a CRLF left).
func lfOnly(s string) string {
	if !strings.Contains(s, "\r\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(strings.TrimRight(s[:i], "\r"))
		b.WriteByte('\n')
		s = s[i+1:]
	}
}

// tailParts divides the lines from tail on into the quote and the
// signature, each one piece of the text: a signature right below the new
// text is the author's and the quote is all below it; otherwise the quote
// runs to its last quoted line and a signature below it is the author's.
func (t *replyText) tailParts(lab []byte, tail int) (quoted, sig string) {
	n := len(t.lines)
	first := -1
	for k := tail; k < n; k++ {
		if !t.lines[k].blank {
			first = k
			break
		}
	}
	if first < 0 {
		return "", ""
	}
	span := func(a, b int) string { // lines a..b inclusive
		if a > b {
			return ""
		}
		return strings.TrimSpace(t.s[t.lines[a].start:t.lines[b].end])
	}
	if lab[first] == labSig {
		q := -1
		for k := first; k < n; k++ {
			if lab[k] == labQuote && !t.lines[k].blank {
				q = k
				break
			}
		}
		if q < 0 {
			return "", span(first, n-1)
		}
		return span(q, n-1), span(first, q-1)
	}
	lastQ := first
	for k := first; k < n; k++ {
		if lab[k] == labQuote && !t.lines[k].blank {
			lastQ = k
		}
	}
	s := -1
	for k := lastQ + 1; k < n; k++ {
		if lab[k] == labSig && !t.lines[k].blank {
			s = k
			break
		}
	}
	if s < 0 {
		return span(first, n-1), ""
	}
	return span(first, s-1), span(s, n-1)
}

// signatureStart returns where the signature ends the unquoted lines
// above and including line i, or -1 when they hold none. A "-- " line or
// a phone's line starts a signature anywhere; a rule of underscores (the
// footer of a mailing list) and a short sign-off ("-Ana", "-- Tim") only
// after a blank line, and a sign-off only when nothing but a few short
// lines and further signatures follow it. The topmost one wins:
// everything below it is signature.
func (t *replyText) signatureStart(i int) int {
	r := i
	for r > 0 && !t.lines[r-1].quoted {
		r--
	}
	qual := make([]bool, i-r+1)
	best := -1
	for k := i; k >= r; k-- {
		if t.lines[k].blank {
			continue
		}
		line, ok := t.short(k)
		if !ok {
			continue
		}
		prevBlank := k == 0 || t.lines[k-1].blank || t.lines[k-1].quoted
		ok = false
		switch {
		case isSigDelimiter(line) || isMobileSignature(line):
			ok = true
		case isUnderscoreRule(line):
			ok = prevBlank
		case prevBlank && t.firstContent < k && isSignOff(line):
			p := k + 1
			for c := 0; c < 3 && p <= i && t.signOffContinues(p); c++ {
				p++
			}
			for p <= i && t.lines[p].blank {
				p++
			}
			ok = p > i || qual[p-r]
		}
		if ok {
			qual[k-r] = true
			best = k
		}
	}
	return best
}

// signOffContinues reports whether line p may follow a sign-off as part
// of it (a title, a company): short and not a list item.
func (t *replyText) signOffContinues(p int) bool {
	if t.lines[p].blank || t.lines[p].quoted {
		return false
	}
	l := t.lines[p]
	if l.size > 240 {
		return false
	}
	s := strings.TrimSpace(t.s[l.start:l.end])
	if utf8.RuneCountInString(s) > 60 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return !strings.ContainsRune("-*•+–—", r) && !unicode.IsDigit(r)
}

// isSigDelimiter reports the signature separator "-- " (RFC 3676 §4.3),
// also without its space, as many clients and editors leave it.
func isSigDelimiter(line string) bool {
	return strings.TrimSpace(line) == "--"
}

// isUnderscoreRule reports a line of underscores only, as mailing lists
// put above their footer and Outlook above its header block.
func isUnderscoreRule(line string) bool {
	s := strings.TrimSpace(line)
	return len(s) >= 4 && strings.Trim(s, "_") == ""
}

// isSignOff reports a short sign-off line: "-Ana", "-Abhishek Kona",
// "-- Tim", "— Bo": a dash, then up to four words of a name.
func isSignOff(line string) bool {
	var rest string
	switch {
	case strings.HasPrefix(line, "--"):
		rest = strings.TrimLeft(line[2:], " ")
	case strings.HasPrefix(line, "-"):
		rest = line[1:] // "-Name": the dash touches the name
	case strings.HasPrefix(line, "—"), strings.HasPrefix(line, "–"):
		_, size := utf8.DecodeRuneInString(line)
		rest = strings.TrimLeft(line[size:], " ")
	default:
		return false
	}
	rest = strings.TrimSpace(rest)
	r, _ := utf8.DecodeRuneInString(rest)
	if !unicode.IsLetter(r) || utf8.RuneCountInString(rest) > 40 || len(strings.Fields(rest)) > 4 {
		return false
	}
	return !strings.ContainsAny(rest, ",;:!?()[]<>=/\\\"")
}
