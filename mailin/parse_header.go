package mailin

import (
	"bytes"
	"io"

	"github.com/emersion/go-message/textproto"
)

// splitHeader splits b into its header block and body: the size check made
// before go-message's header reader sees any byte. The header block ends
// at the first empty line (CRLF or LF); the empty line belongs to neither.
// ok is false when the header block is longer than limit bytes; only the
// first limit bytes are ever looked at, so a huge header costs nothing.
// Input that does not start with a header field line at all is all body
// (RFC 5322 allows an empty header block only with the empty line, but
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
		end := min(len(b), limit+1)
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
	if b[0] == ' ' || b[0] == '\t' || bytes.HasPrefix(b, []byte("From ")) {
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

// readHeaderBlock reads the header block at the start of r (an attached
// message) into memory, checking its size as splitHeader does before
// go-message's reader sees it. read is every byte taken from r; body reads
// on after the header block.
func readHeaderBlock(r io.Reader, limit int) (hdr, read []byte, body io.Reader, ok bool) {
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grows by doubling
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := err != nil
		// Until the first line is whole, its kind is unknown.
		if eof || bytes.IndexByte(buf, '\n') >= 0 {
			h, b, fits := splitHeader(buf, limit)
			switch {
			case !fits:
				return nil, buf, nil, false
			case b != nil || eof:
				return h, buf, io.MultiReader(bytes.NewReader(b), r), true
			}
		}
		if len(buf) > limit+2 {
			return nil, buf, nil, false
		}
	}
}

// parseHeader reads a header block held in memory (its size checked by
// splitHeader or readHeaderBlock) into go-message's Header. The block is
// cut into fields here and each is read by Header.AddRaw, which unfolds
// the value and canonicalises the name without copying the block:
// textproto.ReadHeader would copy every field through a growing line
// buffer (five times the size of a long field: 1 MB for the "hostile
// fields" test's 218 KB), and it stops at the first line it refuses,
// losing every field after it. Those lines are read the lenient way
// instead: a folded first line starts a field of its own; a line without
// a field name continues the field before it (a broken fold) or, before
// any field, is dropped (an mbox "From " line).
func parseHeader(hb []byte) textproto.Header {
	var h textproto.Header
	var buf [48][2]int
	fields := buf[:0] // start and end of each field in hb
	for pos := 0; pos < len(hb); {
		start := pos
		end := len(hb)
		if i := bytes.IndexByte(hb[pos:], '\n'); i >= 0 {
			end = pos + i + 1
		}
		pos = end
		line := hb[start:end]
		blank := line[0] == ' ' || line[0] == '\t'
		if n := len(fields); blank && n > 0 {
			fields[n-1][1] = end
			continue
		}
		for blank && start < end && (hb[start] == ' ' || hb[start] == '\t') {
			start++
		}
		line = hb[start:end]
		c := bytes.IndexByte(line, ':')
		if c <= 0 || !validFieldName(bytes.TrimRight(line[:c], " \t")) {
			if n := len(fields); n > 0 {
				fields[n-1][1] = end
			}
			continue
		}
		fields = append(fields, [2]int{start, end})
	}
	// AddRaw puts a field first: adding in reverse keeps the order sent.
	for i := len(fields) - 1; i >= 0; i-- {
		h.AddRaw(hb[fields[i][0]:fields[i][1]:fields[i][1]])
	}
	return h
}
