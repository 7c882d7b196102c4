package mailin

// Transfer decodings, written to be lenient: real mail has line breaks in
// odd places, missing padding, junk between base64 quanta and stray "="
// in quoted-printable. The standard library's decoders stop at the first
// such error and the text after it would be lost.

const b64Invalid = 0xff

var b64Table = func() (t [256]byte) {
	for i := range t {
		t[i] = b64Invalid
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeBase64 appends the decoded src to dst. Characters outside the
// alphabet are skipped; "=" ends a quantum early (so concatenated base64
// blocks decode too); a final partial quantum is kept as far as it goes.
func decodeBase64(dst, src []byte) []byte {
	var val uint32
	n := 0
	for _, c := range src {
		v := b64Table[c]
		if v == b64Invalid {
			if c == '=' {
				dst = b64Flush(dst, val, n)
				val, n = 0, 0
			}
			continue
		}
		val = val<<6 | uint32(v)
		n++
		if n == 4 {
			dst = append(dst, byte(val>>16), byte(val>>8), byte(val))
			val, n = 0, 0
		}
	}
	return b64Flush(dst, val, n)
}

func b64Flush(dst []byte, val uint32, n int) []byte {
	switch n {
	case 2:
		return append(dst, byte(val>>4))
	case 3:
		return append(dst, byte(val>>10), byte(val>>2))
	}
	return dst
}

// base64Size is len(decodeBase64(nil, src)) without decoding.
func base64Size(src []byte) int64 {
	var total int64
	n := 0
	for _, c := range src {
		if b64Table[c] == b64Invalid {
			if c == '=' {
				total += partialSize(n)
				n = 0
			}
			continue
		}
		n++
		if n == 4 {
			total += 3
			n = 0
		}
	}
	return total + partialSize(n)
}

func partialSize(n int) int64 {
	if n >= 2 {
		return int64(n - 1)
	}
	return 0
}

// validBase64 reports whether src holds only base64 characters, padding and
// white space: the test for an RFC 2047 "B" word worth decoding.
func validBase64(src string) bool {
	for i := 0; i < len(src); i++ {
		c := src[i]
		if b64Table[c] == b64Invalid && c != '=' && c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// decodeQP appends the quoted-printable src, decoded, to dst (RFC 2045
// §6.7): trailing blanks are dropped, "=" at the end of a line is a soft
// break, "=XX" (either case) is a byte, and any other "=" is kept as is.
// Line breaks come out as \n.
func decodeQP(dst, src []byte) []byte {
	for len(src) > 0 {
		line := src
		rest := []byte(nil)
		hasBreak := false
		for i, c := range src {
			if c == '\n' {
				line, rest, hasBreak = src[:i], src[i+1:], true
				break
			}
		}
		src = rest
		end := len(line)
		for end > 0 && (line[end-1] == ' ' || line[end-1] == '\t' || line[end-1] == '\r') {
			end--
		}
		line = line[:end]
		soft := false
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c != '=' {
				dst = append(dst, c)
				continue
			}
			if i == len(line)-1 {
				soft = true
				break
			}
			if i+2 < len(line) {
				hi, ok1 := unhex(line[i+1])
				lo, ok2 := unhex(line[i+2])
				if ok1 && ok2 {
					dst = append(dst, hi<<4|lo)
					i += 2
					continue
				}
			}
			dst = append(dst, '=')
		}
		if hasBreak && !soft {
			dst = append(dst, '\n')
		}
	}
	return dst
}

// decodeQWord decodes the text of an RFC 2047 "Q" word: like
// quoted-printable, with "_" for a space.
func decodeQWord(dst []byte, src string) []byte {
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '_':
			dst = append(dst, ' ')
		case c == '=' && i+2 < len(src):
			hi, ok1 := unhex(src[i+1])
			lo, ok2 := unhex(src[i+2])
			if ok1 && ok2 {
				dst = append(dst, hi<<4|lo)
				i += 2
			} else {
				dst = append(dst, c)
			}
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
