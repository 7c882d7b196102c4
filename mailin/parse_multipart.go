package mailin

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// errPartHeader stops go-message's multipart reader at a part header over
// the limits.
var errPartHeader = errors.New("mailin: MIME part header too large")

const (
	// Longest line inspected whole before deciding what it is; longer
	// lines are passed on in pieces.
	maxInspect = 1024
	// go-message's header reader copies a field through a growing buffer,
	// allocating about five times its size, and spends some 600 bytes on
	// each field however short. Part headers hold a few short fields, so
	// these bound that work well below MaxHeaderBytes.
	maxPartField  = 64 << 10
	maxPartFields = 64
)

// partFilter sits between a multipart body and go-message's multipart
// reader (RFC 2046 §5.1.1), which parses the part headers with its strict
// header reader and stops the whole multipart at the first line it
// refuses. The filter knows the boundary, so it knows where part headers
// are, and there it does what splitHeader and parseHeader do for the
// top-level header:
//
//   - it counts header bytes against the walker's limits and fails the read
//     when they are exceeded (go-message reads part headers of any size);
//   - it mends the lines go-message refuses: a line without a field name
//     becomes a continuation of the field before it, a folded first line is
//     unfolded, and a first line without a field name (an mbox "From "
//     line) is dropped;
//   - a delimiter line inside a part header ends the header first.
//
// It writes every delimiter line with privateBoundary, which go-message's
// reader is given instead of the real one: that reader ends a part at any
// line that starts with the delimiter and a "-" or a blank ("--b-1",
// "--b junk"), and such a line would stop the walk; here only a line of
// the delimiter alone (RFC 2046 §5.1.1) is one.
//
// It also writes every delimiter line, and the line break before it, with
// a bare LF. go-message takes the line ending of the first delimiter for
// all of them, so a CRLF message with one LF delimiter (or the reverse)
// would otherwise merge two parts or stop the walk; this way each part's
// content also ends before the line break that belongs to the delimiter
// (RFC 2046 §5.1.1), however the lines end. Everything else passes through
// unchanged.
type partFilter struct {
	src   io.Reader
	delim []byte // "--" + boundary
	w     *walker

	in     []byte // input not yet processed is in[ip:]
	ip     int
	srcErr error
	out    []byte // output not yet delivered is out[op:]
	op     int

	state     int
	held      []byte // a body line's line break, written once the next line is known
	firstLine bool   // the next header line is the first of its block
	hdrBytes  int    // bytes of the current part header
	fields    int    // fields of the current part header
	field     int    // bytes of the current field

	preamble   []byte // input before the first delimiter, for a multipart whose boundary never comes
	seenDelim  bool
	closed     bool // the closing delimiter was seen
	srcEOF     bool
	overLimits bool
}

// States of a partFilter.
const (
	fBodyStart  = iota // at the start of a line of a part body (or the preamble)
	fBodyLine          // inside a body line
	fHeaderLine        // at the start of a part header line
	fHeaderRest        // inside a long header line, passed on in pieces
	fHeaderDrop        // inside a long first header line without a field name
	fEpilogue          // after the closing delimiter
)

// privateMark follows the boundary in the delimiter lines partFilter
// writes: a NUL, which no delimiter line of real mail has there.
const privateMark = 0

// privateBoundary is the boundary go-message's reader is given.
func privateBoundary(boundary string) string { return boundary + "\x00" }

// partFilters recycles filters with their buffers: a message has a few,
// each used for the time of one walkMultipart.
var partFilters = sync.Pool{New: func() any {
	return &partFilter{in: make([]byte, 0, 4096), out: make([]byte, 0, 4096+maxInspect)}
}}

func newPartFilter(src io.Reader, boundary string, w *walker) *partFilter {
	f := partFilters.Get().(*partFilter)
	*f = partFilter{src: src, delim: append(append(f.delim[:0], "--"...), boundary...), w: w,
		in: f.in[:0], out: f.out[:0], held: f.held[:0]}
	return f
}

// release returns f to the pool; nothing may read from it after.
func (f *partFilter) release() {
	if cap(f.in) > 64<<10 || cap(f.out) > 64<<10 {
		return // grown by an odd message: let it go
	}
	*f = partFilter{delim: f.delim[:0], in: f.in[:0], out: f.out[:0], held: f.held[:0]}
	partFilters.Put(f)
}

func (f *partFilter) Read(p []byte) (int, error) {
	if f.op > 0 {
		f.out = f.out[:copy(f.out, f.out[f.op:])]
		f.op = 0
	}
	// Work ahead until p can be filled: go-message's reader asks for a
	// buffer at a time.
	for len(f.out) < len(p) && !f.overLimits && !f.srcEOF {
		if f.step() {
			continue
		}
		if err := f.fill(); err != nil {
			if f.ip < len(f.in) {
				f.atEOF()
			}
			if f.seenDelim {
				f.out = append(f.out, f.held...)
			}
			f.held = f.held[:0]
			f.srcEOF = true
		}
	}
	if f.op == len(f.out) {
		if f.overLimits {
			return 0, errPartHeader
		}
		return 0, f.srcErr
	}
	n := copy(p, f.out[f.op:])
	f.op += n
	return n, nil
}

// fill reads more input, keeping what is unprocessed.
func (f *partFilter) fill() error {
	if f.srcErr != nil {
		return f.srcErr
	}
	if f.ip > 0 {
		f.in = f.in[:copy(f.in, f.in[f.ip:])]
		f.ip = 0
	}
	if len(f.in) == cap(f.in) {
		f.in = append(f.in, 0)[:len(f.in)]
	}
	n, err := f.src.Read(f.in[len(f.in):cap(f.in)])
	f.in = f.in[:len(f.in)+n]
	if err != nil {
		f.srcErr = err
		if n == 0 {
			return err
		}
	}
	return nil
}

// atEOF handles the input left when the source has ended: a last line
// without a line break.
func (f *partFilter) atEOF() {
	rest := f.in[f.ip:]
	f.consume(len(rest))
	switch f.state {
	case fBodyStart, fHeaderLine:
		if f.isDelimiter(rest) {
			f.delimiter(rest)
		} else if f.state == fHeaderLine {
			f.headerLine(rest, nil)
		} else {
			f.body(f.held)
			f.held = f.held[:0]
			f.body(rest)
		}
	case fBodyLine:
		f.body(rest)
	case fHeaderRest:
		f.count(len(rest))
		f.out = append(f.out, rest...)
	}
}

// consume marks n bytes of input as processed.
func (f *partFilter) consume(n int) {
	if !f.seenDelim {
		f.preamble = append(f.preamble, f.in[f.ip:f.ip+n]...)
	}
	f.ip += n
}

// body writes body bytes. The preamble is not written: go-message skips
// it, and would fail on a line longer than its buffer.
func (f *partFilter) body(b []byte) {
	if f.seenDelim {
		f.out = append(f.out, b...)
	}
}

// step processes what it can of the input; false means it needs more.
func (f *partFilter) step() bool {
	in := f.in[f.ip:]
	if len(in) == 0 {
		return false
	}
	nl := bytes.IndexByte(in, '\n')
	switch f.state {
	case fEpilogue:
		// Never read: go-message stops at the closing delimiter.
		f.consume(len(in))
		return true
	case fBodyLine:
		if nl < 0 {
			// Keep a CR back: it may start the line break.
			n := len(in)
			if in[n-1] == '\r' {
				n--
			}
			if n == 0 {
				return false
			}
			f.body(in[:n])
			f.consume(n)
			return true
		}
		end := nl
		if end > 0 && in[end-1] == '\r' {
			end--
		}
		f.body(in[:end])
		f.held = append(f.held[:0], in[end:nl+1]...)
		f.consume(nl + 1)
		f.state = fBodyStart
		return true
	case fBodyStart:
		// Only a line that starts like the delimiter is worth waiting for.
		if nl < 0 && len(in) < maxInspect && bytes.HasPrefix(f.delim, in[:min(len(in), len(f.delim))]) {
			return false
		}
		if nl >= 0 && f.isDelimiter(in[:nl]) {
			f.delimiter(in[:nl])
			f.consume(nl + 1)
			return true
		}
		f.body(f.held)
		f.held = f.held[:0]
		f.state = fBodyLine
		return true
	case fHeaderLine:
		if nl < 0 {
			if len(in) < maxInspect {
				return false
			}
			// A long line: decide on its start and pass the rest on.
			f.consume(len(in))
			f.headerLine(in, nil)
			return true
		}
		f.consume(nl + 1)
		f.headerLine(in[:nl], in[nl:nl+1])
		return true
	case fHeaderRest, fHeaderDrop:
		n := len(in)
		if nl >= 0 {
			n = nl + 1
		}
		f.count(n)
		if f.state == fHeaderRest {
			f.out = append(f.out, in[:n]...)
		}
		f.consume(n)
		if nl >= 0 {
			f.state = fHeaderLine
		}
		return true
	}
	return false
}

// isDelimiter reports whether line (without its LF) is a delimiter line:
// "--" boundary, "--" if it is the closing one, and trailing blanks.
func (f *partFilter) isDelimiter(line []byte) bool {
	if !bytes.HasPrefix(line, f.delim) {
		return false
	}
	rest := line[len(f.delim):]
	rest = bytes.TrimPrefix(rest, []byte("--"))
	return len(bytes.TrimRight(rest, " \t\r")) == 0
}

// delimiter writes a delimiter line (without its LF) with bare LFs.
func (f *partFilter) delimiter(line []byte) {
	if f.state == fHeaderLine || (f.seenDelim && len(f.held) > 0) {
		// The line break before the delimiter; in a header, the empty line
		// that ends it.
		f.out = append(f.out, '\n')
	}
	f.held = f.held[:0]
	f.seenDelim = true
	f.out = append(f.out, f.delim...)
	f.out = append(f.out, privateMark)
	if bytes.HasPrefix(line[len(f.delim):], []byte("--")) {
		f.out = append(f.out, "--\n"...)
		f.closed = true
		f.state = fEpilogue
		return
	}
	f.out = append(f.out, '\n')
	f.state, f.firstLine, f.hdrBytes, f.fields, f.field = fHeaderLine, true, 0, 0, 0
}

// count charges n header bytes against the limits: MaxHeaderBytes for one
// part, the walker's budget for all part headers of the message, and
// maxPartField for one field.
func (f *partFilter) count(n int) {
	f.hdrBytes += n
	f.field += n
	if f.hdrBytes > f.w.lim.MaxHeaderBytes || !f.w.chargeHeader(n) || f.field > maxPartField {
		f.overLimits = true
	}
}

// headerLine writes one part header line, mended where go-message would
// refuse it. eol is its line break; nil means line is the start of a long
// line, or the last line of the input.
func (f *partFilter) headerLine(line, eol []byte) {
	n := len(line) + len(eol)
	long := eol == nil && f.srcErr == nil
	if len(bytes.TrimRight(line, "\r")) == 0 {
		// The empty line: the body follows.
		f.count(n)
		f.out = append(f.out, line...)
		f.out = append(f.out, eol...)
		f.state = fBodyStart
		return
	}
	if !long && f.isDelimiter(line) {
		// A part without an empty line after its header.
		f.count(n)
		f.delimiter(line)
		return
	}
	if long {
		f.state = fHeaderRest
	}
	first := f.firstLine
	f.firstLine = false
	if first {
		line = bytes.TrimLeft(line, " \t")
	}
	switch c := bytes.IndexByte(line, ':'); {
	case len(line) > 0 && (line[0] == ' ' || line[0] == '\t'):
		// A continuation.
	case c > 0 && validFieldName(bytes.TrimRight(line[:c], " \t")):
		f.field = 0
		if f.fields++; f.fields > maxPartFields {
			f.overLimits = true
		}
	case first:
		// Before any field: dropped.
		f.count(n)
		f.firstLine = true
		if long {
			f.state = fHeaderDrop
		}
		return
	default:
		// Continues the field before it.
		f.out = append(f.out, ' ')
	}
	f.count(n)
	f.out = append(f.out, line...)
	f.out = append(f.out, eol...)
}
