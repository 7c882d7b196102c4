package store

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// DigestLogEntry is what one sent digest showed, kept so that a reply to
// the digest as a whole can be matched to the one thread it quoted.
type DigestLogEntry struct {
	Member    string         `json:"member"`
	MessageID string         `json:"message_id"`
	Due       time.Time      `json:"due"`
	Threads   []DigestThread `json:"threads"`
}

// DigestThread is one thread a digest showed.
type DigestThread struct {
	ID      uint64 `json:"id"`
	Team    string `json:"team"`
	Subject string `json:"subject"`
}

// digestLogKeep is how many digests per member are remembered: replies to
// older ones are rare, and then get the explanation.
const digestLogKeep = 14

// digestLogKey is member, 0, due (big-endian Unix nanoseconds), so that a
// member's entries sort by due time.
func digestLogKey(member string, due time.Time) []byte {
	k := append([]byte(strings.ToLower(member)), 0)
	return binary.BigEndian.AppendUint64(k, uint64(due.UnixNano()))
}

// PutDigestLog records what a digest showed, forgetting the member's
// oldest entries beyond the last few.
func (t *Tx) PutDigestLog(e DigestLogEntry) error {
	e.Member = strings.ToLower(e.Member)
	b := t.b(bDigestLog)
	if err := putJSON(b, digestLogKey(e.Member, e.Due), e); err != nil {
		return fmt.Errorf("digest log %s: %w", e.Member, err)
	}
	prefix := append([]byte(e.Member), 0)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && len(k) == len(prefix)+8 && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for len(keys) > digestLogKeep {
		if err := b.Delete(keys[0]); err != nil {
			return fmt.Errorf("digest log %s: %w", e.Member, err)
		}
		keys = keys[1:]
	}
	return nil
}

// DigestLog returns what the member's remembered digests showed, newest
// first.
func (t *Tx) DigestLog(member string) ([]DigestLogEntry, error) {
	prefix := append([]byte(strings.ToLower(member)), 0)
	var out []DigestLogEntry
	c := t.b(bDigestLog).Cursor()
	for k, v := c.Seek(prefix); k != nil && len(k) == len(prefix)+8 && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
		var e DigestLogEntry
		if err := jsonUnmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("digest log %s: %w", member, err)
		}
		out = append(out, e)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
