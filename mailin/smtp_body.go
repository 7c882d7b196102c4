package mailin

import (
	"bytes"
	"io"
	"slices"
)

// bodyChunk is the step in which a body of undeclared size is read, and
// its bytes counted against the budget.
const bodyChunk = 64 << 10

// sizeSlack is the room kept beyond a declared SIZE: for the read that finds
// the end marker, and for some bare line endings to become CRLF in place.
const sizeSlack = 4 << 10

type chunk = [bodyChunk]byte

// inflight is one message body held against the server's budget, from the
// first bytes read until the message is answered.
type inflight struct {
	s    *SMTPServer
	held int64 // bytes of the budget taken
}

// reserve takes n more bytes of the budget. A session that holds nothing
// yet waits for them up to budgetWait; one that holds some never waits,
// so that sessions each holding part of a body cannot wait on each other:
// it gets errInsufficientResources, and gives back what it holds at once.
// No session takes more than the whole budget: one that holds all of it
// reads on without counting, so that a message larger than the budget is
// still taken when it arrives alone.
func (f *inflight) reserve(n int64) error {
	n = min(n, f.s.budget.limit-f.held)
	if n <= 0 {
		return nil
	}
	var ok bool
	if f.held == 0 {
		ok = f.s.budget.take(f.s.ctx, n, f.s.budgetWait)
	} else {
		ok = f.s.budget.tryTake(n)
	}
	if !ok {
		return errInsufficientResources
	}
	f.held += n
	return nil
}

// settle makes the reservation match a buffer of n bytes that is already
// allocated: the join and the line-ending rewrite change what is held.
func (f *inflight) settle(n int64) {
	n = min(n, f.s.budget.limit)
	switch {
	case n > f.held:
		f.s.budget.force(n - f.held)
	case n < f.held:
		f.s.budget.give(f.held - n)
	}
	f.held = n
}

// release gives back everything held; the buffer must no longer be used.
func (f *inflight) release() {
	f.s.budget.give(f.held)
	f.held = 0
}

// read reads the whole message from r, which ends at go-smtp's end marker,
// and returns it with line endings as received, and its size. declared is
// the SIZE given with MAIL FROM, or 0.
//
// With a declared size, the body is read straight into one buffer of that
// size (plus sizeSlack), reserved before it is allocated. Otherwise it is
// read in pooled chunks of bodyChunk bytes, each reserved as it fills, and
// joined into one buffer of the exact size at the end; the chunks go back
// to the pool, so that the growing buffer leaves no garbage behind.
//
// On error raw holds at most the first bodyChunk bytes, for the log line,
// and n says how much was read.
func (f *inflight) read(r io.Reader, declared int64) (raw []byte, n int64, err error) {
	s := f.s
	var head []byte
	var chunks []*chunk
	last := 0 // bytes in the last chunk
	defer func() {
		if err != nil {
			switch {
			case len(head) > 0:
				raw = slices.Clone(head[:min(len(head), bodyChunk)])
			case len(chunks) > 0:
				raw = slices.Clone(chunks[0][:min(int(n), bodyChunk)])
			}
		}
		for _, c := range chunks {
			s.chunks.Put(c)
		}
	}()

	if declared > 0 {
		size := min(declared+sizeSlack, s.opts.MaxMessageBytes)
		if err := f.reserve(size); err != nil {
			return nil, 0, err
		}
		head = make([]byte, 0, size)
		for len(head) < cap(head) {
			m, rerr := r.Read(head[len(head):cap(head)])
			head = head[:len(head)+m]
			n += int64(m)
			if rerr == io.EOF {
				if 2*len(head) < cap(head) {
					// The declared size was far off: hold only what came.
					head = slices.Clip(slices.Clone(head))
				}
				return head, n, nil
			}
			if rerr != nil {
				return nil, n, rerr
			}
		}
		// More than declared: the rest goes into chunks.
	}

	for {
		c := s.chunks.Get().(*chunk)
		chunks = append(chunks, c)
		last = 0
		var rerr error
		for last < len(c) && rerr == nil {
			var m int
			m, rerr = r.Read(c[last:])
			last += m
		}
		n += int64(last)
		// Counted once filled, so that the read which finds the end of a
		// body that filled its last chunk exactly takes nothing.
		if last > 0 {
			if err := f.reserve(bodyChunk); err != nil {
				return nil, n, err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, n, rerr
		}
	}

	raw = make([]byte, 0, n)
	raw = append(raw, head...)
	for i, c := range chunks {
		if i == len(chunks)-1 {
			raw = append(raw, c[:last]...)
		} else {
			raw = append(raw, c[:]...)
		}
	}
	return raw, n, nil
}

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
