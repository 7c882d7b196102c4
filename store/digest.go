package store

import (
	"fmt"
	"strings"
	"time"
)

// DigestState is where a member's digests stand. The scheduler claims a
// due slot, queues its digest and advances the cursor in one transaction,
// so that no crash sends a slot twice or skips content.
type DigestState struct {
	Member string `json:"member"`
	// Cursor is the last message sequence number covered: the next digest
	// holds what came after it.
	Cursor uint64 `json:"cursor"`
	// LastDue is the due instant (UTC) of the last slot claimed, sent or
	// not; zero before the first.
	LastDue time.Time `json:"last_due,omitempty"`
	// LastOut is the outbox ID of the last digest queued, if any.
	LastOut uint64 `json:"last_out,omitempty"`
	// Waiting are the threads the member was waited on in at the last
	// digest: shown again, older, until they answer.
	Waiting []uint64 `json:"waiting,omitempty"`
}

// DigestState returns the member's state; ok is false before their first
// digest.
func (t *Tx) DigestState(member string) (s DigestState, ok bool, err error) {
	ok, err = getJSON(t.b(bDigests), []byte(strings.ToLower(member)), &s)
	if err != nil {
		err = fmt.Errorf("digest state %s: %w", member, err)
	}
	return s, ok, err
}

// PutDigestState records the member's state.
func (t *Tx) PutDigestState(s DigestState) error {
	s.Member = strings.ToLower(s.Member)
	return putJSON(t.b(bDigests), []byte(s.Member), s)
}
