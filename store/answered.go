package store

import (
	"encoding/binary"
	"strings"
	"time"
)

// Automatic answers (RFC 3834 §2: "a responder … SHOULD NOT … send more
// than one response per sender per period") are limited per key; the key
// names the kind of answer and the address answered.

// LastAnswered returns when an automatic answer under key was last sent.
func (t *Tx) LastAnswered(key string) (time.Time, bool) {
	v := t.b(bAnswered).Get([]byte(strings.ToLower(key)))
	if len(v) != 8 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC(), true
}

// PutAnswered records that an automatic answer under key was sent at at.
func (t *Tx) PutAnswered(key string, at time.Time) error {
	return t.b(bAnswered).Put([]byte(strings.ToLower(key)), u64(uint64(at.UnixNano())))
}
