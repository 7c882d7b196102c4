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
// and its end as a CRLF. raw is returned as is when it needs no change, and
// rewritten in place when its capacity has room for the added CRs or LFs;
// otherwise the result is a new buffer and raw is left unchanged.
func normalizeBody(raw []byte) (out []byte, smuggled bool) {
	const (
		eolCRLF = iota
		eolBare
	)
	// First pass: find smuggling and count the bytes the rewrite adds.
	prev := eolCRLF
	added := 0
	i := 0
	for i < len(raw) {
		j := bytes.IndexAny(raw[i:], "\r\n")
		if j < 0 {
			// The last line, without a line ending (BDAT allows it).
			if prev == eolBare && string(raw[i:]) == "." {
				smuggled = true
			}
			break
		}
		j += i
		eol, next := eolBare, j+1
		if raw[j] == '\r' && j+1 < len(raw) && raw[j+1] == '\n' {
			eol, next = eolCRLF, j+2
		}
		if string(raw[i:j]) == "." && (prev == eolBare || eol == eolBare) {
			smuggled = true
		}
		if eol == eolBare {
			added++ // a lone CR or LF becomes CRLF
		}
		prev = eol
		i = next
	}
	if added == 0 {
		return raw, smuggled
	}
	n := len(raw) + added
	if cap(raw) >= n {
		out = raw[:n]
	} else {
		out = make([]byte, n)
		copy(out, raw)
	}
	expandLineEndings(out, len(raw))
	return out, smuggled
}

// expandLineEndings rewrites the first m bytes of b, which has room for
// exactly the CRs and LFs to be added, so that every line ending is CRLF.
// It works from the end backwards, so that nothing is overwritten before it
// is read, and stops once the rest is already in place.
func expandLineEndings(b []byte, m int) {
	w, r := len(b), m // write before w; read before r
	for w > r {
		i := bytes.LastIndexAny(b[:r], "\r\n")
		// The text after the line ending moves up by w-r.
		seg := r - (i + 1)
		copy(b[w-seg:w], b[i+1:r])
		w -= seg
		// Every ending found is bare but the LF of a CRLF; a CR found here
		// was not followed by LF (that LF would have been found first).
		// i >= 0 while w > r: there is a bare ending left to widen.
		r = i
		if b[i] == '\n' && i > 0 && b[i-1] == '\r' {
			r = i - 1
		}
		b[w-2], b[w-1] = '\r', '\n'
		w -= 2
	}
}
