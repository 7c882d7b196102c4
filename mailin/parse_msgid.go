package mailin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"strings"
)

// syntheticDomain is the right-hand side of Message-IDs made up for mail
// that has none. .invalid is reserved (RFC 2606), so no real ID has it.
const syntheticDomain = "synthetic.tidings.invalid"

const (
	maxIDLen  = 998 // a longer "ID" is junk, not an identifier (RFC 5322 line limit)
	maxRefIDs = 100 // References kept: the first (the root) and the last 99
)

// parseIDs reads a msg-id list (Message-ID, In-Reply-To, References; RFC
// 5322 §3.6.4) and returns the bare ids in order, without duplicates. It
// tolerates comments, words between ids ("In-Reply-To: your message of
// ... <id>") and ids without angle brackets, which are taken when the field
// has no bracketed id at all and they contain an "@" (or, with loose, when
// the field is one bare token).
func parseIDs(v string, loose bool) []string {
	if v == "" {
		return nil
	}
	s := validUTF8(v)
	var ids []string
	var seen map[string]bool // once the list is long: no quadratic dedupe
	add := func(id string) {
		id = cleanID(id)
		if id == "" || len(id) > maxIDLen || seen[id] {
			return
		}
		if seen == nil {
			if slices.Contains(ids, id) {
				return
			}
			if len(ids) == 16 {
				seen = make(map[string]bool, 64)
				for _, have := range ids {
					seen[have] = true
				}
			}
		}
		if seen != nil {
			seen[id] = true
		}
		ids = append(ids, id)
	}
	if strings.IndexByte(s, '<') >= 0 {
		for i := 0; i < len(s); {
			switch s[i] {
			case '(':
				_, n := readComment(s[i:])
				i += n
			case '<':
				end := strings.IndexAny(s[i+1:], "<>")
				if end < 0 {
					// Unclosed: the id runs to the next blank.
					rest := s[i+1:]
					if k := strings.IndexAny(rest, " \t"); k >= 0 {
						rest = rest[:k]
					}
					add(rest)
					i = len(s)
					continue
				}
				add(s[i+1 : i+1+end])
				i += 1 + end
				if s[i] == '>' {
					i++
				}
			default:
				i++
			}
		}
		return ids
	}
	toks := strings.FieldsFunc(stripComments(s), func(r rune) bool {
		return r == ' ' || r == '\t' || r == ','
	})
	for _, t := range toks {
		if strings.Contains(t, "@") {
			add(t)
		}
	}
	if len(ids) == 0 && loose && len(toks) == 1 {
		add(toks[0])
	}
	return ids
}

// cleanID removes white space and control characters from an id.
func cleanID(id string) string {
	id = cleanLine(id)
	if strings.ContainsAny(id, " \t") {
		id = strings.Join(strings.Fields(id), "")
	}
	return id
}

// limitRefs keeps the first id (the thread's root) and the last ones (the
// nearest ancestors) of an overlong References list.
func limitRefs(ids []string) []string {
	if len(ids) <= maxRefIDs {
		return ids
	}
	out := make([]string, 0, maxRefIDs)
	out = append(out, ids[0])
	return append(out, ids[len(ids)-(maxRefIDs-1):]...)
}

// syntheticID derives a Message-ID from the message itself: hex SHA-256 of
// raw with CRLF normalised to LF, so the same mail stored with either line
// ending gets the same ID.
func syntheticID(raw []byte) string {
	h := newIDHash()
	h.Write(raw)
	return h.ID()
}

// idHash hashes a message for syntheticID as it streams.
type idHash struct {
	h  hash.Hash
	cr bool // the last byte written was a CR
}

func newIDHash() *idHash { return &idHash{h: sha256.New()} }

// Write hashes b with every CRLF as LF.
func (x *idHash) Write(b []byte) {
	if x.cr && len(b) > 0 {
		x.cr = false
		if b[0] != '\n' {
			x.h.Write([]byte{'\r'})
		}
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			x.h.Write(b)
			return
		}
		x.h.Write(b[:i])
		if i == len(b)-1 {
			x.cr = true
			return
		}
		if b[i+1] != '\n' {
			x.h.Write(b[i : i+1])
		}
		b = b[i+1:]
	}
}

// ID is the Message-ID for what was written.
func (x *idHash) ID() string {
	if x.cr {
		x.h.Write([]byte{'\r'})
		x.cr = false
	}
	return hex.EncodeToString(x.h.Sum(nil)) + "@" + syntheticDomain
}
