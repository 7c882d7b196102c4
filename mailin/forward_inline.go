package mailin

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// How an inline forward is found. The text is read line by line, quote
// markers ("> ") counted and set aside, from the top until the first of:
//
//   - a separator line: unambiguous ones (Gmail's dashes around "Forwarded
//     message", Apple Mail's "Begin forwarded message:", Thunderbird's,
//     Yahoo's with the header on the same line, and their translations),
//     or Outlook's ("-----Original Message-----", a rule of underscores),
//     followed by a header block;
//   - a header block with no separator, starting with a From line (Outlook,
//     new Outlook);
//   - the attribution line of a quoted reply ("On … wrote:"): what follows
//     is the history of a reply, and nothing below it is searched.
//
// A header block is consecutive "Label: value" lines whose labels are
// known (fwdLabels), at one quote depth. Outlook's kinds are checked
// against the subject and In-Reply-To (see DetectForward). When nothing is
// found and the subject says forward, an attribution line is taken as the
// header (Outlook for Mac forwards as "On 28/10/2021 12:46, "John Doe"
// <john@…> wrote:" above the indented original).

// Bounds on the work done on one text.
const (
	maxScanLines  = 3000 // lines searched for a separator
	maxBlockLines = 40   // lines of one header block
	maxNoteLines  = 8    // non-blank lines of a "short note" above an Outlook block
	maxNoteBytes  = 800
	maxCandidates = 64 // separators and From lines whose block is read
)

// sepKind is the kind of line that starts a forwarded block.
type sepKind int

const (
	sepNone     sepKind = iota
	sepForward          // says forward: a forward whatever the subject
	sepOriginal         // Outlook's "Original Message" or rule: a reply's too
	sepBare             // a header block with no separator line: a reply's too
)

// fline is one line of the text: byte offsets, quote depth, and the
// content without quote markers, as written and trimmed.
type fline struct {
	start, end int // the line in the text, without its line end
	depth      int
	body, text string
}

// fwdHeader is what a forwarded header block said.
type fwdHeader struct {
	from, date, subject string
	has                 [fieldOther + 1]bool
	first               fwdField
	depth               int
	end                 int // index of the first line after the block
}

func (h *fwdHeader) count(fields ...fwdField) int {
	n := 0
	for _, f := range fields {
		if h.has[f] {
			n++
		}
	}
	return n
}

// normalizeText makes line ends LF, drops byte-order marks and invalid
// UTF-8.
func normalizeText(s string) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	if strings.Contains(s, "\ufeff") {
		s = strings.ReplaceAll(s, "\ufeff", "")
	}
	return s
}

// scanLines cuts the first max lines of s.
func scanLines(s string, max int) []fline {
	var out []fline
	for start := 0; start < len(s) && len(out) < max; {
		end := strings.IndexByte(s[start:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		depth, body := unquote(s[start:end])
		out = append(out, fline{start: start, end: end, depth: depth, body: body, text: trimText(body)})
		start = end + 1
	}
	return out
}

// unquote counts the quote markers at the start of a line (">", "> >",
// ">>", "  > ") and returns the rest, without the space after the last.
func unquote(line string) (int, string) {
	depth, i := 0, 0
	for {
		j := i
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') && j-i < 4 {
			j++
		}
		if j >= len(line) || line[j] != '>' {
			break
		}
		depth++
		i = j + 1
		if i < len(line) && line[i] == ' ' {
			i++
		}
	}
	return depth, line[i:]
}

// stripQuotes removes up to n quote markers from the start of a line.
func stripQuotes(line string, n int) string {
	i := 0
	for k := 0; k < n; k++ {
		j := i
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') && j-i < 4 {
			j++
		}
		if j >= len(line) || line[j] != '>' {
			break
		}
		i = j + 1
		if i < len(line) && line[i] == ' ' {
			i++
		}
	}
	return line[i:]
}

// detectInline searches p.Text for an inline forward.
func detectInline(p *Parsed) (Forward, bool) {
	text := normalizeText(p.Text)
	lines := scanLines(text, maxScanLines)
	subjFwd, subjReply := subjectSays(p.Subject)
	replyLike := subjReply || len(p.InReplyTo) > 0

	tries := 0
	for i := 0; i < len(lines) && tries < maxCandidates; i++ {
		l := lines[i]
		if l.text == "" {
			continue
		}
		kind, rest := separatorKind(l.text)
		var (
			h         fwdHeader
			ok        bool
			bodyStart int // offset of the forwarded body in text
		)
		switch {
		case kind != sepNone:
			tries++
			if rest != "" {
				// Yahoo writes the header on the separator's line.
				if h, ok = inlineHeader(rest); ok {
					h.depth, h.end = l.depth, i+1
				}
			}
			if !ok {
				h, ok = readBlock(lines, i+1)
			}
			if !ok || !h.has[fieldFrom] || h.count(fieldDate, fieldSubject, fieldTo) == 0 {
				continue // a separator with no header below it
			}
			if kind == sepOriginal && h.count(fieldDate, fieldSubject, fieldTo, fieldCc) < 2 {
				continue
			}
		case isFromLine(l.text):
			tries++
			h, ok = readBlock(lines, i)
			if !ok || h.first != fieldFrom || !h.has[fieldDate] || h.count(fieldSubject, fieldTo) == 0 {
				continue
			}
			kind = sepBare
		case isAttribution(l.text) && quotedBelow(lines, i):
			// The quoted history of a reply starts here.
			i = len(lines)
			continue
		default:
			continue
		}

		if looseAddress(h.from) == (Address{}) {
			continue // "From:" and nothing: no author to show
		}
		note := text[:l.start]
		if kind == sepForward {
			if l.depth > 0 && replyLike && !subjFwd {
				return Forward{}, false // a reply quoting a forward
			}
		} else if !subjFwd && (replyLike || !shortNote(note)) {
			// Outlook's block above the mail a reply answers: everything
			// below is that reply's history.
			return Forward{}, false
		}
		// The body starts below the block's last line (which may be the
		// last line scanned, in a long text).
		bodyStart = min(len(text), lines[h.end-1].end+1)
		return makeForward(p, h, note, text[bodyStart:], h.depth, false), true
	}
	if subjFwd {
		return attributionForward(p, text, lines)
	}
	return Forward{}, false
}

// noteText is the forwarder's note: the text above the forwarded block,
// without a rule ("-----", "_____") some clients draw under it.
func noteText(s string) string {
	s = trimText(s)
	for {
		i := strings.LastIndexByte(s, '\n')
		last := trimText(s[i+1:])
		_, last = unquote(last)
		last = trimText(last)
		if len(last) < 3 || strings.Trim(last, "-_=*~") != "" {
			return s
		}
		if i < 0 {
			return ""
		}
		s = trimText(s[:i])
	}
}

// makeForward builds the Forward of a header block.
func makeForward(p *Parsed, h fwdHeader, note, body string, depth int, dedent bool) Forward {
	f := Forward{
		From:    looseAddress(h.from),
		Date:    parseLooseDate(h.date),
		Subject: forwardSubject(decodeWords(h.subject)),
		Note:    noteText(note),
		Text:    forwardBody(body, depth, dedent),
	}
	if f.Subject == "" {
		f.Subject = forwardSubject(p.Subject)
	}
	return f
}

// forwardBody is the text below a header block: quote markers down to the
// block's depth removed, white-space lines emptied, and, for the indented
// originals of Outlook for Mac, the common indent removed.
func forwardBody(body string, depth int, dedent bool) string {
	lines := strings.Split(body, "\n")
	// Some clients (Missive) quote the whole original below the header:
	// what every line is quoted with goes too.
	quoted := -1
	for _, l := range lines {
		if d, rest := unquote(l); trimText(rest) != "" && (quoted < 0 || d < quoted) {
			quoted = d
		}
	}
	depth = max(depth, quoted)
	if depth == 0 && !dedent {
		return trimText(body)
	}
	indent := -1
	for i, l := range lines {
		l = stripQuotes(l, depth)
		if trimText(l) == "" {
			l = ""
		} else if dedent {
			n := len(l) - len(strings.TrimLeft(l, " \t"))
			if indent < 0 || n < indent {
				indent = n
			}
		}
		lines[i] = l
	}
	if dedent && indent > 0 {
		for i, l := range lines {
			if len(l) >= indent {
				lines[i] = l[indent:]
			}
		}
	}
	return trimText(strings.Join(lines, "\n"))
}

// shortNote reports whether the text above an Outlook block is no more
// than a short note: a forward's "FYI", not a reply.
func shortNote(note string) bool {
	if len(note) > maxNoteBytes {
		return false
	}
	n := 0
	for _, l := range strings.Split(note, "\n") {
		if trimText(l) != "" {
			n++
		}
	}
	return n <= maxNoteLines
}

// separatorKind classifies a line (without quote markers) and returns what
// follows the separator on the same line.
func separatorKind(t string) (sepKind, string) {
	dashes := 0
	for dashes < len(t) && strings.IndexByte("-_=*~", t[dashes]) >= 0 {
		dashes++
	}
	if dashes >= 2 {
		inner := t[dashes:]
		phrase, rest := inner, ""
		if k := strings.Index(inner, "--"); k >= 0 {
			phrase = inner[:k]
			rest = strings.TrimLeft(inner[k:], "-_=*~ ")
		}
		phrase = strings.ToLower(strings.Trim(phrase, " \t:"))
		switch {
		case phrase == "" && rest == "" && dashes >= 8 && strings.Trim(t, "_") == "":
			return sepOriginal, "" // Outlook's rule of underscores
		case phrase == "" || len(phrase) > 80:
			return sepNone, ""
		case containsAny(phrase, fwdKeywords):
			return sepForward, rest
		case containsAny(phrase, origKeywords):
			return sepOriginal, rest
		}
		return sepNone, ""
	}
	// "Begin forwarded message:" and its kin.
	if len(t) > 80 || !(strings.HasSuffix(t, ":") || strings.HasSuffix(t, "：")) ||
		strings.ContainsAny(t, "@0123456789") {
		return sepNone, ""
	}
	if containsAny(strings.ToLower(t), fwdKeywords) {
		return sepForward, ""
	}
	return sepNone, ""
}

// headerLine reads "Label: value" with a known label.
func headerLine(t string) (fwdField, string, bool) {
	i := colonWithin(t, maxLabelLen+16)
	if i <= 0 || i > maxLabelLen+8 {
		return fieldNone, "", false
	}
	f := fwdLabels[normLabel(t[:i])]
	if f == fieldNone {
		return fieldNone, "", false
	}
	v := t[i:]
	if strings.HasPrefix(v, "：") {
		v = v[len("："):]
	} else {
		v = v[1:]
	}
	return f, strings.Trim(v, " \t*\u00a0"), true
}

func isFromLine(t string) bool {
	f, _, ok := headerLine(t)
	return ok && f == fieldFrom
}

// readBlock reads the header block at or after line i (blank lines before
// it are skipped).
func readBlock(lines []fline, i int) (fwdHeader, bool) {
	var h fwdHeader
	for skipped := 0; i < len(lines) && lines[i].text == ""; i++ {
		if skipped++; skipped > 3 {
			return h, false
		}
	}
	if i >= len(lines) {
		return h, false
	}
	h.depth = lines[i].depth
	last := fieldNone
	j := i
	for ; j < len(lines) && j-i < maxBlockLines; j++ {
		l := lines[j]
		if l.depth != h.depth || l.text == "" {
			break
		}
		f, v, ok := headerLine(l.text)
		if !ok {
			// A long To or Cc folded onto an indented line.
			if (last == fieldTo || last == fieldCc || last == fieldOther) &&
				(strings.HasPrefix(l.body, " ") || strings.HasPrefix(l.body, "\t")) {
				continue
			}
			break
		}
		if h.has[f] && f == fieldFrom {
			break // the next block
		}
		if j == i {
			h.first = f
		}
		if !h.has[f] {
			switch f {
			case fieldFrom:
				h.from = v
			case fieldDate:
				h.date = v
			case fieldSubject:
				h.subject = v
			}
		}
		h.has[f] = true
		last = f
	}
	h.end = j
	return h, j > i
}

// inlineHeader reads a header written on one line, fields glued together
// ("From: John <j@x>To: …Sent: Tuesday, … GMT+1Subject: …"), as Yahoo
// writes it after its separator.
func inlineHeader(s string) (fwdHeader, bool) {
	var h fwdHeader
	if len(s) > 2048 {
		return h, false
	}
	lower := lowerSameLen(s)
	type hit struct {
		f          fwdField
		start, val int // label start, value start
	}
	var hits []hit
	prevLower := false
	next := 0 // where the value of the last label starts
	for i, r := range s {
		// A label starts a word, or follows what ends the value before it
		// ("<john@…>To:", "…GMT+1Subject:", "…MEZBetreff:",
		// "…example.comGesendet:").
		boundary := !prevLower || unicode.IsUpper(r)
		prevLower = unicode.IsLower(r)
		if !boundary || i < next {
			continue
		}
		f, n := labelAt(lower[i:])
		if f == fieldNone {
			continue
		}
		hits = append(hits, hit{f: f, start: i, val: i + n})
		next = i + n
		if f == fieldSubject {
			break // the subject is last, and may hold anything
		}
	}
	// The value of a field runs to the next label.
	for k, x := range hits {
		end := len(s)
		if k+1 < len(hits) {
			end = hits[k+1].start
		}
		if x.val > end {
			continue
		}
		v := strings.Trim(s[x.val:end], " \t*\u00a0")
		if !h.has[x.f] {
			switch x.f {
			case fieldFrom:
				h.from = v
			case fieldDate:
				h.date = v
			case fieldSubject:
				h.subject = v
			}
		}
		if k == 0 {
			h.first = x.f
		}
		h.has[x.f] = true
	}
	if !h.has[fieldSubject] && len(hits) > 0 {
		// "…09:26:50 CETAssunto Integer …": a subject label without its
		// colon at the end of the last field.
		x := hits[len(hits)-1]
		v := s[x.val:]
		lv := lower[x.val:]
		prevLower = false
		for i, r := range v {
			boundary := !prevLower || unicode.IsUpper(r)
			prevLower = unicode.IsLower(r)
			if !boundary || i == 0 {
				continue
			}
			for _, l := range fwdLabelsByLen {
				if fwdLabels[l] == fieldSubject && len(l) >= 4 && strings.HasPrefix(lv[i:], l+" ") {
					h.subject = strings.TrimSpace(v[i+len(l):])
					h.has[fieldSubject] = true
					if x.f == fieldDate {
						h.date = strings.TrimSpace(v[:i])
					}
					break
				}
			}
			if h.has[fieldSubject] {
				break
			}
		}
	}
	return h, len(hits) >= 2
}

// labelAt reports the known label (and its colon) that s starts with, and
// its length in bytes.
func labelAt(s string) (fwdField, int) {
	if s == "" {
		return fieldNone, 0
	}
	for _, l := range labelsByFirst[s[0]] {
		if !strings.HasPrefix(s, l) {
			continue
		}
		n := len(l)
		for n < len(s) && (s[n] == ' ' || s[n] == '\t') {
			n++
		}
		switch {
		case strings.HasPrefix(s[n:], ":"):
			return fwdLabels[l], n + 1
		case strings.HasPrefix(s[n:], "："):
			return fwdLabels[l], n + len("：")
		}
	}
	return fieldNone, 0
}

// lowerSameLen lower-cases s rune by rune where that keeps the byte
// length, so that offsets into it are offsets into s.
func lowerSameLen(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		lr := unicode.ToLower(r)
		if utf8.RuneLen(lr) != utf8.RuneLen(r) {
			lr = r
		}
		sb.WriteRune(lr)
	}
	return sb.String()
}

// isAttribution reports whether a line introduces a quoted reply: "On …,
// John <john@…> wrote:", "Am … schrieb …:", or the "wrote:" Gmail wraps
// onto a line of its own.
func isAttribution(t string) bool {
	if len(t) > 400 || !(strings.HasSuffix(t, ":") || strings.HasSuffix(t, "：")) {
		return false
	}
	if _, _, ok := headerLine(t); ok {
		return false
	}
	if containsAny(strings.ToLower(t), wroteWords) {
		return true
	}
	return strings.Contains(t, "@") && strings.ContainsAny(t, "0123456789")
}

// quotedBelow reports whether the text below line i is quoted deeper, or
// indented: what an attribution line introduces, unlike a note's "this is
// what ada@… wrote on 3 Nov:" above a forward's separator.
func quotedBelow(lines []fline, i int) bool {
	for j := i + 1; j < len(lines) && j <= i+3; j++ {
		if lines[j].text == "" {
			continue
		}
		b := lines[j].body
		return lines[j].depth > lines[i].depth || strings.HasPrefix(b, "\t") || strings.HasPrefix(b, "  ")
	}
	return false
}

// attributionForward reads a forward whose header is a reply's attribution
// line (Outlook for Mac); the subject has said forward.
func attributionForward(p *Parsed, text string, lines []fline) (Forward, bool) {
	for i, l := range lines {
		if l.text == "" || !isAttribution(l.text) {
			continue
		}
		line, start := l.text, l.start
		if i > 0 && lines[i-1].text != "" && lines[i-1].depth == l.depth &&
			(!strings.Contains(line, "@") || strings.HasPrefix(line, "(") || strings.HasPrefix(line, "<")) {
			// The attribution was wrapped: "On …, John Doe\n(john@…) wrote:".
			line, start = lines[i-1].text+" "+line, lines[i-1].start
		}
		from, rest := attributionAuthor(line)
		if from.Addr == "" && from.Name == "" {
			return Forward{}, false
		}
		depth := l.depth
		for _, m := range lines[i+1:] {
			if m.text != "" {
				if m.depth > depth {
					depth = m.depth
				}
				break
			}
		}
		body := ""
		if l.end < len(text) {
			body = text[l.end+1:]
		}
		return Forward{
			From:    from,
			Date:    parseLooseDate(rest),
			Subject: forwardSubject(p.Subject),
			Note:    noteText(text[:start]),
			Text:    forwardBody(body, depth, true),
		}, true
	}
	return Forward{}, false
}
