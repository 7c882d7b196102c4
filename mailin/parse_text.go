package mailin

import (
	"bytes"
	"strings"
)

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
			if c.contentID == start {
				return c
			}
		}
	}
	return p.children[0]
}

// leafText decodes a text/plain or text/html part to clean text.
func (w *walker) leafText(p *part) string {
	if p.text == nil {
		t := w.decodeLeaf(p)
		p.text = &t
	}
	return *p.text
}

func (w *walker) decodeLeaf(p *part) string {
	b := w.decodeText(p)
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
