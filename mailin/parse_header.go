package mailin

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// field is one header field as sent. value points into the raw message and
// still holds its folding line breaks; nothing is copied until a field is
// actually read.
type field struct {
	name  string
	value []byte
}

// header is a header block in the order sent.
type header []field

// get returns the first field called name, or nil.
func (h header) get(name string) []byte {
	for i := range h {
		if strings.EqualFold(h[i].name, name) {
			return h[i].value
		}
	}
	return nil
}

// has reports whether a field called name is present.
func (h header) has(name string) bool {
	for i := range h {
		if strings.EqualFold(h[i].name, name) {
			return true
		}
	}
	return false
}

// count returns how many fields are called name.
func (h header) count(name string) int {
	n := 0
	for i := range h {
		if strings.EqualFold(h[i].name, name) {
			n++
		}
	}
	return n
}

// text returns the first field called name unfolded, as valid UTF-8 (raw
// 8-bit bytes are read as UTF-8 where they are valid and as Windows-1252
// where not), before any RFC 2047 decoding.
func (h header) text(name string) string {
	v := h.get(name)
	if v == nil {
		return ""
	}
	return unfold(v)
}

// splitHeader splits b into its header block and body. The header block
// ends at the first empty line (CRLF or LF); the empty line belongs to
// neither. ok is false when the header block is longer than limit bytes;
// only the first limit bytes are ever looked at, so a huge header costs
// nothing. Input that does not start with a header field line at all is all
// body (RFC 5322 allows an empty header block only with the empty line, but
// losing such text would be worse).
func splitHeader(b []byte, limit int) (hdr, body []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, true
	}
	if b[0] == '\n' {
		return nil, b[1:], true
	}
	if len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
		return nil, b[2:], true
	}
	if !looksLikeHeader(b) {
		return nil, b, true
	}
	pos := 0
	for pos < len(b) {
		if pos > limit {
			return nil, nil, false
		}
		if b[pos] == '\n' {
			return b[:pos], b[pos+1:], true
		}
		if b[pos] == '\r' && pos+1 < len(b) && b[pos+1] == '\n' {
			return b[:pos], b[pos+2:], true
		}
		end := len(b)
		if end > limit+1 {
			end = limit + 1
		}
		i := bytes.IndexByte(b[pos:end], '\n')
		if i < 0 {
			if end < len(b) {
				return nil, nil, false
			}
			pos = len(b)
			break
		}
		pos += i + 1
	}
	if pos > limit {
		return nil, nil, false
	}
	// No empty line: everything is header.
	return b, nil, true
}

// looksLikeHeader reports whether b starts with something a header block
// may start with: a field line, a folded line (a broken but common first
// line), or an mbox "From " line.
func looksLikeHeader(b []byte) bool {
	if b[0] == ' ' || b[0] == '\t' {
		return true
	}
	if bytes.HasPrefix(b, []byte("From ")) {
		return true
	}
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	}
	c := bytes.IndexByte(line, ':')
	return c > 0 && validFieldName(bytes.TrimRight(line[:c], " \t"))
}

// validFieldName reports whether name is a field name per RFC 5322 §3.6.8:
// printable US-ASCII except the colon.
func validFieldName(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// parseHeader splits a header block into fields. It is lenient the way
// real mail needs: a folded line with nothing to continue starts a field of
// its own; a line with no colon continues the field before it (a broken
// fold) or, before any field, is dropped (an mbox "From " line).
func parseHeader(b []byte) header {
	if len(b) == 0 {
		return nil
	}
	h := make(header, 0, bytes.Count(b, []byte(":"))/2+4)
	pos := 0
	for pos < len(b) {
		end := len(b)
		next := len(b)
		if i := bytes.IndexByte(b[pos:], '\n'); i >= 0 {
			end = pos + i
			next = end + 1
		}
		line := b[pos:end]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		start := pos
		pos = next
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(h) > 0 {
				h[len(h)-1].value = extendTo(b, h[len(h)-1].value, start, len(line))
				continue
			}
			line = bytes.TrimLeft(line, " \t")
		}
		c := bytes.IndexByte(line, ':')
		var name []byte
		if c > 0 {
			name = bytes.TrimRight(line[:c], " \t")
		}
		if !validFieldName(name) {
			if len(h) > 0 {
				h[len(h)-1].value = extendTo(b, h[len(h)-1].value, start, len(line))
			}
			continue
		}
		h = append(h, field{name: string(name), value: line[c+1:]})
	}
	return h
}

// extendTo grows value, a slice of b, so that it also covers the line of
// length n at offset start: the folding line break stays inside and is
// removed by unfold.
func extendTo(b, value []byte, start, n int) []byte {
	// value is a sub-slice of b: its offset follows from the capacities.
	off := cap(b) - cap(value)
	return b[off : start+n]
}

// unfold joins a field's lines (RFC 5322 §2.2.3), trims it and returns it as
// valid UTF-8 (see toUTF8).
func unfold(v []byte) string {
	return toUTF8(unfoldBytes(v))
}

// unfoldHint is unfold for text whose raw 8-bit bytes, when they are not
// UTF-8, are most likely in charset hint: the charset of the message's
// text, which senders of raw 8-bit headers use for those too.
func unfoldHint(v []byte, hint string) string {
	b := unfoldBytes(v)
	if hint == "" || utf8.Valid(b) {
		return toUTF8(b)
	}
	s, _ := decodeCharset(hint, b)
	return s
}

// unfoldBytes joins a field's lines and trims it. A fold with the blanks
// around it becomes one space (RFC 5322 keeps them all, but nobody means
// them), and so does a line break before text that is not white space (a
// broken fold), so that words are not glued together.
func unfoldBytes(v []byte) []byte {
	v = bytes.TrimSpace(v)
	if bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 {
		return v
	}
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\r' && c != '\n' {
			out = append(out, c)
			continue
		}
		// Skip the line break and the blanks after it.
		for i+1 < len(v) && (v[i+1] == '\r' || v[i+1] == '\n' || v[i+1] == ' ' || v[i+1] == '\t') {
			i++
		}
		if n := len(out); n > 0 && out[n-1] != ' ' && out[n-1] != '\t' {
			out = append(out, ' ')
		}
	}
	return out
}
