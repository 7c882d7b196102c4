package mailin

// How a message is read, and why some of it is our own code.
//
// Libraries do the reading: go-message walks the MIME structure (its
// textproto.MultipartReader, the reader behind Entity.MultipartReader,
// used directly so that a part can be read before it is decoded; its
// Header for every header block; message.New to undo transfer encodings,
// with encoding/base64 and mime/quotedprintable), go-message/charset
// converts charsets, mime.ParseMediaType reads parameters (RFC 2231
// included), mime.WordDecoder encoded words, and net/mail addresses and
// dates.
//
// Our own code is kept where the libraries have no limits, or lose data on
// real mail the tests hold; each piece says which case it covers:
//
//   - limits: go-message counts neither depth, parts nor header bytes
//     (walker; splitHeader and readHeaderBlock before a header block is
//     read; partFilter for part headers, which its multipart reader reads);
//   - header blocks are cut into fields here (parseHeader): go-message's
//     reader copies long fields several times over and gives up on the
//     first line it refuses; partFilter mends such lines in part headers;
//   - multiparts (partFilter): only a line of the delimiter alone ends a
//     part (go-message's reader also takes "--b-1" or "--b junk"), however
//     its line ends; one whose boundary never comes or never closes keeps
//     its text;
//   - transfer encodings: misspelt names; text that is not the base64 it
//     claims, or has stray characters in it (decodeBase64); base64 sizes
//     are counted, not decoded (base64Counter);
//   - charsets: unknown ones and raw 8-bit bytes are read as UTF-8 or
//     Windows-1252 (toUTF8), and Latin-1 text with bytes 0x80-0x9F as
//     Windows-1252;
//   - encoded words: an unknown charset (the decoder fails the whole
//     field), a "=?" that is no word (it stops decoding the rest of the
//     field there), base64 words folded over lines (decodeWords);
//   - parameters mime.ParseMediaType refuses whole, or whose RFC 2231
//     charset it drops (lenientMediaValue);
//   - addresses net/mail refuses, or with encoded words in quotes
//     (lenientAddressList); dates it refuses (lenientDate), and zone
//     names, which it reads in the machine's zone;
//   - Message-IDs (parseIDs): go-message/mail's MsgIDList refuses ids
//     without brackets and words between ids, and HTML is made text on
//     x/net/html's tokenizer (htmlToText): no library here does either.

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-message/textproto"
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

// parse reads a whole message.
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
	if len(h.Values("From")) > 1 {
		return nil, ErrMultipleFrom
	}
	w := &walker{lim: lim}
	root := w.walk(h, &memReader{body}, 0, "", true, false)
	return w.message(h, root, func() string { return syntheticID(raw) }, true), nil
}

// memReader reads a slice of the message in memory; a part read whole
// from it is not copied.
type memReader struct{ b []byte }

func (m *memReader) Read(p []byte) (int, error) {
	if len(m.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, m.b)
	m.b = m.b[n:]
	return n, nil
}

// readPart reads r to its end; an error (a multipart that never closes)
// ends it early, keeping what came.
func readPart(r io.Reader) []byte {
	if m, ok := r.(*memReader); ok {
		b := m.b
		m.b = nil
		return b
	}
	// Read into a recycled buffer, kept as one exact copy.
	bp := readBuffers.Get().(*[]byte)
	b := (*bp)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			break
		}
	}
	var out []byte
	if len(b) > 0 {
		out = append([]byte(nil), b...)
	}
	if cap(b) <= 1<<20 {
		*bp = b
		readBuffers.Put(bp)
	}
	return out
}

var readBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// part is one node of the MIME tree.
type part struct {
	mediaType string // lower case, "text/plain" when missing or unreadable
	params    map[string]string
	disp      string // Content-Disposition value, lower case
	dparams   map[string]string
	cte       string // Content-Transfer-Encoding as sent
	contentID string
	children  []*part
	raw       []byte  // text to show: the body with its transfer encoding
	text      *string // raw decoded, once asked for
	size      int64   // attachments: bytes without the transfer encoding
	msg       *Parsed // message/rfc822: the message inside
	cut       bool    // a limit stopped the walk at this part
}

// walker walks one message (and the messages inside it) within the
// limits; its counters are shared by all of them.
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

// chargeHeader counts n header bytes of a part against the budget for all
// part headers of the message (four root headers' worth: attached messages
// bring whole headers along).
func (w *walker) chargeHeader(n int) bool {
	w.hdrBytes += n
	return w.hdrBytes <= 4*w.lim.MaxHeaderBytes
}

// newPart reads the MIME fields of a part's header. defType is the type of
// a part without Content-Type: text/plain, or message/rfc822 inside
// multipart/digest (RFC 2046 §5.1.5).
func (w *walker) newPart(h textproto.Header, defType string) *part {
	p := &part{cte: h.Get("Content-Transfer-Encoding")}
	if d := h.Get("Content-Disposition"); d != "" {
		p.disp, p.dparams = parseMediaValue(d)
	}
	if ct := h.Get("Content-Type"); ct != "" {
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
	if cid := h.Get("Content-Id"); cid != "" {
		p.contentID = strings.Trim(cid, "<> ")
	}
	return p
}

// walk reads the part with header h and body at the given depth (the root
// is at 0) and everything inside it. noHTML says an alternative before it
// had plain text: its HTML would never be shown, so it is not kept.
func (w *walker) walk(h textproto.Header, body io.Reader, depth int, defType string, isRoot, noHTML bool) *part {
	w.parts++
	p := w.newPart(h, defType)
	switch {
	case strings.HasPrefix(p.mediaType, "multipart/"):
		if p.params["boundary"] == "" {
			// Nothing to split on (RFC 2046 §5.1.1 requires the parameter):
			// show the body as text rather than lose it.
			w.problem("multipart without boundary")
			p.mediaType = "text/plain"
			break
		}
		if depth+1 > w.lim.MaxDepth {
			p.cut = true
			w.truncate(fmt.Sprintf("MIME nesting deeper than %d", w.lim.MaxDepth))
			return p
		}
		w.walkMultipart(p, body, depth, noHTML)
		return p
	case p.mediaType == "message/rfc822" || p.mediaType == "message/global":
		if depth+1 > w.lim.MaxDepth {
			p.cut = true
			w.truncate(fmt.Sprintf("MIME nesting deeper than %d", w.lim.MaxDepth))
			p.size = w.transferSize(p, body)
			return p
		}
		w.embedded(p, body, depth+1)
		return p
	}
	switch w.kind(p, isRoot) {
	case kindHTML:
		if !noHTML {
			p.raw = readPart(body)
		}
	case kindText:
		p.raw = readPart(body)
	case kindAttachment:
		p.size = w.transferSize(p, body)
	}
	return p
}

// walkMultipart reads the parts of a multipart with go-message's reader,
// through a partFilter, until a limit is reached.
func (w *walker) walkMultipart(p *part, body io.Reader, depth int, noHTML bool) {
	boundary := p.params["boundary"]
	f := newPartFilter(body, boundary, w)
	defer f.release()
	mr := textproto.NewMultipartReader(f, privateBoundary(boundary))
	childType := ""
	if p.mediaType == "multipart/digest" {
		childType = "message/rfc822"
	}
	for {
		next, err := mr.NextPart()
		switch {
		case err == io.EOF:
			return
		case err != nil && f.overLimits:
			w.truncate("MIME part header too large")
			return
		case err != nil && !f.seenDelim:
			// No boundary at all: keep the content as text rather than
			// lose it.
			w.problem("multipart boundary not found")
			p.mediaType, p.raw, p.size = "text/plain", f.preamble, int64(len(f.preamble))
			return
		case err != nil && f.srcEOF && !f.closed:
			w.problem("multipart without closing boundary")
			return
		case err != nil:
			w.problem("unreadable multipart: %s", short(err.Error()))
			return
		}
		if w.parts >= w.lim.MaxParts {
			w.truncate(fmt.Sprintf("more than %d MIME parts", w.lim.MaxParts))
			return
		}
		c := w.walk(next.Header, next, depth+1, childType, false, noHTML)
		p.children = append(p.children, c)
		if p.mediaType == "multipart/alternative" && !noHTML {
			t, _ := w.text(c, false, false)
			noHTML = t != ""
		}
	}
}

// embedded reads an attached message (message/rfc822 or message/global)
// as it streams: its bytes are counted and, when it has no Message-ID,
// hashed for one, without holding them.
func (w *walker) embedded(p *part, body io.Reader, depth int) {
	dec, _ := w.decodeTransfer(p.cte, body)
	cr := &countReader{r: dec}
	hb, read, rest, ok := readHeaderBlock(cr, w.lim.MaxHeaderBytes)
	if !ok || !w.chargeHeader(len(hb)) {
		p.cut = true
		w.truncate("header of an attached message too large")
		p.size = cr.drain()
		return
	}
	h := parseHeader(hb)
	if h.Len() > 0 && len(h.Values("From")) > 1 {
		w.problem("attached message has more than one From field")
	}
	if _, ok := messageID(h); !ok {
		cr.startHash(read)
	}
	root := w.walk(h, rest, depth, "", true, false)
	p.size = cr.drain()
	p.msg = w.message(h, root, cr.sum, false)
}

// countReader counts the bytes of an attached message and, once started,
// hashes them for syntheticID.
type countReader struct {
	r io.Reader
	n int64
	h *idHash
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	return n, err
}

// startHash hashes from here on, after the bytes already read.
func (c *countReader) startHash(read []byte) {
	c.h = newIDHash()
	c.h.Write(read)
}

// drain reads to the end and returns the count.
func (c *countReader) drain() int64 {
	_, _ = io.Copy(io.Discard, c)
	return c.n
}

func (c *countReader) sum() string {
	if c.h == nil {
		return ""
	}
	return c.h.ID()
}

// transferSize is the size of a part's body without its transfer encoding,
// read as it streams. Base64 is counted rather than decoded: decoding only
// to count costs a decode, and the standard decoder stops at a stray
// character or a cut-off last quantum, which would make the size short.
func (w *walker) transferSize(p *part, body io.Reader) int64 {
	if w.transferEncoding(p.cte) == cteBase64 {
		c := &base64Counter{r: body}
		_, _ = io.Copy(io.Discard, c)
		return c.size()
	}
	dec, _ := w.decodeTransfer(p.cte, body)
	n, _ := io.Copy(io.Discard, dec)
	return n
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
// fields, text, attachments and the messages attached to it. synthetic
// gives the Message-ID made for mail without one.
func (w *walker) message(h textproto.Header, root *part, synthetic func() string, top bool) *Parsed {
	p := &Parsed{}
	hint := headerCharset(root)
	from := parseAddressList(h.Get("From"), hint)
	if len(from) > 0 {
		p.From, p.Authors = from[0], from
		if len(from) > 1 {
			w.problem("From names %d mailboxes; the first is taken", len(from))
		}
	} else if top {
		w.problem("no From address")
	}
	for _, v := range h.Values("To") {
		p.To = append(p.To, parseAddressList(v, hint)...)
	}
	for _, v := range h.Values("Cc") {
		p.Cc = append(p.Cc, parseAddressList(v, hint)...)
	}
	// The envelope recipient as the delivering MTA recorded it: where mail
	// fetched from a mailbox was really sent (a reply address, say).
	for _, k := range []string{"Delivered-To", "X-Original-To", "Envelope-To"} {
		for _, v := range h.Values(k) {
			for _, a := range parseAddressList(v, hint) {
				if a.Addr != "" && !slices.Contains(p.DeliveredTo, a.Addr) {
					p.DeliveredTo = append(p.DeliveredTo, a.Addr)
				}
			}
		}
	}
	p.Subject = decodeHeaderText(h.Get("Subject"), hint)
	p.Date = parseDate(h.Get("Date"))
	if id, ok := messageID(h); ok {
		p.MessageID = id
	} else {
		p.MessageID, p.Synthetic = synthetic(), true
	}
	p.InReplyTo = parseIDs(h.Get("In-Reply-To"), false)
	p.References = limitRefs(parseIDs(h.Get("References"), false))
	p.ThreadIndex = cleanLine(validUTF8(h.Get("Thread-Index")))

	var sig reportSignals
	w.listAttachments(root, true, p, &sig)
	p.Text, p.FromHTML = w.text(root, true, true)

	detectAuto(h, p, sig)
	if top {
		p.Truncated = w.truncated
		p.Problems = w.problems
	}
	return p
}

// messageID is the Message-ID field's id, if it has a usable one.
func messageID(h textproto.Header) (string, bool) {
	if !h.Has("Message-Id") {
		return "", false
	}
	if ids := parseIDs(h.Get("Message-Id"), true); len(ids) > 0 {
		return ids[0], true
	}
	return "", false
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
// images included) and the messages attached. It does not enter those:
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
			Name: attachmentName(p, ""),
			Type: p.mediaType,
			Size: p.size,
		})
	case kindMessage:
		out.Embedded = append(out.Embedded, p.msg)
		out.Attachments = append(out.Attachments, store.Attachment{
			Name: attachmentName(p, p.msg.Subject),
			Type: p.mediaType,
			Size: p.size,
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
func attachmentName(p *part, subject string) string {
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
