package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Tx is one transaction. Values returned from it are copies and stay valid
// after it ends. A Tx from View refuses writes.
type Tx struct {
	tx *bolt.Tx
}

func (t *Tx) b(name []byte) *bolt.Bucket { return t.tx.Bucket(name) }

func teamKey(team, s string) []byte {
	k := make([]byte, 0, len(team)+1+len(s))
	k = append(k, team...)
	k = append(k, 0)
	return append(k, s...)
}

// --- teams

// AddTeam adds a new team; ErrExists if the name or the address is taken.
func (t *Tx) AddTeam(tm Team) error {
	tm.Address = strings.ToLower(tm.Address)
	if t.b(bTeams).Get([]byte(tm.Name)) != nil {
		return fmt.Errorf("team %s: %w", tm.Name, ErrExists)
	}
	if t.b(bTeamAddr).Get([]byte(tm.Address)) != nil {
		return fmt.Errorf("address %s: %w", tm.Address, ErrExists)
	}
	// A member's address as a team's would make their own mail look like
	// ours coming back.
	if t.b(bMembers).Get([]byte(tm.Address)) != nil {
		return fmt.Errorf("address %s: a member's address: %w", tm.Address, ErrExists)
	}
	if owner := t.b(bAliases).Get([]byte(tm.Address)); owner != nil {
		return fmt.Errorf("address %s: an alias of %s: %w", tm.Address, owner, ErrExists)
	}
	if err := putJSON(t.b(bTeams), []byte(tm.Name), tm); err != nil {
		return err
	}
	return t.b(bTeamAddr).Put([]byte(tm.Address), []byte(tm.Name))
}

// Team returns the named team.
func (t *Tx) Team(name string) (Team, error) {
	var tm Team
	ok, err := getJSON(t.b(bTeams), []byte(name), &tm)
	if err == nil && !ok {
		err = fmt.Errorf("team %s: %w", name, ErrNotFound)
	}
	return tm, err
}

// TeamByAddress returns the team whose address is addr (case-insensitive).
func (t *Tx) TeamByAddress(addr string) (Team, error) {
	name := t.b(bTeamAddr).Get([]byte(strings.ToLower(addr)))
	if name == nil {
		return Team{}, fmt.Errorf("team address %s: %w", addr, ErrNotFound)
	}
	return t.Team(string(name))
}

// Teams lists all teams by name.
func (t *Tx) Teams() ([]Team, error) {
	var out []Team
	err := t.b(bTeams).ForEach(func(k, v []byte) error {
		var tm Team
		if _, err := getJSON(t.b(bTeams), k, &tm); err != nil {
			return err
		}
		out = append(out, tm)
		return nil
	})
	return out, err
}

// --- members

// PutMember adds or replaces a member. Its aliases are stored lower-case
// and indexed (alias.go); ErrExists if its address or an alias belongs to
// someone else.
func (t *Tx) PutMember(m Member) error {
	m.Address = strings.ToLower(m.Address)
	if err := t.putMemberAliases(&m); err != nil {
		return err
	}
	return putJSON(t.b(bMembers), []byte(m.Address), m)
}

// Member returns the member with address addr (case-insensitive).
func (t *Tx) Member(addr string) (Member, error) {
	var m Member
	ok, err := getJSON(t.b(bMembers), []byte(strings.ToLower(addr)), &m)
	if err == nil && !ok {
		err = fmt.Errorf("member %s: %w", addr, ErrNotFound)
	}
	return m, err
}

// RemoveMember deletes a member and its aliases.
func (t *Tx) RemoveMember(addr string) error {
	k := []byte(strings.ToLower(addr))
	if t.b(bMembers).Get(k) == nil {
		return fmt.Errorf("member %s: %w", addr, ErrNotFound)
	}
	if err := t.dropMemberAliases(string(k)); err != nil {
		return err
	}
	return t.b(bMembers).Delete(k)
}

// Members lists all members by address.
func (t *Tx) Members() ([]Member, error) {
	var out []Member
	err := t.b(bMembers).ForEach(func(k, v []byte) error {
		var m Member
		if _, err := getJSON(t.b(bMembers), k, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// --- messages

// ReserveSeq assigns the sequence number of a message about to be added, so
// that it can be threaded before it is stored.
func (t *Tx) ReserveSeq() (uint64, error) { return t.b(bMessages).NextSequence() }

// A message is one value: a 4-byte length, the parsed record as JSON, then
// the raw bytes. Keeping both in one value writes one B+tree leaf per
// message instead of two, which is most of a commit's cost.

func encodeMessage(m *Message, raw []byte) ([]byte, error) {
	rec, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("store: encode message %d: %w", m.Seq, err)
	}
	v := make([]byte, 4, 4+len(rec)+len(raw))
	binary.BigEndian.PutUint32(v, uint32(len(rec)))
	return append(append(v, rec...), raw...), nil
}

// splitMessage returns the record and raw parts of a stored value.
func splitMessage(v []byte) (rec, raw []byte, err error) {
	if len(v) < 4 {
		return nil, nil, errors.New("short message value")
	}
	n := binary.BigEndian.Uint32(v)
	if uint64(n) > uint64(len(v)-4) {
		return nil, nil, errors.New("bad message value length")
	}
	return v[4 : 4+n], v[4+n:], nil
}

// decodeMessage reads a stored message and places it in its thread.
func (t *Tx) decodeMessage(k, v []byte) (Message, error) {
	var m Message
	rec, _, err := splitMessage(v)
	if err == nil {
		err = json.Unmarshal(rec, &m)
	}
	if err != nil {
		return m, fmt.Errorf("store: decode message %d: %w", binary.BigEndian.Uint64(k), err)
	}
	if n, ok, err := t.Node(m.Team, m.MessageID); err != nil {
		return m, err
	} else if ok && n.Seq == m.Seq {
		m.Thread, m.Parent = n.Thread, n.Parent
	}
	return m, nil
}

// AddMessage stores m and its raw bytes. It assigns m.Seq unless
// ReserveSeq already did.
func (t *Tx) AddMessage(m *Message, raw []byte) error {
	if m.Seq == 0 {
		seq, err := t.ReserveSeq()
		if err != nil {
			return err
		}
		m.Seq = seq
	}
	v, err := encodeMessage(m, raw)
	if err != nil {
		return err
	}
	return t.b(bMessages).Put(u64(m.Seq), v)
}

// Message returns the stored message with sequence number seq.
func (t *Tx) Message(seq uint64) (Message, error) {
	k := u64(seq)
	v := t.b(bMessages).Get(k)
	if v == nil {
		return Message{}, fmt.Errorf("message %d: %w", seq, ErrNotFound)
	}
	return t.decodeMessage(k, v)
}

// Raw returns the bytes of message seq exactly as received.
func (t *Tx) Raw(seq uint64) ([]byte, error) {
	v := t.b(bMessages).Get(u64(seq))
	if v == nil {
		return nil, fmt.Errorf("raw message %d: %w", seq, ErrNotFound)
	}
	_, raw, err := splitMessage(v)
	if err != nil {
		return nil, fmt.Errorf("store: message %d: %w", seq, err)
	}
	return bytes.Clone(raw), nil
}

// MessagesSince calls fn for every message with Seq > after, in order, until
// fn returns false.
func (t *Tx) MessagesSince(after uint64, fn func(Message) bool) error {
	c := t.b(bMessages).Cursor()
	for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
		m, err := t.decodeMessage(k, v)
		if err != nil {
			return err
		}
		if !fn(m) {
			return nil
		}
	}
	return nil
}

// LastSeq is the highest message sequence number assigned so far.
func (t *Tx) LastSeq() uint64 { return t.b(bMessages).Sequence() }

// --- thread forest

// Node returns the node of messageID in team.
func (t *Tx) Node(team, messageID string) (Node, bool, error) {
	var n Node
	ok, err := getJSON(t.b(bNodes), teamKey(team, messageID), &n)
	return n, ok, err
}

// PutNode writes a node and keeps the thread's membership index in step.
func (t *Tx) PutNode(team string, n Node) error {
	k := teamKey(team, n.MessageID)
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("store: encode node %q: %w", n.MessageID, err)
	}
	nodes := t.b(bNodes)
	prev := nodes.Get(k)
	// Threading rewrites every node along a References chain, and most of
	// them come back unchanged: skipping those saves the decode and the write.
	if prev != nil && bytes.Equal(prev, data) {
		return nil
	}
	if prev != nil {
		var old Node
		if err := jsonUnmarshal(prev, &old); err != nil {
			return fmt.Errorf("store: decode node %q: %w", n.MessageID, err)
		}
		if old.Thread != n.Thread {
			if err := t.b(bThreadNodes).Delete(threadNodeKey(old.Thread, n.MessageID)); err != nil {
				return err
			}
		}
	}
	if err := nodes.Put(k, data); err != nil {
		return err
	}
	if n.Thread != 0 {
		return t.b(bThreadNodes).Put(threadNodeKey(n.Thread, n.MessageID), nil)
	}
	return nil
}

func threadNodeKey(thread uint64, mid string) []byte {
	return append(u64(thread), mid...)
}

// ThreadNodes returns the nodes of a thread, placeholders included.
func (t *Tx) ThreadNodes(team string, thread uint64) ([]Node, error) {
	var out []Node
	prefix := u64(thread)
	c := t.b(bThreadNodes).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		var n Node
		ok, err := getJSON(t.b(bNodes), teamKey(team, string(k[8:])), &n)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// --- threads

// NewThread stores th under a new ID and returns it.
func (t *Tx) NewThread(th Thread) (uint64, error) {
	id, err := t.b(bThreads).NextSequence()
	if err != nil {
		return 0, err
	}
	th.ID = id
	return id, putJSON(t.b(bThreads), u64(id), th)
}

// Thread returns thread id, or the thread it was merged into.
func (t *Tx) Thread(id uint64) (Thread, error) {
	var th Thread
	if live, ok := t.ResolveThread(id); ok {
		id = live
	}
	ok, err := getJSON(t.b(bThreads), u64(id), &th)
	if err == nil && !ok {
		err = fmt.Errorf("thread %d: %w", id, ErrNotFound)
	}
	return th, err
}

// PutThread rewrites a thread's record.
func (t *Tx) PutThread(th Thread) error { return putJSON(t.b(bThreads), u64(th.ID), th) }

// MergedThread removes the record of thread from, whose nodes have moved
// into thread into, and remembers where it went: lookups by subject or
// Thread-Index that still name from, and users holding its ID, find into.
func (t *Tx) MergedThread(from, into uint64) error {
	if err := t.b(bThreads).Delete(u64(from)); err != nil {
		return err
	}
	return t.b(bRedirects).Put(u64(from), u64(into))
}

// ResolveThread follows merges from id to the live thread they ended in.
func (t *Tx) ResolveThread(id uint64) (uint64, bool) {
	for range 64 { // merges only go to older threads, but stay bounded
		if t.b(bThreads).Get(u64(id)) != nil {
			return id, true
		}
		v := t.b(bRedirects).Get(u64(id))
		if len(v) != 8 {
			return 0, false
		}
		id = binary.BigEndian.Uint64(v)
	}
	return 0, false
}

// Threads lists the threads of team ("" for all), most recently active first.
func (t *Tx) Threads(team string) ([]Thread, error) {
	var out []Thread
	err := t.b(bThreads).ForEach(func(k, v []byte) error {
		var th Thread
		if err := jsonUnmarshal(v, &th); err != nil {
			return fmt.Errorf("store: decode thread: %w", err)
		}
		if team == "" || th.Team == team {
			out = append(out, th)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].LastAt.Equal(out[j].LastAt) {
			return out[i].LastAt.After(out[j].LastAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, err
}

// ThreadMessages returns the stored messages of a thread in thread order:
// depth first from the roots, siblings oldest first. Placeholders are skipped
// but their children keep their place.
func (t *Tx) ThreadMessages(id uint64) ([]Message, error) {
	th, err := t.Thread(id)
	if err != nil {
		return nil, err
	}
	nodes, err := t.ThreadNodes(th.Team, th.ID)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Node, len(nodes))
	for _, n := range nodes {
		byID[n.MessageID] = n
	}
	children := make(map[string][]Node)
	var roots []Node
	for _, n := range nodes {
		if p, ok := byID[n.Parent]; ok && n.Parent != "" && p.MessageID != n.MessageID {
			children[n.Parent] = append(children[n.Parent], n)
		} else {
			roots = append(roots, n)
		}
	}
	// A placeholder's date is its earliest descendant's, so that it sorts
	// where its subtree begins.
	var earliest func(n Node, seen map[string]bool) time.Time
	earliest = func(n Node, seen map[string]bool) time.Time {
		if n.Seq != 0 || seen[n.MessageID] {
			return n.Date
		}
		seen[n.MessageID] = true
		var e time.Time
		for _, c := range children[n.MessageID] {
			if d := earliest(c, seen); !d.IsZero() && (e.IsZero() || d.Before(e)) {
				e = d
			}
		}
		return e
	}
	order := func(ns []Node) {
		sort.SliceStable(ns, func(i, j int) bool {
			di, dj := earliest(ns[i], map[string]bool{}), earliest(ns[j], map[string]bool{})
			if !di.Equal(dj) {
				return di.Before(dj)
			}
			return ns[i].Seq < ns[j].Seq
		})
	}
	order(roots)
	var out []Message
	visited := make(map[string]bool, len(nodes))
	var walk func(n Node) error
	walk = func(n Node) error {
		if visited[n.MessageID] {
			return nil
		}
		visited[n.MessageID] = true
		if n.Seq != 0 {
			m, err := t.Message(n.Seq)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		cs := children[n.MessageID]
		order(cs)
		for _, c := range cs {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := walk(r); err != nil {
			return nil, err
		}
	}
	// Nodes caught in a parent loop are not reachable from a root: append them
	// in date order so that nothing stored is hidden.
	var rest []Node
	for _, n := range nodes {
		if !visited[n.MessageID] {
			rest = append(rest, n)
		}
	}
	order(rest)
	for _, n := range rest {
		if err := walk(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// --- thread lookup indexes

// ThreadBySubject returns the thread last seen under a normalised subject.
func (t *Tx) ThreadBySubject(team, subject string) (uint64, bool) {
	v := t.b(bSubjects).Get(teamKey(team, subject))
	if len(v) != 8 {
		return 0, false
	}
	return t.ResolveThread(binary.BigEndian.Uint64(v))
}

// SetThreadBySubject records the thread for a normalised subject.
func (t *Tx) SetThreadBySubject(team, subject string, thread uint64) error {
	k := teamKey(team, subject)
	if v := t.b(bSubjects).Get(k); len(v) == 8 && binary.BigEndian.Uint64(v) == thread {
		return nil // unchanged: spare the page write
	}
	return t.b(bSubjects).Put(k, u64(thread))
}

// ThreadByIndex returns the thread recorded for an Outlook conversation key.
func (t *Tx) ThreadByIndex(team, key string) (uint64, bool) {
	v := t.b(bTIndex).Get(teamKey(team, key))
	if len(v) != 8 {
		return 0, false
	}
	return t.ResolveThread(binary.BigEndian.Uint64(v))
}

// SetThreadByIndex records the thread for an Outlook conversation key.
func (t *Tx) SetThreadByIndex(team, key string, thread uint64) error {
	k := teamKey(team, key)
	if v := t.b(bTIndex).Get(k); len(v) == 8 && binary.BigEndian.Uint64(v) == thread {
		return nil
	}
	return t.b(bTIndex).Put(k, u64(thread))
}

// PutUnthreaded records a message kept outside the thread forest (an
// auto-reply or bounce) under its Message-ID, so that it is stored once.
func (t *Tx) PutUnthreaded(team, messageID string, seq uint64) error {
	return t.b(bUnthreaded).Put(teamKey(team, messageID), u64(seq))
}

// Unthreaded returns the sequence number of an unthreaded message.
func (t *Tx) Unthreaded(team, messageID string) (uint64, bool) {
	v := t.b(bUnthreaded).Get(teamKey(team, messageID))
	if len(v) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}
