package mailin

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// htmlToText renders an HTML body as readable plain text: paragraphs and
// line breaks kept, lists as "- " or "1. " items, blockquotes as "> "
// lines (so quoted mail reads as quoted), links as "text (url)", images by
// their alt text, and head, script and style left out. What mail clients
// mark as quote or signature comes out so that SplitReply finds it: Yahoo's
// quote as "> " lines, Outlook's reply header below its rule of
// underscores, a signature (Gmail, Thunderbird, Outlook on the web, iOS)
// below a "-- " line. It runs on the
// tokenizer rather than a parsed tree, so any nesting depth costs nothing
// extra and no input can make it recurse.
func htmlToText(src []byte) string {
	z := html.NewTokenizer(bytes.NewReader(src))
	var w htmlWriter
	w.out = make([]byte, 0, len(src)/2)
	w.lineStart = true
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			w.endLink()
			if w.sigMarks {
				return dropDoubleSigDelimiter(string(w.out))
			}
			return string(w.out)
		case html.TextToken:
			if w.skip > 0 || w.inHead {
				continue
			}
			w.text(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			w.start(z, string(name), hasAttr, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			w.end(string(name))
		}
	}
}

// Prefixes stop growing past these depths: every line of deeply nested
// HTML would otherwise cost as much as its nesting (quadratic output).
const (
	maxQuotePrefix = 10
	maxListIndent  = 10
)

type htmlWriter struct {
	out       []byte
	lineStart bool // nothing but the quote prefix written on this line yet
	pendNL    int  // line breaks owed before the next text
	nlQuote   int  // quote depth when the first of them was owed
	space     bool // a collapsed space owed before the next text
	quote     int  // blockquote depth
	pre       int  // depth of <pre>
	skip      int  // inside script, style, title, ...
	inHead    bool
	lists     []int // one per open list: -1 for <ul>, else the next <ol> number
	cells     int   // cells begun in the current table row
	tightPara bool  // inside an Outlook paragraph: no blank line around it

	// divs counts open <div>s; quoteDivs holds the counts at which a div
	// that quotes (Yahoo's) was opened, so that its end ends the quote.
	divs      int
	quoteDivs []int
	sigMarks  bool // a "-- " line was written for a signature container

	inLink    bool
	linkHref  string
	linkStart int
}

// block asks for at least n line breaks (2: a blank line) before the next
// text; nothing is owed at the very start.
func (w *htmlWriter) block(n int) {
	if len(w.out) == 0 {
		return
	}
	if w.pendNL == 0 {
		w.nlQuote = w.quote
	}
	if w.pendNL < n {
		w.pendNL = n
	}
	w.space = false
}

// lineBreak owes one more line break (<br>, a newline in <pre>).
func (w *htmlWriter) lineBreak() {
	if len(w.out) == 0 {
		return
	}
	w.block(w.pendNL + 1)
}

// flush writes the line breaks and the quote prefix owed before text.
func (w *htmlWriter) flush() {
	if w.pendNL > 0 && len(w.out) > 0 {
		n := w.pendNL
		if n > 2 {
			n = 2
		}
		// Blank lines between two quote depths belong to the shallower.
		q := min(w.quote, w.nlQuote, maxQuotePrefix)
		w.out = append(w.out, '\n')
		for ; n > 1; n-- {
			for i := 0; i < q; i++ {
				w.out = append(w.out, '>')
			}
			w.out = append(w.out, '\n')
		}
		w.lineStart = true
	}
	w.pendNL = 0
	if w.lineStart {
		for i := 0; i < min(w.quote, maxQuotePrefix); i++ {
			w.out = append(w.out, '>', ' ')
		}
	}
}

func (w *htmlWriter) writeRune(r rune) {
	w.flush()
	if w.space && !w.lineStart {
		w.out = append(w.out, ' ')
	}
	w.space = false
	w.lineStart = false
	w.out = utf8.AppendRune(w.out, r)
}

// text writes a text token: white space collapsed outside <pre>.
func (w *htmlWriter) text(t []byte) {
	for len(t) > 0 {
		r, n := utf8.DecodeRune(t)
		t = t[n:]
		switch r {
		case ' ', '\t', '\n', '\r', '\f':
			if w.pre > 0 {
				if r == '\n' {
					w.lineBreak()
				} else if r != '\r' {
					w.flush()
					w.lineStart = false
					w.out = append(w.out, byte(r))
				}
				continue
			}
			w.space = true
		case 0xa0: // &nbsp;: a space that does not collapse
			w.writeRune(' ')
		case 0x200b, 0xfeff, 0x034f, 0x00ad, 0:
			// Invisible padding (preheader filler, soft hyphens).
		default:
			w.writeRune(r)
		}
	}
}

func (w *htmlWriter) raw(s string) {
	for _, r := range s {
		w.writeRune(r)
	}
}

func attr(z *html.Tokenizer, hasAttr bool, want string) string {
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		if string(k) == want {
			return string(v)
		}
	}
	return ""
}

func (w *htmlWriter) start(z *html.Tokenizer, name string, hasAttr, selfClosing bool) {
	switch name {
	case "head":
		w.inHead = true
		return
	case "script", "style", "title", "template", "noscript", "xml":
		if !selfClosing {
			w.skip++
		}
		return
	case "meta", "link", "base":
		return
	}
	w.inHead = false
	switch name {
	case "br":
		w.lineBreak()
	case "p":
		// Outlook writes every line as a <p class=MsoNormal> without
		// margins; empty ones (&nbsp;) make its blank lines.
		w.tightPara = strings.Contains(attr(z, hasAttr, "class"), "MsoNormal")
		if w.tightPara {
			w.block(1)
		} else {
			w.block(2)
		}
	case "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "table", "dl", "figure":
		w.block(2)
		if name == "pre" && !selfClosing {
			w.pre++
			if class, id := classAndID(z, hasAttr); isSignatureContainer(class, id) {
				w.sigDelimiter()
			}
		}
	case "blockquote":
		w.block(1)
		w.quote++
	case "ul", "ol":
		w.block(1)
		n := -1
		if name == "ol" {
			n = 1
			if s := attr(z, hasAttr, "start"); s != "" {
				if v, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && v >= 0 && v < 1e6 {
					n = v
				}
			}
		}
		if !selfClosing {
			w.lists = append(w.lists, n)
		}
	case "li":
		w.block(1)
		depth := len(w.lists)
		for i := 1; i < min(depth, maxListIndent); i++ {
			w.raw("  ")
		}
		if depth > 0 && w.lists[depth-1] >= 0 {
			w.raw(strconv.Itoa(w.lists[depth-1]) + ". ")
			w.lists[depth-1]++
		} else {
			w.raw("- ")
		}
		w.space = false
	case "tr":
		w.block(1)
		w.cells = 0
	case "td", "th":
		if w.cells > 0 {
			w.space = true
		}
		w.cells++
	case "div":
		w.block(1)
		class, id := classAndID(z, hasAttr)
		if selfClosing {
			break
		}
		w.divs++
		w.container(class, id)
	case "section", "article", "header", "footer", "address", "center", "main", "nav", "aside",
		"form", "fieldset", "dt", "dd", "figcaption", "caption", "tbody", "thead", "tfoot", "body", "html":
		w.block(1)
	case "img":
		alt := strings.TrimSpace(attr(z, hasAttr, "alt"))
		switch {
		case alt == "":
		case utf8.RuneCountInString(alt) <= 3:
			// Emoji sent as images (Gmail) keep their meaning.
			w.raw(alt)
		default:
			w.space = true
			w.raw("[" + alt + "]")
			w.space = true
		}
	case "a":
		w.endLink()
		if href := strings.TrimSpace(attr(z, hasAttr, "href")); showLink(href) && !selfClosing {
			w.inLink, w.linkHref, w.linkStart = true, href, len(w.out)
		}
	}
}

func (w *htmlWriter) end(name string) {
	switch name {
	case "head":
		w.inHead = false
	case "script", "style", "title", "template", "noscript", "xml":
		if w.skip > 0 {
			w.skip--
		}
	case "p":
		if w.tightPara {
			w.block(1)
		} else {
			w.block(2)
		}
		w.tightPara = false
	case "h1", "h2", "h3", "h4", "h5", "h6", "table", "dl", "figure":
		w.block(2)
	case "pre":
		if w.pre > 0 {
			w.pre--
		}
		w.block(2)
	case "blockquote":
		w.block(1)
		if w.quote > 0 {
			w.quote--
		}
	case "ul", "ol":
		if len(w.lists) > 0 {
			w.lists = w.lists[:len(w.lists)-1]
		}
		w.block(1)
	case "div":
		w.block(1)
		if n := len(w.quoteDivs); n > 0 && w.quoteDivs[n-1] == w.divs {
			w.quoteDivs = w.quoteDivs[:n-1]
			if w.quote > 0 {
				w.quote--
			}
		}
		if w.divs > 0 {
			w.divs--
		}
	case "li", "tr", "section", "article", "header", "footer", "address", "center", "main", "nav", "aside",
		"form", "fieldset", "dt", "dd", "figcaption", "caption":
		w.block(1)
	case "td", "th":
		w.space = true
	case "a":
		w.endLink()
	}
}

// endLink closes an open link: its URL follows its text unless the text
// says the same already.
func (w *htmlWriter) endLink() {
	if !w.inLink {
		return
	}
	w.inLink = false
	if w.linkStart > len(w.out) {
		return
	}
	text := strings.TrimSpace(string(w.out[w.linkStart:]))
	if text == "" {
		return
	}
	show := w.linkHref
	if len(show) > 7 && strings.EqualFold(show[:7], "mailto:") {
		show = show[7:]
		if q := strings.IndexByte(show, '?'); q >= 0 {
			show = show[:q]
		}
	}
	if sameLink(text, show) {
		return
	}
	w.space = true
	w.raw("(" + show + ")")
}

// showLink reports whether a link target is worth showing: not an anchor,
// script, inline image or embedded part.
func showLink(href string) bool {
	if href == "" || href[0] == '#' {
		return false
	}
	l := strings.ToLower(href)
	for _, p := range []string{"javascript:", "data:", "cid:", "about:", "vbscript:"} {
		if strings.HasPrefix(l, p) {
			return false
		}
	}
	return true
}

// sameLink reports whether link text already shows its target.
func sameLink(text, href string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		for _, p := range []string{"https://", "http://", "mailto:", "www."} {
			s = strings.TrimPrefix(s, p)
		}
		return strings.TrimRight(s, "/")
	}
	t, h := norm(text), norm(href)
	return t == h || strings.Contains(t, h)
}

// classAndID reads a start tag's class and id attributes.
func classAndID(z *html.Tokenizer, hasAttr bool) (class, id string) {
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		switch string(k) {
		case "class":
			class = string(v)
		case "id":
			id = string(v)
		}
	}
	return class, id
}

// outlookRule is the rule Outlook writes above the header block of the
// message a reply quotes, in its plain text.
const outlookRule = "________________________________"

// container writes what a mail client's container stands for: a
// signature gets a "-- " line before it, Yahoo's quote is quoted, and
// Outlook's reply header gets the rule that Outlook's plain text has.
func (w *htmlWriter) container(class, id string) {
	switch {
	case isSignatureContainer(class, id):
		w.sigDelimiter()
	case hasClass(class, "yahoo_quoted"):
		w.quote++
		w.quoteDivs = append(w.quoteDivs, w.divs)
	case id == "divRplyFwdMsg":
		w.block(2)
		w.raw(outlookRule)
		w.block(1)
	}
}

// isSignatureContainer reports the element a client puts a signature in:
// Gmail, Thunderbird, Outlook on the web and for phones, iOS Mail.
func isSignatureContainer(class, id string) bool {
	switch id {
	case "Signature", "AppleMailSignature", "ms-outlook-mobile-signature":
		return true
	}
	return hasClass(class, "gmail_signature") || hasClass(class, "moz-signature")
}

func hasClass(class, name string) bool {
	for _, c := range strings.Fields(class) {
		if c == name {
			return true
		}
	}
	return false
}

// sigDelimiter writes a "-- " line: what follows is a signature.
func (w *htmlWriter) sigDelimiter() {
	w.block(1)
	// Gmail may have written one already (its gmail_signature_prefix).
	last := w.out[bytes.LastIndexByte(w.out, '\n')+1:]
	if strings.TrimSpace(strings.TrimLeft(string(last), "> ")) == "--" {
		return
	}
	w.raw("--")
	w.out = append(w.out, ' ')
	w.block(1)
	w.sigMarks = true
}

// dropDoubleSigDelimiter removes a "--" line right below the "-- " line
// written for a signature container whose text has its own (Thunderbird
// writes one into the signature).
func dropDoubleSigDelimiter(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for i, l := range lines {
		if i > 0 && strings.TrimRight(lines[i-1], " ") != "" && strings.HasSuffix(lines[i-1], "-- ") &&
			strings.TrimRight(l, " ") == strings.TrimRight(lines[i-1], " ") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
