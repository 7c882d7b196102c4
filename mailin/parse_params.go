package mailin

import (
	"mime"
	"path"
	"sort"
	"strconv"
	"strings"
)

// parseMediaValue reads a Content-Type or Content-Disposition value: the
// lower-cased value before the first ";" and its parameters, with their
// names lower-cased (RFC 2045 §5.1, RFC 2183, RFC 2231), by
// mime.ParseMediaType.
func parseMediaValue(v string) (value string, params map[string]string) {
	v = validUTF8(v)
	if mt, ps, err := mime.ParseMediaType(v); err == nil && !foreign2231(v) {
		return mt, ps
	}
	return lenientMediaValue(v)
}

// foreign2231 reports whether v has an RFC 2231 value in a charset other
// than UTF-8 or ASCII, which mime.ParseMediaType drops (or, continued,
// replaces by its unencoded sections).
func foreign2231(v string) bool {
	for i := 0; ; {
		j := strings.Index(v[i:], "*=")
		if j < 0 {
			return false
		}
		i += j + 2
		val := strings.TrimLeft(v[i:], " \t\"")
		q := strings.IndexByte(val, '\'')
		if q <= 0 || strings.ContainsAny(val[:q], " \t;%\"") {
			continue // a continuation: no charset
		}
		if cs := strings.ToLower(val[:q]); cs != "utf-8" && cs != "us-ascii" {
			return true
		}
	}
}

// lenientMediaValue is the fallback for values mime.ParseMediaType
// refuses whole: duplicate parameters (the first wins), unquoted
// specials, 8-bit bytes, a missing ";", comments; and RFC 2231 values in
// any charset. Real mail has all of these, and the file name is what
// matters.
func lenientMediaValue(v string) (value string, params map[string]string) {
	s := strings.TrimSpace(stripComments(v))
	// The value is a token; what follows it, with or without the ";" a
	// broken sender forgot, is parameters.
	end := 0
	for end < len(s) && isTokenChar(s[end]) {
		end++
	}
	value = strings.ToLower(s[:end])
	s = s[end:]
	if strings.TrimSpace(s) == "" {
		return value, nil
	}
	params = make(map[string]string, 2)
	var sections map[string][]paramSection
	for len(s) > 0 {
		// One parameter: key=value up to an unquoted ';'.
		var key, val string
		eq := strings.IndexAny(s, "=;")
		if eq < 0 {
			break
		}
		if s[eq] == ';' {
			s = s[eq+1:]
			continue
		}
		key = strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		if strings.HasPrefix(s, "\"") {
			var n int
			val, n = readQuoted(s)
			s = s[n:]
			// Skip anything up to the next ';'.
			if k := strings.IndexByte(s, ';'); k >= 0 {
				s = s[k+1:]
			} else {
				s = ""
			}
		} else {
			k := strings.IndexByte(s, ';')
			if k < 0 {
				val, s = strings.TrimSpace(s), ""
			} else {
				val, s = strings.TrimSpace(s[:k]), s[k+1:]
			}
		}
		if key == "" {
			continue
		}
		if star := strings.IndexByte(key, '*'); star >= 0 {
			// RFC 2231: name*=cs'lang'value, name*0=..., name*1*=...
			base := key[:star]
			sec := paramSection{encoded: strings.HasSuffix(key, "*"), value: val}
			num := strings.TrimSuffix(key[star+1:], "*")
			if num != "" {
				n, err := strconv.Atoi(num)
				if err != nil || n < 0 || n > 1000 {
					continue
				}
				sec.index = n
			}
			if sections == nil {
				sections = make(map[string][]paramSection)
			}
			sections[base] = append(sections[base], sec)
			continue
		}
		if _, dup := params[key]; !dup {
			params[key] = val
		}
	}
	for base, secs := range sections {
		// An RFC 2231 value is better than a plain one: it exists because
		// the plain one could not say it.
		if v, ok := join2231(secs); ok {
			params[base] = v
		}
	}
	return value, params
}

// isTokenChar reports whether c may appear in an RFC 2045 token (the "/"
// of a media type included).
func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune("()<>@,;:\\\"[]?=", rune(c))
}

type paramSection struct {
	index   int
	encoded bool
	value   string
}

// join2231 puts RFC 2231 sections together and decodes them.
func join2231(secs []paramSection) (string, bool) {
	sort.SliceStable(secs, func(i, j int) bool { return secs[i].index < secs[j].index })
	cs := ""
	var raw []byte
	for i, sec := range secs {
		v := sec.value
		if sec.encoded {
			if i == 0 {
				// charset'language'text
				if a := strings.IndexByte(v, '\''); a >= 0 {
					cs = v[:a]
					v = v[a+1:]
					if b := strings.IndexByte(v, '\''); b >= 0 {
						v = v[b+1:]
					}
				}
			}
			raw = appendPercentDecoded(raw, v)
		} else {
			raw = append(raw, v...)
		}
	}
	if len(raw) == 0 {
		return "", false
	}
	s, _ := decodeCharset(cs, raw)
	return s, true
}

func appendPercentDecoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if b, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				dst = append(dst, byte(b))
				i += 2
				continue
			}
		}
		dst = append(dst, s[i])
	}
	return dst
}

// maxNameRunes bounds an attachment name as shown.
const maxNameRunes = 255

// fileName makes a parameter value into a file name to show: encoded words
// decoded (many clients put them in parameters), control and bidi
// characters removed, directories dropped, length bounded.
func fileName(v string) string {
	v = cleanLine(decodeWords(v))
	v = strings.ReplaceAll(v, "\\", "/")
	if strings.Contains(v, "/") {
		v = path.Base(strings.TrimRight(v, "/"))
		if v == "." || v == "/" {
			v = ""
		}
	}
	if n := 0; len(v) > maxNameRunes {
		for i := range v {
			if n == maxNameRunes {
				v = v[:i]
				break
			}
			n++
		}
	}
	return strings.TrimSpace(v)
}
