package mailin

import (
	"encoding/base64"
	"errors"
	"io"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// Transfer encodings as decodeTransfer names them.
const (
	cteNone   = iota // 7bit, 8bit, binary, or one we cannot decode
	cteBase64        // base64
	cteQP            // quoted-printable
)

// transferHeaders name nothing but a transfer encoding: given one,
// message.New decodes that encoding and nothing else (with the part's own
// header it would also convert the charset of text parts, which must not
// change the size of a text attachment). They are only ever read.
var transferHeaders = [...]message.Header{
	cteBase64: transferHeader("base64"),
	cteQP:     transferHeader("quoted-printable"),
}

func transferHeader(cte string) message.Header {
	var h textproto.Header
	h.Set("Content-Transfer-Encoding", cte)
	return message.Header{Header: h}
}

// transferEncoding names the Content-Transfer-Encoding value cte.
func (w *walker) transferEncoding(cte string) int {
	switch strings.ToLower(cte) {
	case "", "7bit", "8bit", "binary":
		return cteNone
	case "base64":
		return cteBase64
	case "quoted-printable":
		return cteQP
	}
	// Fallback for names go-message does not know but senders write:
	// "Quoted Printable", "quoted_printable", "8bits", with comments or
	// parameters.
	s := strings.ToLower(stripComments(cte))
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	switch strings.NewReplacer(" ", "", "-", "", "_", "").Replace(s) {
	case "base64":
		return cteBase64
	case "quotedprintable", "qp":
		return cteQP
	case "", "7bit", "8bit", "8bits", "7bits", "binary", "plain", "none", "text":
		return cteNone
	}
	w.problem("unknown transfer encoding %q", short(s))
	return cteNone
}

// decodeTransfer returns body without its transfer encoding, decoded by
// go-message as it is read.
func (w *walker) decodeTransfer(cte string, body io.Reader) (io.Reader, int) {
	enc := w.transferEncoding(cte)
	if enc == cteNone {
		return body, enc
	}
	e, err := message.New(transferHeaders[enc], body)
	if err != nil {
		return body, cteNone // not reached: both encodings are known
	}
	return e.Body, enc
}

// decodeText returns the body of a text part without its transfer
// encoding. Without one, the bytes are not copied.
func (w *walker) decodeText(p *part) []byte {
	dec, enc := w.decodeTransfer(p.cte, &memReader{p.raw})
	if enc == cteNone {
		return p.raw
	}
	if enc == cteBase64 && !looksBase64(p.raw) {
		// Fallback: text labelled base64 that plainly is not (it happens)
		// is shown as it is.
		w.problem("text declared base64 is not")
		return p.raw
	}
	b, err := io.ReadAll(dec)
	if errors.As(err, new(base64.CorruptInputError)) {
		// Fallback: the standard decoder stops at the first stray
		// character or missing padding, losing the text after it.
		return decodeBase64(make([]byte, 0, len(p.raw)*3/4+3), p.raw)
	}
	return b
}

// looksBase64 reports whether most of b is base64 alphabet.
func looksBase64(b []byte) bool {
	bad := 0
	for _, c := range b {
		// Blanks count: base64 lines have none inside.
		if !isBase64(c) && c != '=' && c != '\r' && c != '\n' {
			bad++
		}
	}
	return bad*20 <= len(b)
}

func isBase64(c byte) bool { return base64Alphabet[c] }

var base64Alphabet = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = true
	}
	return t
}()

// decodeBase64 is the lenient fallback decoder: characters outside the
// alphabet are dropped, "=" ends a run early (concatenated base64 decodes
// too), and a last partial quantum is kept as far as it goes. The runs are
// decoded by encoding/base64.
func decodeBase64(dst, src []byte) []byte {
	run := make([]byte, 0, 4096)
	flush := func() {
		if k := len(run) % 4; k == 1 {
			run = run[:len(run)-1] // six bits: no byte
		}
		n := len(dst)
		dst = append(dst, make([]byte, base64.RawStdEncoding.DecodedLen(len(run)))...)
		m, _ := base64.RawStdEncoding.Decode(dst[n:], run)
		dst = dst[:n+m]
		run = run[:0]
	}
	for _, c := range src {
		switch {
		case isBase64(c):
			run = append(run, c)
		case c == '=':
			flush()
		}
	}
	flush()
	return dst
}

// base64Counter counts the bytes the base64 text read through it decodes
// to, as decodeBase64 would decode it.
type base64Counter struct {
	r     io.Reader
	total int64
	run   int // characters since the last "="
}

func (c *base64Counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for _, b := range p[:n] {
		if base64Alphabet[b] {
			c.run++
		} else if b == '=' {
			c.total += int64(c.run * 3 / 4)
			c.run = 0
		}
	}
	return n, err
}

func (c *base64Counter) size() int64 {
	return c.total + int64(c.run*3/4)
}

// stripComments removes RFC 5322 comments, which may nest, outside quoted
// strings; each becomes a space.
func stripComments(s string) string {
	if strings.IndexByte(s, '(') < 0 {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '"' {
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(s))
			sb.WriteString(s[i:j])
			i = j
			continue
		}
		if s[i] == '(' {
			_, n := readComment(s[i:])
			i += n
			sb.WriteByte(' ')
			continue
		}
		sb.WriteByte(s[i])
		i++
	}
	return sb.String()
}

// readComment reads a (possibly nested) comment at the start of s,
// returning its text without the outer parentheses and the bytes consumed.
func readComment(s string) (string, int) {
	depth := 0
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				sb.WriteByte(s[i])
			}
			continue
		case '(':
			depth++
			if depth == 1 {
				continue
			}
		case ')':
			depth--
			if depth == 0 {
				return sb.String(), i + 1
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String(), len(s)
}
