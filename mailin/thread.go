package mailin

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tidings/tidings/store"
)

// subjectWindow is how close in time a message must be to a thread's last
// activity to join it by subject alone.
const subjectWindow = 30 * 24 * time.Hour

// threadInput is what threading needs to know of a message.
type threadInput struct {
	Team        string
	MessageID   string
	Seq         uint64
	Date        time.Time
	Subject     string
	InReplyTo   []string
	References  []string
	ThreadIndex string
}

// threader places messages in a team's thread forest within one
// transaction. The forest follows the JWZ algorithm (RFC 5256 section 2.2,
// and jwz.org/doc/threading.html), applied one message at a time:
//
//   - a message's parent is its first In-Reply-To id, else its last
//     Reference (In-Reply-To wins where the two disagree: clients get
//     References wrong more often);
//   - consecutive References link placeholders that have no parent yet;
//     a message that has been seen keeps the parent its own headers gave it;
//   - ids that are not stored yet become placeholders, so a parent that
//     arrives late takes its place and joins the threads its children began;
//   - every message reachable through these links is in one thread,
//     merging threads where a message connects them;
//   - with no known relative, Outlook's Thread-Index conversation, then the
//     normalised subject (only for reply-looking subjects within 30 days).
type threader struct {
	tx    *store.Tx
	team  string
	nodes map[string]*store.Node // loaded or changed in this call
	dirty map[string]bool
}

func (p *Pipeline) thread(tx *store.Tx, in threadInput) (thread uint64, parent string, err error) {
	t := &threader{tx: tx, team: in.Team, nodes: map[string]*store.Node{}, dirty: map[string]bool{}}
	return t.place(in)
}

func (t *threader) node(mid string) (*store.Node, error) {
	if n, ok := t.nodes[mid]; ok {
		return n, nil
	}
	n, ok, err := t.tx.Node(t.team, mid)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	t.nodes[mid] = &n
	return &n, nil
}

func (t *threader) set(n *store.Node) {
	t.nodes[n.MessageID] = n
	t.dirty[n.MessageID] = true
}

// reaches reports whether walking up from mid through parents arrives at
// target. It returns the node whose parent is target when it does.
func (t *threader) reaches(mid, target string) (*store.Node, bool, error) {
	seen := map[string]bool{}
	for mid != "" && !seen[mid] {
		seen[mid] = true
		n, err := t.node(mid)
		if err != nil || n == nil {
			return nil, false, err
		}
		if n.Parent == target {
			return n, true, nil
		}
		mid = n.Parent
	}
	return nil, false, nil
}

func (t *threader) place(in threadInput) (uint64, string, error) {
	self := in.MessageID
	refs := cleanIDs(in.References, self)
	parent := ""
	// Only the first In-Reply-To id counts (RFC 5322 section 3.6.4 allows
	// several, clients send one); the rest could only cost time.
	if irt := cleanIDs(in.InReplyTo[:min(len(in.InReplyTo), 1)], self); len(irt) > 0 {
		parent = irt[0]
	} else if len(refs) > 0 {
		parent = refs[len(refs)-1]
	}
	chain := refs
	if parent != "" && (len(chain) == 0 || chain[len(chain)-1] != parent) {
		chain = append(slices.DeleteFunc(slices.Clone(chain), func(s string) bool { return s == parent }), parent)
	}

	// Which threads do the message and its relatives already belong to?
	var threads []uint64
	for _, mid := range append([]string{self}, chain...) {
		n, err := t.node(mid)
		if err != nil {
			return 0, "", err
		}
		if n != nil && n.Thread != 0 && !slices.Contains(threads, n.Thread) {
			threads = append(threads, n.Thread)
		}
	}
	slices.Sort(threads)

	var target uint64
	base, replyLike := NormalizeSubject(in.Subject)
	tiKey := threadIndexKey(in.ThreadIndex)
	switch {
	case len(threads) > 0:
		target = threads[0]
	case tiKey != "":
		if id, ok := t.tx.ThreadByIndex(t.team, tiKey); ok { // resolved to a live thread
			target = id
		}
	}
	if target == 0 && len(threads) == 0 && replyLike && base != "" {
		if id, ok := t.tx.ThreadBySubject(t.team, base); ok {
			if th, err := t.tx.Thread(id); err == nil && absDuration(in.Date.Sub(th.LastAt)) <= subjectWindow {
				target = id
			}
		}
	}
	var th store.Thread
	if target == 0 {
		th = store.Thread{Team: t.team, Subject: DisplaySubject(in.Subject), Created: in.Date, LastAt: in.Date}
		id, err := t.tx.NewThread(th)
		if err != nil {
			return 0, "", fmt.Errorf("new thread: %w", err)
		}
		target, th.ID = id, id
	} else {
		var err error
		if th, err = t.tx.Thread(target); err != nil {
			return 0, "", err
		}
	}
	for _, other := range threads {
		if other != target {
			if err := t.merge(&th, other); err != nil {
				return 0, "", fmt.Errorf("merge thread %d into %d: %w", other, target, err)
			}
		}
	}

	// Link placeholders along the References chain.
	for i, mid := range chain {
		n, err := t.node(mid)
		if err != nil {
			return 0, "", err
		}
		if n == nil {
			n = &store.Node{MessageID: mid}
		}
		n.Thread = target
		if i > 0 && n.Seq == 0 && n.Parent == "" && mid != chain[i-1] {
			if _, loop, err := t.reaches(chain[i-1], mid); err != nil {
				return 0, "", err
			} else if !loop && chain[i-1] != mid {
				n.Parent = chain[i-1]
			}
		}
		t.set(n)
	}

	// The message itself: its own headers decide its parent. A parent that
	// would close a loop wins over the older link, which is cut.
	me, err := t.node(self)
	if err != nil {
		return 0, "", err
	}
	wasPlaceholder := me != nil
	if me == nil {
		me = &store.Node{MessageID: self}
	}
	me.Thread, me.Seq, me.Date, me.Parent = target, in.Seq, in.Date, parent
	t.set(me)
	if parent != "" {
		if below, loop, err := t.reaches(parent, self); err != nil {
			return 0, "", err
		} else if loop && below != nil {
			below.Parent = ""
			t.set(below)
		}
	}

	for mid := range t.dirty {
		if err := t.tx.PutNode(t.team, *t.nodes[mid]); err != nil {
			return 0, "", fmt.Errorf("put node %s: %w", mid, err)
		}
	}

	th.Count++
	if in.Date.After(th.LastAt) {
		th.LastAt = in.Date
	}
	// The real start of the conversation names it, even when it arrives last.
	if parent == "" && (in.Date.Before(th.Created) || (wasPlaceholder && th.Count > 1)) {
		th.Subject = DisplaySubject(in.Subject)
	}
	if in.Date.Before(th.Created) {
		th.Created = in.Date
	}
	if err := t.tx.PutThread(th); err != nil {
		return 0, "", err
	}
	if base != "" {
		if err := t.tx.SetThreadBySubject(t.team, base, target); err != nil {
			return 0, "", err
		}
	}
	if tiKey != "" {
		if err := t.tx.SetThreadByIndex(t.team, tiKey, target); err != nil {
			return 0, "", err
		}
	}
	return target, parent, nil
}

// merge moves every node of thread from into th. Messages take their thread
// from their node, so they need no rewrite.
func (t *threader) merge(th *store.Thread, from uint64) error {
	old, err := t.tx.Thread(from)
	if err != nil {
		return err
	}
	nodes, err := t.tx.ThreadNodes(t.team, from)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if cached, ok := t.nodes[n.MessageID]; ok {
			n = *cached
		}
		n.Thread = th.ID
		t.set(&n)
	}
	th.Count += old.Count
	if old.LastAt.After(th.LastAt) {
		th.LastAt = old.LastAt
	}
	if old.Created.Before(th.Created) {
		th.Created, th.Subject = old.Created, old.Subject
	}
	return t.tx.MergedThread(from, th.ID)
}

// cleanIDs drops empty ids, the message's own id and repeats, keeping the
// first occurrence's place.
func cleanIDs(ids []string, self string) []string {
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || id == self || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}

// threadIndexKey returns the conversation part of an Outlook Thread-Index:
// its first 22 bytes (a reserved byte, a FILETIME and a GUID) are the same
// for every message of a conversation; each reply appends 5 bytes.
func threadIndexKey(ti string) string {
	ti = strings.Join(strings.Fields(ti), "")
	if ti == "" {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(ti)
	if err != nil || len(b) < 22 {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b[:22])
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
