package mailin

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// hardCut returns the first line of an unmarked quote, after which
// nothing is the author's: Outlook's "-----Original Message-----" or its
// header block (with the rule above it), an attribution line that no '>'
// quote follows (clients that quote by indentation, converted HTML), or
// our own digest pasted in. len(t.lines) when there is none.
func (t *replyText) hardCut() int {
	n := len(t.lines)
	for i := 0; i < n; i++ {
		if !t.content(i) {
			continue
		}
		line, ok := t.short(i)
		if !ok {
			continue
		}
		if strings.Contains(line, "--") && isOriginalMessage(strings.TrimSpace(line)) {
			return i
		}
		if isOutlookRule(line) && t.labelsAfter(i) {
			return i
		}
		if t.headerBlockAt(i, i == 0 || !t.content(i-1) || isReplyRule(t.line(i-1))) {
			return t.ruleAbove(i)
		}
		if end, ok := t.attributionStartingAt(i); ok {
			next := end + 1
			for next < n && t.lines[next].blank {
				next++
			}
			if next >= n || !t.lines[next].quoted {
				return i
			}
		}
		if t.digestTitleAt(i) {
			return i
		}
		if strings.Contains(line, "Reply [") && quotedDigestLinks.MatchString(strings.TrimSpace(line)) {
			return t.digestStart(i)
		}
	}
	return n
}

// ruleAbove extends a header block at i up to the rule Outlook draws above
// it, across up to two blank lines.
func (t *replyText) ruleAbove(i int) int {
	for k, blanks := i-1, 0; k >= 0 && blanks <= 2; k-- {
		if t.lines[k].blank {
			blanks++
			continue
		}
		if l, ok := t.short(k); ok && isReplyRule(l) && !t.lines[k].quoted {
			return k
		}
		break
	}
	return i
}

// isReplyRule reports a line that is only a rule of underscores or dashes.
func isReplyRule(line string) bool {
	s := strings.TrimSpace(line)
	if len(s) < 5 || len(s) > maxPatternLine {
		return false
	}
	return strings.Trim(s, "_") == "" || strings.Trim(s, "-") == ""
}

// isOutlookRule reports the long rule of underscores Outlook writes above
// the header block of a quoted message.
func isOutlookRule(line string) bool {
	s := strings.TrimSpace(line)
	return len(s) >= 20 && strings.Trim(s, "_") == ""
}

// labelsAfter reports a header block in any language below the rule at
// line i: its next three lines (after at most one blank line) all look
// like "Label: value".
func (t *replyText) labelsAfter(i int) bool {
	k := i + 1
	if k < len(t.lines) && t.lines[k].blank {
		k++
	}
	for n := 0; n < 3; n, k = n+1, k+1 {
		if !t.content(k) {
			return false
		}
		line, ok := t.short(k)
		if !ok || !headerLabel.MatchString(strings.TrimSpace(line)) {
			return false
		}
	}
	return true
}

// headerBlockAt reports a quoted message's header block starting at line
// i, as Outlook writes it in any of its languages: at least three header
// lines with a From among them, or From and a date; a wrapped recipient
// list may continue a line. Right below a line of text (converted HTML
// may leave no blank line) it takes a full block: From first, a date, and
// a third field.
func (t *replyText) headerBlockAt(i int, afterBreak bool) bool {
	count, from, date, wrapped := 0, false, false, 0
	if !afterBreak {
		line, ok := t.short(i)
		if kind, isKey := quoteHeaderKey(line); !ok || !isKey || kind != qhFrom {
			return false
		}
	}
	for k := i; k < len(t.lines) && k < i+12; k++ {
		if t.lines[k].blank || t.lines[k].quoted {
			break
		}
		line, ok := t.short(k)
		if !ok {
			break
		}
		kind, ok := quoteHeaderKey(line)
		if !ok {
			if k == i || wrapped == 2 {
				break
			}
			wrapped++
			continue
		}
		count++
		switch kind {
		case qhFrom:
			from = true
		case qhDate:
			date = true
		}
	}
	if !afterBreak {
		return from && date && count >= 3
	}
	return from && (count >= 3 || count == 2 && date)
}

// headerGroupAbove returns the first line of header lines (From:, Sent:,
// Subject: …) that end at line j right above a quote, or -1.
func (t *replyText) headerGroupAbove(j int) int {
	top, count, from := -1, 0, false
	for k := j; k >= 0 && k > j-12; k-- {
		if !t.content(k) {
			break
		}
		line, ok := t.short(k)
		if !ok {
			break
		}
		kind, ok := quoteHeaderKey(line)
		if !ok {
			break
		}
		count++
		from = from || kind == qhFrom
		top = k
	}
	if top < 0 || !from || count < 2 {
		return -1
	}
	return t.ruleAbove(top)
}

// attributionEndingAt returns the first line of the attribution (or
// header lines) that ends at line j, right above a quote, or -1. A long
// attribution may be folded over up to three lines, as Gmail does.
func (t *replyText) attributionEndingAt(j int) int {
	a := -1
	switch {
	case t.attributionSpan(j, j, false):
		a = j
	case t.joinable(j-1) && t.attributionSpan(j-1, j, false):
		a = j - 1
	case t.joinable(j-2) && t.joinable(j-1) && t.attributionSpan(j-2, j, false):
		a = j - 2
	case t.softAttribution(j):
		a = j
	default:
		return t.headerGroupAbove(j)
	}
	// Chinese and Japanese forms name the sender first; a long address
	// folds onto a line of its own above the rest.
	if t.joinable(a-1) && strings.Contains(t.line(a-1), "@") && t.lines[a-1].size <= 160 {
		joined := t.joined(a-1, j)
		if anchoredAttribution.MatchString(joined) || softAttribution.MatchString(joined) {
			a--
		}
	}
	return a
}

// attributionStartingAt reports an attribution with a date in it that
// starts at line i, over up to three lines, and where it ends. A fold is
// only taken when its last line alone is no attribution (that line's own
// turn comes).
func (t *replyText) attributionStartingAt(i int) (int, bool) {
	if t.attributionSpan(i, i, true) {
		return i, true
	}
	if !t.joinable(i) {
		return 0, false
	}
	for end := i + 1; end <= i+2 && end < len(t.lines); end++ {
		if !t.content(end) || t.attributionSpan(end, end, false) {
			return 0, false
		}
		if t.attributionSpan(i, end, true) {
			return end, true
		}
		if !t.joinable(end) {
			return 0, false
		}
	}
	return 0, false
}

// joinable reports whether line k may be the first part of a folded
// attribution: written, short, and not the end of a sentence.
func (t *replyText) joinable(k int) bool {
	if !t.content(k) {
		return false
	}
	l := t.lines[k]
	if l.size > 300 {
		return false
	}
	s := strings.TrimRightFunc(t.s[l.start:l.end], unicode.IsSpace)
	r, _ := utf8.DecodeLastRuneInString(s)
	return !strings.ContainsRune(".!?。！？:：", r)
}

// joined returns lines a..b joined by single spaces.
func (t *replyText) joined(a, b int) string {
	var sb strings.Builder
	for k := a; k <= b; k++ {
		if k > a {
			sb.WriteByte(' ')
		}
		sb.WriteString(strings.TrimSpace(t.line(k)))
	}
	return sb.String()
}

// attributionSpan reports whether lines a..b together are an attribution
// line; needDate asks for a digit in it as well (a date or time), which
// every client writes and a sentence that happens to match rarely has.
func (t *replyText) attributionSpan(a, b int, needDate bool) bool {
	if a < 0 || b >= len(t.lines) {
		return false
	}
	for k := a; k <= b; k++ {
		if !t.content(k) || t.lines[k].size > 400 {
			return false
		}
	}
	if !endsWithColon(t.line(b)) {
		return false // what every attribution ends with; spares the pattern most lines
	}
	s := t.joined(a, b)
	if needDate && !strings.ContainsAny(s, "0123456789") {
		return false
	}
	return hasAttributionWord(s) && anchoredAttribution.MatchString(s)
}

func (t *replyText) softAttribution(j int) bool {
	line, ok := t.short(j)
	return ok && t.content(j) && endsWithColon(line) && softAttribution.MatchString(strings.TrimSpace(line))
}

// endsWithColon reports whether line ends with a colon, ASCII or
// full-width, before any white space.
func endsWithColon(line string) bool {
	s := strings.TrimRightFunc(line, func(r rune) bool { return unicode.IsSpace(r) })
	return strings.HasSuffix(s, ":") || strings.HasSuffix(s, "：")
}

// digestTitleAt reports our digest's first two lines pasted unquoted:
// "tidings · Monday 30 November 2026", then "For Ana Lima: …".
func (t *replyText) digestTitleAt(i int) bool {
	line, _ := t.short(i)
	if !strings.Contains(line, " · ") || !quotedDigestTitle.MatchString(strings.TrimSpace(line)) {
		return false
	}
	next := i + 1
	for next < len(t.lines) && t.lines[next].blank {
		next++
	}
	if !t.content(next) {
		return false
	}
	l, ok := t.short(next)
	return ok && strings.HasPrefix(strings.TrimSpace(l), "For ") && strings.Contains(l, ":")
}

// digestStart returns where the part of a digest that ends in the link
// line at i begins: its section heading or its thread's "* " line.
func (t *replyText) digestStart(i int) int {
	start := i
	for k := i - 1; k >= 0 && k > i-400; k-- {
		l := t.lines[k]
		if l.quoted {
			break
		}
		if l.blank {
			continue
		}
		raw := t.s[l.start:l.end]
		s := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(s, "== ") && strings.HasSuffix(s, " =="):
			start = k
		case strings.HasPrefix(s, "* "), strings.HasPrefix(s, "- "):
			start = k
		case strings.HasPrefix(raw, " ") || strings.HasPrefix(raw, "\t"):
			// The indented body of a digest's thread.
		default:
			return start
		}
	}
	return start
}
