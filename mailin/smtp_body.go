package mailin

import "bytes"

// normalizeBody rewrites bare LF and bare CR line endings to CRLF, as
// RFC 5322 §2.3 requires of stored mail, and reports smuggled when a line
// holding only "." has a bare CR or LF on either side.
//
// Why smuggling is refused although go-smtp v0.25.1 is not fooled by it: its
// DATA reader ends a message only at <CRLF>.<CRLF>, so "\n.\n", "\r.\n",
// "\n.\r\n" and the like pass through as content and no second message or
// command is ever read from them. But other servers take some of these as
// the end of the data (that is the SMTP smuggling attack), and our own
// normalisation would turn them into a real <CRLF>.<CRLF> inside the stored
// bytes. Mail that means to be one message never holds such a line, so it
// is refused whole (550 5.5.2) rather than kept in a form that reads as two
// messages to the next program that sees it. A dot line between two CRLFs
// is ordinary content (the client dot-stuffed it) and is kept.
//
// Sequences go-smtp has already consumed cannot be seen here: it drops the
// dot of "<CRLF>.<LF>" as dot-stuffing, leaving "<CRLF><LF>", so such a body
// is taken as one message with that dot missing; nothing is split.
//
// The start of the body counts as following a CRLF (that of the DATA line),
// and its end as a CRLF. raw is returned as is when it needs no change.
func normalizeBody(raw []byte) (out []byte, smuggled bool) {
	const (
		eolCRLF = iota
		eolBare
	)
	prev := eolCRLF
	var dst []byte // nil until the first bare line ending
	i := 0
	for i < len(raw) {
		j := bytes.IndexAny(raw[i:], "\r\n")
		if j < 0 {
			// The last line, without a line ending (BDAT allows it).
			if prev == eolBare && string(raw[i:]) == "." {
				smuggled = true
			}
			if dst != nil {
				dst = append(dst, raw[i:]...)
			}
			break
		}
		j += i
		line := raw[i:j]
		eol, next := eolBare, j+1
		if raw[j] == '\r' && j+1 < len(raw) && raw[j+1] == '\n' {
			eol, next = eolCRLF, j+2
		}
		if string(line) == "." && (prev == eolBare || eol == eolBare) {
			smuggled = true
		}
		if eol == eolBare && dst == nil {
			dst = make([]byte, 0, len(raw)+len(raw)/16+2)
			dst = append(dst, raw[:i]...)
		}
		if dst != nil {
			dst = append(dst, line...)
			dst = append(dst, '\r', '\n')
		}
		prev = eol
		i = next
	}
	if dst == nil {
		return raw, smuggled
	}
	return dst, smuggled
}
