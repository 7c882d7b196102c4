package mailin

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/store"
)

// Mail to reply addresses: who it posts as, where it goes, and the mail
// commands and answers that come with it.

// replyTarget is where a message to a reply address goes.
type replyTarget struct {
	Member store.Member
	Team   store.Team
	// Thread is the thread posted to; 0 for a reply to a digest whose
	// quote named no one thread.
	Thread uint64
	Via    string // "reply-address" or "digest-reply"
}

// Values of store.Message.Via.
const (
	viaReplyAddress = "reply-address"
	viaDigestReply  = "digest-reply"
)

// badReplyAddress is the one refusal for every way a reply address can be
// wrong — unknown, malformed, forged, another member's, a thread gone —
// so that the answer tells a prober nothing about which part failed.
func badReplyAddress(from string) *Rejection {
	if from == "" {
		from = "a message without a From address"
	}
	return &Rejection{Code: 550, Enhanced: [3]int{5, 7, 1},
		Reason: fmt.Sprintf("this reply address does not take mail from %s: a reply address works only for the member it was sent to, from their own address", from)}
}

// replyTarget checks a reply-address token against the message's authors
// and finds where the message goes.
func (p *Pipeline) replyTarget(tx *store.Tx, tm store.Team, token string, pm *Parsed, rd Reading, now time.Time) (*replyTarget, *Rejection, error) {
	refuse := badReplyAddress(pm.From.Addr)
	authors := pm.Authors
	if len(authors) == 0 {
		authors = []Address{pm.From}
	}
	// Every author must be the one member: a second mailbox in From must
	// not ride on someone else's address.
	var member store.Member
	for i, a := range authors {
		if a.Addr == "" {
			return nil, refuse, nil
		}
		m, err := tx.MemberByAddress(a.Addr)
		if errors.Is(err, store.ErrNotFound) {
			return nil, refuse, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if i > 0 && m.Address != member.Address {
			return nil, refuse, nil
		}
		member = m
	}
	if _, ok := member.Teams[tm.Name]; !ok {
		return nil, refuse, nil
	}
	signer, err := links.FromTx(tx, now, p.domain, "")
	if err != nil {
		return nil, nil, fmt.Errorf("reply address: %w", err)
	}
	tok, ok := signer.CheckToken(tm, member.Address, token)
	if !ok {
		return nil, refuse, nil
	}
	r := &replyTarget{Member: member, Team: tm}
	switch tok.Kind {
	case links.KindThreadReply:
		th, ok, err := liveThread(tx, tok.Thread)
		if err != nil {
			return nil, nil, err
		}
		if !ok || th.Team != tm.Name {
			return nil, refuse, nil
		}
		r.Thread, r.Via = th.ID, viaReplyAddress
	case links.KindDigestReply:
		r.Via = viaDigestReply
		th, ok, err := p.digestThread(tx, signer, member, rd.Quoted+"\n"+quotedLines(rd.Text), pm)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			team, err := tx.Team(th.Team)
			if err != nil {
				return nil, nil, fmt.Errorf("digest reply: team %s: %w", th.Team, err)
			}
			r.Team, r.Thread = team, th.ID
		}
	default:
		return nil, refuse, nil
	}
	return r, nil, nil
}

// liveThread returns a thread by ID, following merges.
func liveThread(tx *store.Tx, id uint64) (store.Thread, bool, error) {
	id, ok := tx.ResolveThread(id)
	if !ok {
		return store.Thread{}, false, nil
	}
	th, err := tx.Thread(id)
	if errors.Is(err, store.ErrNotFound) {
		return th, false, nil
	}
	return th, err == nil, err
}

// digestThread finds the one thread a reply to a digest answers: among the
// threads of the digest it answers (the one its In-Reply-To or References
// name, else any the member was sent lately), those whose subject the kept
// quote contains — or, when it contains none, whose reply address it
// contains. More than one, or none, and the reply names no thread.
func (p *Pipeline) digestThread(tx *store.Tx, signer links.Signer, member store.Member, quoted string, pm *Parsed) (store.Thread, bool, error) {
	if strings.TrimSpace(quoted) == "" {
		return store.Thread{}, false, nil
	}
	entries, err := tx.DigestLog(member.Address)
	if err != nil {
		return store.Thread{}, false, err
	}
	var pool []store.DigestThread
	for _, e := range entries {
		if slices.Contains(pm.InReplyTo, e.MessageID) || slices.Contains(pm.References, e.MessageID) {
			pool = e.Threads
			break
		}
	}
	if pool == nil {
		seen := map[uint64]bool{}
		for _, e := range entries {
			for _, t := range e.Threads {
				if !seen[t.ID] {
					seen[t.ID] = true
					pool = append(pool, t)
				}
			}
		}
	}
	// Longer subjects first, each quoted occurrence taken out once it has
	// counted: "Launch plan B" quoted does not also count for "Launch
	// plan", while both quoted count for both.
	pool = slices.Clone(pool)
	slices.SortStableFunc(pool, func(a, b store.DigestThread) int { return len(b.Subject) - len(a.Subject) })
	q := flatten(quoted)
	var hits, byToken []store.DigestThread
	for _, t := range pool {
		if subj := flatten(t.Subject); len([]rune(subj)) >= 3 && strings.Contains(q, subj) {
			q = strings.ReplaceAll(q, subj, "\x00")
			hits = append(hits, t)
			continue
		}
		if tm, err := tx.Team(t.Team); err == nil {
			addr := signer.ReplyAddress(tm, member.Address, t.ID)
			if _, tok, ok := links.SplitAddress(addr); ok && strings.Contains(q, strings.ToLower(tok)) {
				byToken = append(byToken, t)
			}
		}
	}
	// Subjects decide; the reply links count only when no subject is
	// quoted, since the digest's list of links at its end names them all.
	if len(hits) == 0 {
		hits = byToken
	}
	if len(hits) != 1 {
		return store.Thread{}, false, nil
	}
	return liveThread(tx, hits[0].ID)
}

// quotedLines are the "> " lines of text: an inline reply keeps the
// quotes it answers between its own paragraphs, in its new text.
func quotedLines(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), ">") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// flatten lower-cases s, drops quote markers at line starts and folds all
// white space to single spaces, so that a subject matches a quote however
// the client wrapped and marked it.
func flatten(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimLeft(line, "> \t\r")
		b.WriteString(line)
		b.WriteByte(' ')
	}
	return strings.ToLower(strings.Join(strings.Fields(b.String()), " "))
}

// postReply stores a message sent to a reply address: a mail command
// changes the member's setting, a digest reply that names no thread is
// kept unthreaded and explained, anything else joins the thread. It
// reports whether the message was threaded, and whether an answer was
// queued.
func (p *Pipeline) postReply(tx *store.Tx, r *replyTarget, m *store.Message, pm *Parsed, rd Reading, in *threadInput, now time.Time) (threaded, answered bool, err error) {
	m.Via = r.Via
	if r.Thread == 0 {
		if err := tx.PutUnthreaded(r.Team.Name, pm.MessageID, m.Seq); err != nil {
			return false, false, err
		}
		answered, err = p.answer(tx, pm, Answer{Kind: AnswerDigestHelp, Team: r.Team, Member: r.Member},
			"digest-help:"+r.Member.Address, now)
		return false, answered, err
	}
	th, err := tx.Thread(r.Thread)
	if err != nil {
		return false, false, fmt.Errorf("reply to thread %d: %w", r.Thread, err)
	}
	if rd.Command != "" && m.Kind == store.KindMessage {
		kind, err := applyCommand(tx, r.Member.Address, th.ID, rd.Command)
		if err != nil {
			return false, false, err
		}
		// The command is kept for the record, not posted.
		if err := tx.PutUnthreaded(r.Team.Name, pm.MessageID, m.Seq); err != nil {
			return false, false, err
		}
		answered, err = p.answer(tx, pm, Answer{Kind: kind, Team: r.Team, Member: r.Member, Thread: th},
			fmt.Sprintf("%s:%s:%d", kind, r.Member.Address, th.ID), now)
		return false, answered, err
	}
	parent, err := replyParent(tx, r.Team.Name, th.ID, pm.InReplyTo)
	if err != nil {
		return false, false, err
	}
	// The address decides the thread, whatever the headers say (a phone
	// client may send none): the message answers its In-Reply-To when that
	// is in the thread, else the thread's latest message.
	in.InReplyTo, in.References, in.ThreadIndex = nil, nil, ""
	if parent != "" {
		in.InReplyTo = []string{parent}
	}
	m.Thread, m.Parent, err = p.thread(tx, *in)
	if err != nil {
		return false, false, fmt.Errorf("thread %s: %w", pm.MessageID, err)
	}
	if m.Thread != th.ID {
		// Only a thread that had no message could get here.
		p.log.Warn("reply address: message placed outside its thread", "message_id", pm.MessageID, "thread", th.ID, "placed", m.Thread)
	}
	return true, false, nil
}

// replyParent picks the message a reply to a thread answers: the first of
// its In-Reply-To ids that is a message of the thread, else the thread's
// latest message.
func replyParent(tx *store.Tx, team string, thread uint64, inReplyTo []string) (string, error) {
	for _, id := range inReplyTo {
		n, ok, err := tx.Node(team, id)
		if err != nil {
			return "", err
		}
		if ok && n.Seq != 0 {
			if t, ok := tx.ResolveThread(n.Thread); ok && t == thread {
				return id, nil
			}
		}
	}
	nodes, err := tx.ThreadNodes(team, thread)
	if err != nil {
		return "", err
	}
	var last store.Node
	for _, n := range nodes {
		if n.Seq != 0 && (last.Seq == 0 || n.Date.After(last.Date) || (n.Date.Equal(last.Date) && n.Seq > last.Seq)) {
			last = n
		}
	}
	return last.MessageID, nil
}

// applyCommand changes the member's setting for the thread and returns
// the Answer kind that confirms it.
func applyCommand(tx *store.Tx, member string, thread uint64, cmd string) (string, error) {
	m, err := tx.Member(member)
	if err != nil {
		return "", fmt.Errorf("%s: member %s: %w", cmd, member, err)
	}
	var kind string
	switch cmd {
	case "mute":
		m.Followed = slices.DeleteFunc(m.Followed, func(id uint64) bool { return id == thread })
		if !slices.Contains(m.Muted, thread) {
			m.Muted = append(m.Muted, thread)
		}
		kind = AnswerMuted
	case "unmute":
		m.Muted = slices.DeleteFunc(m.Muted, func(id uint64) bool { return id == thread })
		kind = AnswerUnmuted
	case "follow":
		m.Muted = slices.DeleteFunc(m.Muted, func(id uint64) bool { return id == thread })
		if !slices.Contains(m.Followed, thread) {
			m.Followed = append(m.Followed, thread)
		}
		kind = AnswerFollowed
	default:
		return "", fmt.Errorf("unknown mail command %q", cmd)
	}
	if err := tx.PutMember(m); err != nil {
		return "", fmt.Errorf("%s: member %s: %w", cmd, member, err)
	}
	return kind, nil
}

// answerEvery is how often one automatic answer of a kind goes to one
// member at most (RFC 3834 §2).
const answerEvery = 24 * time.Hour

// answer queues an automatic answer to pm unless pm must not be answered
// (automatic, bulk, or our own mail: RFC 3834) or one went under key in
// the last day. It reports whether it queued one.
func (p *Pipeline) answer(tx *store.Tx, pm *Parsed, a Answer, key string, now time.Time) (bool, error) {
	if p.notifier == nil || pm.Auto != "" || pm.Bulk {
		return false, nil
	}
	if last, ok := tx.LastAnswered(key); ok && now.Sub(last) < answerEvery {
		p.log.Info("automatic answer held back", "kind", a.Kind, "to", a.Member.Address, "last", last)
		return false, nil
	}
	a.InReplyTo, a.Subject = pm.MessageID, pm.Subject
	a.References = append(slices.Clone(pm.References), pm.MessageID)
	if err := p.notifier.Answer(tx, a); err != nil {
		return false, fmt.Errorf("answer %s: %w", a.Kind, err)
	}
	return true, tx.PutAnswered(key, now)
}

// fromOurselves reports whether any author of pm is one of our own
// addresses: a team's, or a reply address of one.
func fromOurselves(tx *store.Tx, pm *Parsed) (bool, error) {
	authors := pm.Authors
	if len(authors) == 0 {
		authors = []Address{pm.From}
	}
	for _, a := range authors {
		if a.Addr == "" {
			continue
		}
		addr := a.Addr
		if base, _, ok := links.SplitAddress(addr); ok {
			addr = base
		}
		_, err := tx.TeamByAddress(addr)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	return false, nil
}
