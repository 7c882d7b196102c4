package mailin

import (
	"errors"
	"fmt"
	"regexp"
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
	// Unsubscribe is set for "unsubscribe" sent to a digest address: the
	// List-Unsubscribe mailto of digests and notifications.
	Unsubscribe bool
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
		if isUnsubscribe(pm, rd) {
			r.Unsubscribe = true
			break
		}
		th, ok, err := p.digestThread(tx, signer, tm, member, rd.Quoted+"\n"+quotedLines(rd.Text), pm)
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

// Bounds on matching a digest reply to a thread, which runs inside the
// write transaction: the quote looked at, and the reply links tried.
const (
	maxDigestQuote  = 64 << 10
	maxQuotedTokens = 16
)

// tokenRE finds reply-address tokens in a quote: base32 letters after a
// '+' (the team's local part before it varies).
var tokenRE = regexp.MustCompile(`\+([a-z2-7]{16,40})@`)

// digestThread finds the one thread a reply to a digest answers: among the
// threads of the digest it answers (the one its In-Reply-To or References
// name, else any the member was sent lately), in teams the member is still
// in, those whose title line ("* Subject" in the text part, the subject
// alone on a line from the HTML part) the kept quote contains — or, when
// it contains none, whose reply link it contains. More than one, or none,
// and the reply names no thread.
func (p *Pipeline) digestThread(tx *store.Tx, signer links.Signer, tm store.Team, member store.Member, quoted string, pm *Parsed) (store.Thread, bool, error) {
	if len(quoted) > maxDigestQuote {
		quoted = quoted[:maxDigestQuote]
	}
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
			pool = slices.Clone(e.Threads)
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
	// A team the member has left is not theirs to post to any more.
	pool = slices.DeleteFunc(pool, func(t store.DigestThread) bool {
		_, in := member.Teams[t.Team]
		return !in
	})
	// Longer subjects first, each quoted title taken out once it has
	// counted: "Launch plan B" quoted does not also count for "Launch
	// plan", while both quoted count for both.
	slices.SortStableFunc(pool, func(a, b store.DigestThread) int { return len(b.Subject) - len(a.Subject) })
	lines := quotedTitleLines(quoted)
	var hits []store.DigestThread
	for _, t := range pool {
		subj := flatten(t.Subject)
		if subj == "" {
			continue
		}
		found := false
		for i, l := range lines {
			// The text part's "* Subject" (maybe followed by its wrapped
			// rest), or the subject alone on its line, as a client's text
			// of the HTML part shows it, perhaps with its link after it.
			if l == subj || strings.HasPrefix(l, subj+" <") ||
				strings.HasPrefix(l, "* "+subj) && (len(l) == len(subj)+2 || l[len(subj)+2] == ' ') {
				lines[i], found = "", true
			}
		}
		if found {
			hits = append(hits, t)
		}
	}
	// The reply links count only when no title is quoted, since the
	// digest's list of links at its end names them all.
	if len(hits) == 0 {
		seen := map[uint64]bool{}
		for i, m := range tokenRE.FindAllStringSubmatch(strings.ToLower(quoted), -1) {
			if i >= maxQuotedTokens {
				break
			}
			tok, ok := signer.CheckToken(tm, member.Address, m[1])
			if !ok || tok.Kind != links.KindThreadReply || seen[tok.Thread] {
				continue
			}
			// Thread tokens of another team are made under that team's
			// name; this finds only the digest's own team's, which is
			// where its links point.
			if i := slices.IndexFunc(pool, func(t store.DigestThread) bool { return t.ID == tok.Thread }); i >= 0 {
				seen[tok.Thread] = true
				hits = append(hits, pool[i])
			}
		}
	}
	if len(hits) != 1 {
		return store.Thread{}, false, nil
	}
	return liveThread(tx, hits[0].ID)
}

// quotedTitleLines are the quote's lines, flattened, with a line that
// continues a "* " title (the text part wraps long subjects, indenting the
// rest) joined to it.
func quotedTitleLines(quoted string) []string {
	var out []string
	for _, raw := range strings.Split(quoted, "\n") {
		l := strings.TrimLeft(raw, "> \t\r")
		indented := len(l) < len(strings.TrimLeft(raw, ">")) && strings.HasPrefix(strings.TrimLeft(raw, ">"), "   ")
		f := flatten(l)
		if f == "" {
			out = append(out, "")
			continue
		}
		if indented && len(out) > 0 && strings.HasPrefix(out[len(out)-1], "* ") {
			out = append(out, "") // keep the count of lines
			out[len(out)-2] += " " + f
			continue
		}
		out = append(out, f)
	}
	return out
}

// isUnsubscribe reports whether mail to a digest address asks to stop
// digests: its new text, or with none its subject, is "unsubscribe"
// (what the List-Unsubscribe mailto writes).
func isUnsubscribe(pm *Parsed, rd Reading) bool {
	word := func(s string) bool {
		return strings.EqualFold(strings.Trim(strings.TrimSpace(s), ".!"), "unsubscribe")
	}
	if t := strings.TrimSpace(rd.Text); t != "" {
		return word(t)
	}
	return word(pm.Subject)
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
func (p *Pipeline) postReply(tx *store.Tx, d Delivery, r *replyTarget, m *store.Message, pm *Parsed, rd Reading, in *threadInput, now time.Time) (threaded, answered bool, err error) {
	m.Via = r.Via
	if r.Unsubscribe || r.Thread == 0 {
		// Kept for the record, not posted.
		if err := tx.PutUnthreaded(r.Team.Name, pm.MessageID, m.Seq); err != nil {
			return false, false, err
		}
		if r.Unsubscribe {
			changed, err := unsubscribe(tx, r.Member.Address)
			if err != nil || !changed {
				return false, false, err
			}
			answered, err = p.answer(tx, d, pm, Answer{Kind: AnswerUnsubscribed, Team: r.Team, Member: r.Member}, "", now)
			return false, answered, err
		}
		answered, err = p.answer(tx, d, pm, Answer{Kind: AnswerDigestHelp, Team: r.Team, Member: r.Member},
			"digest-help:"+r.Member.Address, now)
		return false, answered, err
	}
	th, err := tx.Thread(r.Thread)
	if err != nil {
		return false, false, fmt.Errorf("reply to thread %d: %w", r.Thread, err)
	}
	if rd.Command != "" && m.Kind == store.KindMessage {
		kind, changed, err := applyCommand(tx, r.Member.Address, th.ID, rd.Command)
		if err != nil {
			return false, false, err
		}
		// The command is kept for the record, not posted.
		if err := tx.PutUnthreaded(r.Team.Name, pm.MessageID, m.Seq); err != nil {
			return false, false, err
		}
		// Each change is confirmed, so the last confirmation always says
		// how things stand; a repeat that changed nothing is not.
		if !changed {
			return false, false, nil
		}
		answered, err = p.answer(tx, d, pm, Answer{Kind: kind, Team: r.Team, Member: r.Member, Thread: th}, "", now)
		return false, answered, err
	}
	parent, err := replyParent(tx, r.Team.Name, th.ID, pm.InReplyTo, pm.References)
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
// the ids it names that is a message of the thread, else the thread's
// latest message.
func replyParent(tx *store.Tx, team string, thread uint64, inReplyTo, references []string) (string, error) {
	// In-Reply-To first, then References from the nearest: a reply to a
	// notification names the notification, and the message it carried
	// only in References.
	ids := slices.Clone(inReplyTo)
	for i := len(references) - 1; i >= 0; i-- {
		ids = append(ids, references[i])
	}
	for _, id := range ids {
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
// the Answer kind that confirms it, and whether anything changed.
func applyCommand(tx *store.Tx, member string, thread uint64, cmd string) (string, bool, error) {
	m, err := tx.Member(member)
	if err != nil {
		return "", false, fmt.Errorf("%s: member %s: %w", cmd, member, err)
	}
	muted, followed := slices.Contains(m.Muted, thread), slices.Contains(m.Followed, thread)
	var kind string
	switch cmd {
	case "mute":
		m.Followed = slices.DeleteFunc(m.Followed, func(id uint64) bool { return id == thread })
		if !muted {
			m.Muted = append(m.Muted, thread)
		}
		kind = AnswerMuted
	case "unmute":
		m.Muted = slices.DeleteFunc(m.Muted, func(id uint64) bool { return id == thread })
		kind = AnswerUnmuted
	case "follow":
		m.Muted = slices.DeleteFunc(m.Muted, func(id uint64) bool { return id == thread })
		if !followed {
			m.Followed = append(m.Followed, thread)
		}
		kind = AnswerFollowed
	default:
		return "", false, fmt.Errorf("unknown mail command %q", cmd)
	}
	if slices.Contains(m.Muted, thread) == muted && slices.Contains(m.Followed, thread) == followed {
		return kind, false, nil
	}
	if err := tx.PutMember(m); err != nil {
		return "", false, fmt.Errorf("%s: member %s: %w", cmd, member, err)
	}
	return kind, true, nil
}

// unsubscribe turns off every team of the member that sends them mail,
// and reports whether any was on.
func unsubscribe(tx *store.Tx, member string) (bool, error) {
	m, err := tx.Member(member)
	if err != nil {
		return false, fmt.Errorf("unsubscribe: member %s: %w", member, err)
	}
	changed := false
	for team, mode := range m.Teams {
		if mode != store.ModeOff {
			m.Teams[team], changed = store.ModeOff, true
		}
	}
	if !changed {
		return false, nil
	}
	if err := tx.PutMember(m); err != nil {
		return false, fmt.Errorf("unsubscribe: member %s: %w", member, err)
	}
	return true, nil
}

// answerEvery is how often one automatic answer of a kind goes to one
// member at most (RFC 3834 §2).
const answerEvery = 24 * time.Hour

// answer queues an automatic answer to pm unless pm must not be answered
// (automatic, bulk, our own mail, or sent with the null return path: RFC
// 3834) or, with a key, one went under key in the last day. It reports
// whether it queued one.
func (p *Pipeline) answer(tx *store.Tx, d Delivery, pm *Parsed, a Answer, key string, now time.Time) (bool, error) {
	if p.notifier == nil || pm.Auto != "" || pm.Bulk || d.EnvelopeFrom == "" {
		return false, nil
	}
	if key != "" {
		if last, ok := tx.LastAnswered(key); ok && now.Sub(last) < answerEvery {
			p.log.Info("automatic answer held back", "kind", a.Kind, "to", a.Member.Address, "last", last)
			return false, nil
		}
	}
	a.InReplyTo, a.Subject = pm.MessageID, pm.Subject
	a.References = append(slices.Clone(pm.References), pm.MessageID)
	if err := p.notifier.Answer(tx, a); err != nil {
		return false, fmt.Errorf("answer %s: %w", a.Kind, err)
	}
	if key == "" {
		return true, nil
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
