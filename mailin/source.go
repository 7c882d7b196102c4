package mailin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SourceMessage is one message read from an import source.
type SourceMessage struct {
	Raw []byte
	// Origin says where the message came from: its file, or "FILE:LINE" of
	// its "From " line in an mbox.
	Origin string
	// Err is set when this one message could not be read (too large,
	// unreadable); Raw is then empty and the source goes on with the next.
	Err error
}

// A Source yields messages one at a time, for import. Next returns io.EOF
// after the last message; any other error from Next is fatal.
type Source interface {
	Next() (SourceMessage, error)
	// Progress reports how far reading has come, in units of the source's
	// own choosing (bytes of an mbox, files of a directory): done of total.
	Progress() (done, total int64)
	Close() error
}

// SourceOptions tune the readers. The zero value is usable.
type SourceOptions struct {
	// MaxMessageBytes is the size above which a message is skipped with
	// ErrMessageTooLarge instead of being held in memory. Default 64 MiB.
	MaxMessageBytes int64
}

func (o SourceOptions) max() int64 {
	if o.MaxMessageBytes <= 0 {
		return 64 << 20
	}
	return o.MaxMessageBytes
}

// Errors of the import readers.
var (
	ErrMessageTooLarge = errors.New("mailin: message too large")
	ErrEmptyMessage    = errors.New("mailin: empty message")
	ErrNotAMessage     = errors.New("mailin: not a message: it does not begin with a header field")
	ErrNotMbox         = errors.New(`mailin: not an mbox file (it does not begin with a "From " line)`)
)

// --- mbox

// Mbox reads an mbox file (RFC 4155) as written by mboxrd and mboxo
// writers: a message starts at a "From " line at the beginning of the file
// or after an empty line; the empty line before it belongs to the format, not
// to the message; ">From " lines (with any number of '>') lose one '>'. The
// file is streamed: only one message is held in memory at a time.
type Mbox struct {
	name  string
	br    *bufio.Reader
	cnt   *countingReader
	size  int64
	max   int64
	close func() error

	line    int  // lines read so far
	sepLine int  // line of the "From " line of the next message, 0 before the first
	started bool // the first "From " line has been found
	eof     bool
	err     error
}

// OpenMbox opens the mbox file at path.
func OpenMbox(path string, opts SourceOptions) (*Mbox, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open mbox: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open mbox: %w", err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open mbox %s: is a directory (use a Maildir reader)", path)
	}
	m := NewMbox(f, path, opts)
	m.size = fi.Size()
	m.close = f.Close
	return m, nil
}

// NewMbox reads an mbox stream from r; name is used in Origin.
func NewMbox(r io.Reader, name string, opts SourceOptions) *Mbox {
	cnt := &countingReader{r: r}
	return &Mbox{name: name, br: bufio.NewReaderSize(cnt, 64<<10), cnt: cnt, max: opts.max(), close: func() error { return nil }}
}

// Progress reports bytes read of the file's size (0 when unknown).
func (m *Mbox) Progress() (done, total int64) { return m.cnt.n, m.size }

// Close closes the file.
func (m *Mbox) Close() error { return m.close() }

// Next returns the next message.
func (m *Mbox) Next() (SourceMessage, error) {
	if m.err != nil {
		return SourceMessage{}, m.err
	}
	if !m.started {
		if err := m.findFirst(); err != nil {
			m.err = err
			return SourceMessage{}, err
		}
		m.started = true
	}
	if m.eof {
		return SourceMessage{}, io.EOF
	}
	msg := SourceMessage{Origin: fmt.Sprintf("%s:%d", m.name, m.sepLine)}
	var (
		buf        bytes.Buffer
		tooLarge   bool
		lineStart  = true
		blank      []byte // an empty line held back: it may be the separator's
		appendLine = func(b []byte) {
			if tooLarge {
				return
			}
			if int64(buf.Len()+len(b)) > m.max {
				tooLarge = true
				buf = bytes.Buffer{}
				return
			}
			buf.Write(b)
		}
	)
	for {
		line, err := m.br.ReadSlice('\n')
		if len(line) > 0 {
			complete := line[len(line)-1] == '\n'
			if lineStart {
				m.line++
				if blank != nil && bytes.HasPrefix(line, []byte("From ")) {
					m.sepLine = m.line
					if !complete {
						m.skipRestOfLine()
					}
					return m.finish(msg, buf.Bytes(), tooLarge), nil
				}
				if blank != nil {
					appendLine(blank)
					blank = nil
				}
				if complete && isBlankLine(line) {
					blank = append([]byte(nil), line...)
					continue
				}
				if isEscapedFrom(line) {
					line = line[1:]
				}
			}
			appendLine(line)
			lineStart = complete
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			m.eof = true
			return m.finish(msg, buf.Bytes(), tooLarge), nil
		default:
			m.err = fmt.Errorf("read mbox %s: %w", m.name, err)
			return SourceMessage{}, m.err
		}
	}
}

func (m *Mbox) finish(msg SourceMessage, raw []byte, tooLarge bool) SourceMessage {
	switch {
	case tooLarge:
		msg.Err = fmt.Errorf("%w (over %d bytes)", ErrMessageTooLarge, m.max)
	case len(bytes.TrimSpace(raw)) == 0:
		msg.Err = ErrEmptyMessage
	default:
		msg.Raw = bytes.Clone(raw)
	}
	return msg
}

// findFirst skips empty lines up to the first "From " line.
func (m *Mbox) findFirst() error {
	for {
		line, err := m.br.ReadSlice('\n')
		if len(line) > 0 {
			m.line++
			if bytes.HasPrefix(line, []byte("From ")) {
				m.sepLine = m.line
				if line[len(line)-1] != '\n' {
					m.skipRestOfLine()
				}
				return nil
			}
			if !isBlankLine(line) {
				return fmt.Errorf("read %s: %w", m.name, ErrNotMbox)
			}
		}
		if errors.Is(err, io.EOF) {
			m.eof = true
			return nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("read mbox %s: %w", m.name, err)
		}
	}
}

func (m *Mbox) skipRestOfLine() {
	for {
		_, err := m.br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				m.eof = true
			}
			return
		}
	}
}

func isBlankLine(line []byte) bool {
	return len(bytes.TrimRight(line, "\r\n")) == 0
}

// isEscapedFrom matches the mboxrd escape: one or more '>' before "From ".
func isEscapedFrom(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], []byte("From "))
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// --- directories and files

// Files reads whole files, one message each: a Maildir, a directory of
// .eml files, or files named one by one.
type Files struct {
	paths []string
	next  int
	max   int64
}

// OpenMaildir lists the messages under dir: a Maildir's cur/ and new/, or
// any directory of message files, searched recursively. In a directory that
// has cur/ or new/ (a Maildir), only those are read: the files beside them
// are the mail server's indexes and lists (dovecot-uidlist, …). Names
// starting with a dot (Maildir++ subfolders, editor files) and tmp/
// directories (mail still being delivered) are skipped. Files are read in
// path order.
func OpenMaildir(dir string, opts SourceOptions) (*Files, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open maildir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open maildir %s: not a directory", dir)
	}
	var paths []string
	roots := map[string]bool{} // directory -> is a Maildir's root
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			roots[p] = isMaildirRoot(p)
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || (d.IsDir() && d.Name() == "tmp") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			roots[p] = isMaildirRoot(p)
			return nil
		}
		if d.Type().IsRegular() && !roots[filepath.Dir(p)] {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open maildir %s: %w", dir, err)
	}
	sort.Strings(paths)
	return &Files{paths: paths, max: opts.max()}, nil
}

// isMaildirRoot reports whether dir holds a cur/ or new/ directory.
func isMaildirRoot(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err == nil && fi.IsDir() {
			return true
		}
	}
	return false
}

// OpenFiles reads the named files, one message each, in the order given.
// Every path must exist and be a regular file.
func OpenFiles(paths []string, opts SourceOptions) (*Files, error) {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("open message: %w", err)
		}
		if fi.IsDir() {
			return nil, fmt.Errorf("open message %s: is a directory (import it as a Maildir)", p)
		}
	}
	return &Files{paths: append([]string(nil), paths...), max: opts.max()}, nil
}

// Next returns the next file's message.
func (f *Files) Next() (SourceMessage, error) {
	if f.next >= len(f.paths) {
		return SourceMessage{}, io.EOF
	}
	p := f.paths[f.next]
	f.next++
	msg := SourceMessage{Origin: p}
	raw, err := readLimited(p, f.max)
	raw = stripFromLine(raw)
	switch {
	case err != nil:
		msg.Err = err
	case len(bytes.TrimSpace(raw)) == 0:
		msg.Err = ErrEmptyMessage
	case !startsWithField(raw):
		msg.Err = ErrNotAMessage
	default:
		msg.Raw = raw
	}
	return msg, nil
}

// startsWithField reports whether raw begins like a message: a header field
// name (printable ASCII but the colon, RFC 5322 section 3.6.8) and a colon
// on its first line. Index files, uid lists and other strays do not.
func startsWithField(raw []byte) bool {
	line := raw
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		line = raw[:i]
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return false
	}
	for _, c := range line[:colon] {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// stripFromLine drops the mbox "From " line that files saved from a mail
// reader often begin with: it is envelope data, not a header field.
func stripFromLine(raw []byte) []byte {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return raw
	}
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[i+1:]
	}
	return nil
}

func readLimited(path string, max int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w (over %d bytes)", ErrMessageTooLarge, max)
	}
	return data, nil
}

// Progress reports files read of files listed.
func (f *Files) Progress() (done, total int64) { return int64(f.next), int64(len(f.paths)) }

// Close releases nothing: each file is closed once read.
func (f *Files) Close() error { return nil }
