package mailin

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tidings/tidings/store"
)

// Default limits (see Limits).
const (
	defaultMaxDepth       = 20
	defaultMaxParts       = 500
	defaultMaxHeaderBytes = 256 << 10
	maxProblems           = 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = defaultMaxDepth
	}
	if l.MaxParts <= 0 {
		l.MaxParts = defaultMaxParts
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = defaultMaxHeaderBytes
	}
	return l
}

// parse reads a whole message. The MIME tree is walked over raw in place,
// by our own code rather than go-message's reader: go-message has no depth,
// part or header-size limits (a 50,000-deep nesting never finishes), and
// with the message in memory already, slicing it costs no copies.
func parse(raw []byte, lim Limits) (p *Parsed, err error) {
	defer func() {
		// A last guard: a panic here is a bug to fix, but one message
		// must not take the server down with it.
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("mailin: parse: internal error: %v", r)
		}
	}()
	lim = lim.withDefaults()
	hb, body, ok := splitHeader(raw, lim.MaxHeaderBytes)
	if !ok {
		return nil, ErrHeaderTooLarge
	}
	h := parseHeader(hb)
	if h.count("From") > 1 {
		return nil, ErrMultipleFrom
	}
	w := &walker{lim: lim}
	root := w.build(h, body, 0, "")
	p = w.message(root, raw, true)
	return p, nil
}

// part is one node of the MIME tree. body still has its transfer encoding.
type part struct {
	hdr       header
	mediaType string // lower case, "text/plain" when missing or unreadable
	params    map[string]string
	body      []byte
	children  []*part
	msg       *part  // message/rfc822: the message inside
	msgRaw    []byte // message/rfc822: its bytes, transfer-decoded
	cut       bool   // a limit stopped the walk at this part
	cte       string // transfer encoding: "base64", "qp" or "" (none)
	disp      string // Content-Disposition value, lower case
	dparams   map[string]string
}

// walker builds the tree of one message (and of the messages inside it)
// within the limits; its counters are shared by all of them.
type walker struct {
	lim       Limits
	parts     int
	hdrBytes  int
	truncated bool
	problems  []string
}

func (w *walker) problem(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	for _, have := range w.problems {
		if have == s {
			return
		}
	}
	if len(w.problems) < maxProblems {
		w.problems = append(w.problems, s)
	}
}

// short makes sender-controlled text fit for a problem report.
func short(s string) string {
	s = cleanLine(s)
	if len(s) > 64 {
		s = strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}

func (w *walker) truncate(why string) {
	w.truncated = true
	w.problem("truncated: %s", why)
}

// build makes the part for header h and body at the given depth (the root
// is at 0). defType is the type of a part without Content-Type: text/plain,
// or message/rfc822 inside multipart/digest (RFC 2046 §5.1.5).
func (w *walker) build(h header, body []byte, depth int, defType string) *part {
	w.parts++
	p := &part{hdr: h, body: body}
	p.cte = w.transferEncoding(h)
	if d := h.get("Content-Disposition"); d != nil {
		p.disp, p.dparams = parseMediaValue(d)
	}
	if ct := h.get("Content-Type"); ct != nil {
		p.mediaType, p.params = parseMediaValue(ct)
		if i := strings.IndexByte(p.mediaType, '/'); i <= 0 || i == len(p.mediaType)-1 {
			if p.mediaType != "" {
				w.problem("unreadable content type %q", short(p.mediaType))
			}
			p.mediaType = ""
		}
	}
	if p.mediaType == "" {
		p.mediaType = defType
		if p.mediaType == "" {
			p.mediaType = "text/plain"
		}
	}
	switch {
	case strings.HasPrefix(p.mediaType, "multipart/"):
		boundary := p.params["boundary"]
		if boundary == "" {
			// Nothing to split on (RFC 2046 §5.1.1 requires the parameter):
			// show the body as text rather than lose it.
			w.problem("multipart without boundary")
			p.mediaType = "text/plain"
			return p
		}
		if depth+1 > w.lim.MaxDepth {
			p.cut = true
			w.truncate(fmt.Sprintf("MIME nesting deeper than %d", w.lim.MaxDepth))
			return p
		}
		childType := ""
		if p.mediaType == "multipart/digest" {
			childType = "message/rfc822"
		}
		w.splitParts(p, boundary, depth, childType)
	case p.mediaType == "message/rfc822" || p.mediaType == "message/global":
		if depth+1 > w.lim.MaxDepth {
			p.cut = true
			w.truncate(fmt.Sprintf("MIME nesting deeper than %d", w.lim.MaxDepth))
			return p
		}
		raw := w.decodeBody(p)
		ih, ib, ok := splitHeader(raw, w.lim.MaxHeaderBytes)
		if !ok || !w.chargeHeader(len(ih)) {
			p.cut = true
			w.truncate("header of an attached message too large")
			return p
		}
		p.msgRaw = raw
		p.msg = w.build(parseHeader(ih), ib, depth+1, "")
	}
	return p
}

// chargeHeader counts n header bytes of a part against the budget for all
// part headers of the message (four root headers' worth: attached messages
// bring whole headers along).
func (w *walker) chargeHeader(n int) bool {
	w.hdrBytes += n
	return w.hdrBytes <= 4*w.lim.MaxHeaderBytes
}

// splitParts splits a multipart body at its boundary (RFC 2046 §5.1.1) and
// builds the children until a limit is reached.
func (w *walker) splitParts(p *part, boundary string, depth int, childType string) {
	delim := make([]byte, 0, len(boundary)+2)
	delim = append(append(delim, "--"...), boundary...)
	body := p.body
	pos := 0
	start := -1 // start of the current part's content
	for {
		i := bytes.Index(body[pos:], delim)
		if i < 0 {
			break
		}
		at := pos + i
		pos = at + 1
		if at > 0 && body[at-1] != '\n' {
			continue
		}
		// After the boundary: "--" for the last one, then only blanks.
		j := at + len(delim)
		closing := j+1 < len(body) && body[j] == '-' && body[j+1] == '-'
		if closing {
			j += 2
		}
		for j < len(body) && (body[j] == ' ' || body[j] == '\t' || body[j] == '\r') {
			j++
		}
		if j < len(body) && body[j] != '\n' {
			continue // a longer boundary that starts with ours
		}
		next := min(j+1, len(body))
		if start >= 0 {
			end := at
			if end > 0 && body[end-1] == '\n' {
				end--
			}
			if end > start && body[end-1] == '\r' {
				end--
			}
			if !w.addChild(p, body[start:max(end, start)], depth, childType) {
				return
			}
		}
		if closing {
			return
		}
		start = next
		pos = next
	}
	if start >= 0 && start < len(body) {
		w.problem("multipart without closing boundary")
		w.addChild(p, body[start:], depth, childType)
	} else if start < 0 {
		// No boundary at all: keep the content as text rather than lose it.
		w.problem("multipart boundary not found")
		p.mediaType = "text/plain"
	}
}

// addChild builds one child part; false means a limit was hit and the walk
// of this multipart stops.
func (w *walker) addChild(p *part, b []byte, depth int, childType string) bool {
	if w.parts >= w.lim.MaxParts {
		w.truncate(fmt.Sprintf("more than %d MIME parts", w.lim.MaxParts))
		return false
	}
	hb, body, ok := splitHeader(b, w.lim.MaxHeaderBytes)
	if !ok || !w.chargeHeader(len(hb)) {
		w.truncate("MIME part header too large")
		return false
	}
	p.children = append(p.children, w.build(parseHeader(hb), body, depth+1, childType))
	return true
}

// transferEncoding names the Content-Transfer-Encoding of a part: "base64",
// "qp", or "" for none (7bit, 8bit, binary and anything we cannot decode).
func (w *walker) transferEncoding(h header) string {
	v := h.get("Content-Transfer-Encoding")
	if v == nil {
		return ""
	}
	s := strings.ToLower(stripComments(unfold(v)))
	if i := strings.IndexAny(s, ";"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	switch squeeze(s) {
	case "base64":
		return "base64"
	case "quotedprintable", "qp":
		return "qp"
	case "", "7bit", "8bit", "8bits", "7bits", "binary", "plain", "none", "text":
		return ""
	}
	w.problem("unknown transfer encoding %q", short(s))
	return ""
}

// squeeze drops blanks, "-" and "_": "Quoted Printable" and "quoted_printable"
// are quoted-printable too.
func squeeze(s string) string {
	if !strings.ContainsAny(s, " -_") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, s)
}

// decodeBody returns the body of p without its transfer encoding. Without
// one, the bytes are not copied.
func (w *walker) decodeBody(p *part) []byte {
	switch p.cte {
	case "base64":
		if strings.HasPrefix(p.mediaType, "text/") && !looksBase64(p.body) {
			w.problem("text declared base64 is not")
			return p.body
		}
		return decodeBase64(make([]byte, 0, len(p.body)*3/4+3), p.body)
	case "qp":
		return decodeQP(make([]byte, 0, len(p.body)), p.body)
	}
	return p.body
}

// looksBase64 reports whether most of b is base64 alphabet: text labelled
// base64 that is plainly not (it happens) is shown as it is.
func looksBase64(b []byte) bool {
	bad := 0
	for _, c := range b {
		// Blanks count: base64 lines have none inside.
		if b64Table[c] == b64Invalid && c != '=' && c != '\r' && c != '\n' {
			bad++
		}
	}
	return bad*20 <= len(b)
}

// decodedSize is the size of p's content without its transfer encoding.
func (w *walker) decodedSize(p *part) int64 {
	switch p.cte {
	case "base64":
		return base64Size(p.body)
	case "qp":
		return int64(len(decodeQP(nil, p.body)))
	}
	return int64(len(p.body))
}

// What a leaf part is to the reader.
const (
	kindContainer = iota
	kindText
	kindHTML
	kindAttachment
	kindMessage
	kindSkip // machine-readable report data and signatures
)

func (w *walker) kind(p *part, isRoot bool) int {
	if len(p.children) > 0 || strings.HasPrefix(p.mediaType, "multipart/") {
		return kindContainer
	}
	if p.msg != nil {
		return kindMessage
	}
	switch p.mediaType {
	case "message/delivery-status", "message/global-delivery-status",
		"message/disposition-notification", "message/global-disposition-notification",
		"message/feedback-report", "text/rfc822-headers", "message/global-headers",
		"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature",
		"application/pgp-encrypted":
		return kindSkip
	case "message/rfc822", "message/global":
		// Cut by a limit: still an attachment.
		return kindAttachment
	case "text/plain", "text/html":
		if p.disp == "attachment" {
			return kindAttachment
		}
		if !isRoot && (p.dparams["filename"] != "" || p.params["name"] != "") {
			return kindAttachment
		}
		if p.mediaType == "text/html" {
			return kindHTML
		}
		return kindText
	}
	return kindAttachment
}

// message assembles what tidings reads from one message: its header
// fields, text, attachments and the messages attached to it.
func (w *walker) message(root *part, raw []byte, top bool) *Parsed {
	h := root.hdr
	p := &Parsed{}
	hint := headerCharset(root)
	froms := parseAddressList(h.get("From"), hint)
	if len(froms) > 0 {
		p.From = froms[0]
		if len(froms) > 1 {
			w.problem("From names %d mailboxes; the first is taken", len(froms))
		}
	} else if top {
		w.problem("no From address")
	}
	if !top && h.count("From") > 1 {
		w.problem("attached message has more than one From field")
	}
	for _, f := range h {
		switch {
		case strings.EqualFold(f.name, "To"):
			p.To = append(p.To, parseAddressList(f.value, hint)...)
		case strings.EqualFold(f.name, "Cc"):
			p.Cc = append(p.Cc, parseAddressList(f.value, hint)...)
		}
	}
	p.Subject = decodeHeaderText(h.get("Subject"), hint)
	p.Date = parseDate(h.get("Date"))
	if ids := parseIDs(h.get("Message-ID"), true); len(ids) > 0 {
		p.MessageID = ids[0]
	} else {
		p.MessageID, p.Synthetic = syntheticID(raw), true
	}
	p.InReplyTo = parseIDs(h.get("In-Reply-To"), false)
	p.References = limitRefs(parseIDs(h.get("References"), false))
	p.ThreadIndex = cleanLine(h.text("Thread-Index"))

	var sig reportSignals
	w.listAttachments(root, true, p, &sig)
	text, fromHTML := w.text(root, true, true)
	p.Text, p.FromHTML = text, fromHTML

	detectAuto(h, p, sig)
	if top {
		p.Truncated = w.truncated
		p.Problems = w.problems
	}
	return p
}

// headerCharset is the charset of the first text of the message when it is
// neither ASCII nor UTF-8: the best guess for raw 8-bit header bytes that
// are not UTF-8.
func headerCharset(p *part) string {
	for depth := 0; depth < 8; depth++ {
		if len(p.children) == 0 {
			break
		}
		p = p.children[0]
	}
	if !strings.HasPrefix(p.mediaType, "text/") {
		return ""
	}
	switch cs := normCharset(p.params["charset"]); cs {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		return ""
	default:
		return cs
	}
}

// reportSignals are what the body says about the kind of message.
type reportSignals struct {
	dsn, mdn, arf bool
}

// listAttachments walks the tree in order, listing attachments (inline
// images included) and parsing attached messages. It does not enter those:
// their parts are theirs.
func (w *walker) listAttachments(p *part, isRoot bool, out *Parsed, sig *reportSignals) {
	if p.mediaType == "multipart/report" {
		switch strings.ToLower(p.params["report-type"]) {
		case "delivery-status", "global-delivery-status":
			sig.dsn = true
		case "disposition-notification", "global-disposition-notification":
			sig.mdn = true
		case "feedback-report":
			sig.arf = true
		}
	}
	switch p.mediaType {
	case "message/delivery-status", "message/global-delivery-status":
		sig.dsn = true
	case "message/disposition-notification", "message/global-disposition-notification":
		sig.mdn = true
	case "message/feedback-report":
		sig.arf = true
	}
	switch w.kind(p, isRoot) {
	case kindContainer:
		for _, c := range p.children {
			if p.mediaType == "multipart/alternative" && isRendering(c) {
				continue
			}
			w.listAttachments(c, false, out, sig)
		}
	case kindAttachment:
		out.Attachments = append(out.Attachments, store.Attachment{
			Name: w.attachmentName(p, ""),
			Type: p.mediaType,
			Size: w.decodedSize(p),
		})
	case kindMessage:
		inner := w.message(p.msg, p.msgRaw, false)
		out.Embedded = append(out.Embedded, inner)
		out.Attachments = append(out.Attachments, store.Attachment{
			Name: w.attachmentName(p, inner.Subject),
			Type: p.mediaType,
			Size: int64(len(p.msgRaw)),
		})
	}
}

// isRendering reports whether a part of a multipart/alternative is just
// another rendering of the text (enriched text, Apple Watch HTML, AMP), not
// a file the sender attached. Calendar invitations are kept: they are
// useful as files.
func isRendering(p *part) bool {
	return strings.HasPrefix(p.mediaType, "text/") && p.mediaType != "text/calendar" &&
		p.disp != "attachment" && p.dparams["filename"] == "" && p.params["name"] == ""
}

// attachmentName is the file name sent, or one made from the subject of an
// attached message, or from the type.
func (w *walker) attachmentName(p *part, subject string) string {
	name := fileName(p.dparams["filename"])
	if name == "" {
		name = fileName(p.params["name"])
	}
	if name != "" {
		return name
	}
	if p.msg != nil || p.mediaType == "message/rfc822" || p.mediaType == "message/global" {
		if subject == "" {
			subject = "message"
		}
		return fileName(strings.Map(func(r rune) rune {
			if r == '/' || r == '\\' {
				return '-'
			}
			return r
		}, subject)) + ".eml"
	}
	return "attachment" + extensionOf(p.mediaType)
}

// extensionOf gives a file extension for the common types of unnamed
// attachments (inline images mostly). A fixed table, so that names do not
// depend on the machine's mime.types.
func extensionOf(mediaType string) string {
	switch mediaType {
	case "image/png":
		return ".png"
	case "image/jpeg", "image/jpg", "image/pjpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "image/svg+xml":
		return ".svg"
	case "image/bmp":
		return ".bmp"
	case "image/tiff":
		return ".tif"
	case "application/pdf":
		return ".pdf"
	case "application/zip":
		return ".zip"
	case "text/calendar":
		return ".ics"
	case "text/plain":
		return ".txt"
	case "text/html":
		return ".html"
	case "text/csv":
		return ".csv"
	case "text/x-vcard", "text/vcard":
		return ".vcf"
	case "application/ms-tnef", "application/vnd.ms-tnef":
		return ".dat"
	}
	return ""
}

// text returns the readable text of p: in multipart/alternative the first
// plain text alternative (HTML converted only when no alternative has plain
// text), in multipart/related its root, in multipart/signed and report its
// first part, elsewhere the inline text parts joined. allowHTML false asks
// for plain text only.
func (w *walker) text(p *part, isRoot, allowHTML bool) (string, bool) {
	switch w.kind(p, isRoot) {
	case kindText:
		return w.leafText(p), false
	case kindHTML:
		if !allowHTML {
			return "", false
		}
		return w.leafText(p), true
	case kindContainer:
	default:
		return "", false
	}
	if p.cut || len(p.children) == 0 {
		return "", false
	}
	switch p.mediaType {
	case "multipart/alternative":
		for _, c := range p.children {
			if t, _ := w.text(c, false, false); t != "" {
				return t, false
			}
		}
		if !allowHTML {
			return "", false
		}
		// RFC 2046 §5.1.4: the last alternative is the richest.
		for i := len(p.children) - 1; i >= 0; i-- {
			if t, h := w.text(p.children[i], false, true); t != "" {
				return t, h
			}
		}
		return "", false
	case "multipart/related":
		return w.text(relatedRoot(p), false, allowHTML)
	case "multipart/signed", "multipart/report":
		return w.text(p.children[0], false, allowHTML)
	case "multipart/encrypted":
		w.problem("encrypted content")
		return "", false
	}
	var sb strings.Builder
	fromHTML := false
	for _, c := range p.children {
		t, h := w.text(c, false, allowHTML)
		if t == "" {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteString("\n\n")
		}
		sb.WriteString(t)
		fromHTML = fromHTML || h
	}
	return sb.String(), fromHTML
}

// relatedRoot is the root part of a multipart/related: the one named by
// the start parameter, else the first (RFC 2387 §3.2).
func relatedRoot(p *part) *part {
	if start := strings.Trim(p.params["start"], "<> "); start != "" {
		for _, c := range p.children {
			if strings.Trim(c.hdr.text("Content-ID"), "<> ") == start {
				return c
			}
		}
	}
	return p.children[0]
}

// leafText decodes a text/plain or text/html part to clean text.
func (w *walker) leafText(p *part) string {
	b := w.decodeBody(p)
	cs := p.params["charset"]
	if cs == "" && p.mediaType == "text/html" {
		cs = sniffHTMLCharset(b)
	}
	s, known := decodeCharset(cs, b)
	if !known {
		w.problem("unknown charset %q", short(cs))
	}
	if p.mediaType == "text/html" {
		return cleanTextBlanks(htmlToText([]byte(s)), 1)
	}
	if strings.EqualFold(p.params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(p.params["delsp"], "yes"))
	}
	return cleanText(s)
}

// sniffHTMLCharset finds a <meta> charset in the start of an HTML body
// sent without a charset parameter.
func sniffHTMLCharset(b []byte) string {
	if len(b) > 2048 {
		b = b[:2048]
	}
	i := bytes.Index(bytes.ToLower(b), []byte("charset="))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(b[i+len("charset="):], "\"' ")
	end := bytes.IndexAny(rest, "\"'; />")
	if end < 0 || end > 40 {
		return ""
	}
	return string(rest[:end])
}

// unflow joins the soft line breaks of format=flowed text (RFC 3676 §4):
// a line ending in a space continues on the next line of the same quote
// depth; space-stuffing is removed; the signature separator never flows.
func unflow(s string, delsp bool) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	var sb strings.Builder
	sb.Grow(len(s))
	joining := false
	joinDepth := 0
	for _, line := range lines {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		content := strings.TrimPrefix(line[depth:], " ") // space-stuffing
		if joining && depth != joinDepth {
			sb.WriteByte('\n') // quote depth changed: the flow ends here
			joining = false
		}
		if !joining {
			if depth > 0 {
				sb.WriteString(strings.Repeat(">", depth))
				sb.WriteByte(' ')
			}
		}
		flowed := strings.HasSuffix(content, " ") && content != "-- "
		if flowed && delsp {
			content = content[:len(content)-1]
		}
		sb.WriteString(content)
		if flowed {
			joining, joinDepth = true, depth
			continue
		}
		joining = false
		sb.WriteByte('\n')
	}
	return sb.String()
}
