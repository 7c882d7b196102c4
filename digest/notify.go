package digest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/mailin"
	"github.com/tidings/tidings/mailout"
	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

// WorkingHours is how long a member's working day lasts from its start. An
// urgent message reaches a member in digest mode at once when it arrives on
// one of their working days, in their zone, at or after their start time
// and less than WorkingHours later: from 09:00 until 17:00 for most. It is
// elapsed time, so a day across a change of clock lasts as long as any
// other. Eight hours is the working day without its breaks; a member who is
// reached a little before they stop still finds the message in their next
// digest.
const WorkingHours = 8 * time.Hour

// Working reports whether instant at falls within one of s's working days:
// at or after a day's start and less than WorkingHours after it.
func (s Schedule) Working(at time.Time) bool {
	start := s.Last(at)
	return !start.IsZero() && at.Sub(start) < WorkingHours
}

// Kinds of Notice, recorded with the mail in the outbox.
const (
	NoticeNotify = "notify" // one message, sent as it arrives
	NoticeAnswer = "answer" // an automatic answer to a member's mail
)

// Why a member is sent a message at once (Notice.Reason for NoticeNotify).
const (
	ReasonImmediate = "immediate" // in mode immediate for the team
	ReasonUrgent    = "urgent"    // urgent, and the member is at work
)

// Notice is a notification or an automatic answer on its way to the
// outbox.
type Notice struct {
	Kind   string // NoticeNotify or NoticeAnswer
	Team   store.Team
	Member store.Member
	// Reason is ReasonImmediate or ReasonUrgent for a notification, the
	// answer's kind (mailin.AnswerMuted …) for an answer.
	Reason string
	// Mail is the whole mail but for the team's list identity (ListID and
	// ListName), which the queue adds to a notification as it does to a
	// digest.
	Mail mailout.Mail
	// EnvelopeFrom is the SMTP reverse-path: the team's address for a
	// notification, as for a digest, so that bounces come back to the
	// team; mailout.NullSender for an answer (RFC 3834 § 3.3), so that
	// nothing answers it back.
	EnvelopeFrom string
}

// NotifyQueueFunc puts a notice in the outbox within tx and returns its
// outbox ID. It must have no effect outside tx: the store may run it
// again. An error wrapping mailout.ErrInvalid says the mail cannot be
// written (an address or Message-ID that is not well-formed); the Notifier
// then drops that one mail rather than refuse the message that caused it.
type NotifyQueueFunc func(tx *store.Tx, n Notice) (uint64, error)

// Notifier sends the mail that the arrival of a message causes at once: a
// copy of each new message to the members in mode immediate for its team,
// and of each urgent message to the members in mode digest who are at work
// (see WorkingHours); and the short automatic answers of mailin.Answer. It
// implements mailin.Notifier: the pipeline calls it inside the transaction
// that stores the message, so that what it queues commits with the message
// or not at all.
//
// Each member gets one mail per message, threaded in their mail client: its
// In-Reply-To and References name one Message-ID per thread (ThreadID),
// the same in every notification of the thread, and its Reply-To is the
// member's reply address for the thread. Its From is the author's name
// "via" the team, at the team's address — what Mailman and Google Groups
// write when they may not send as the author (DMARC) — so that the mail
// passes the team domain's checks and still says who wrote.
//
// An urgent message sent at once still shows in the member's next digest,
// at its top under Urgent: the digest remains the one complete account of
// what happened since the last, and the notification may have been read
// on a phone and forgotten. Members in mode immediate for a team get no
// digest of that team at all (Runner builds digests from mode-digest teams
// only).
//
// Renderer and Queue are required. Its methods do not block beyond the
// transaction's own work and are safe for concurrent use.
type Notifier struct {
	Renderer *templates.Renderer
	// Domain is the instance's domain: of Message-IDs, and of reply
	// addresses when a team's address has none. BaseURL is the web side's
	// address ([http] base_url); "" leaves out the web links.
	Domain, BaseURL string
	Defaults        Defaults
	Queue           NotifyQueueFunc
	// Now is the clock, for what has no time of its own (an answer's
	// Date, a message without Received); nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

var _ mailin.Notifier = (*Notifier)(nil)

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now().UTC()
	}
	return time.Now().UTC()
}

func (n *Notifier) log() *slog.Logger {
	if n.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return n.Logger.With("component", "notify")
}

// ThreadID is the Message-ID (without angle brackets) that every
// notification of a thread names in In-Reply-To and References: no mail
// carries it, but mail clients group the mails that refer to one missing
// parent together (RFC 5256's threading keeps it as a placeholder).
func ThreadID(team string, thread uint64, domain string) string {
	return mailout.MessageID("thread", team+"/"+strconv.FormatUint(thread, 10), domain)
}

// Posted queues a copy of m for each member it goes to at once: those in
// mode immediate for m's team, and when m is urgent those in mode digest
// who are at work at m.Received (by their schedule, see WorkingHours).
// Never its author, nor a member who muted its thread (unless they follow
// it), nor one in mode off; reactions go to no one (they show in digests).
//
// Everything depends on m and the store, not on the clock: a transaction
// run again queues the same bytes under the same Message-ID.
func (n *Notifier) Posted(tx *store.Tx, m *store.Message) error {
	if m.Kind == store.KindReaction || m.Thread == 0 || m.Auto != "" {
		return nil
	}
	at := m.Received
	if at.IsZero() {
		at = n.now()
	}
	team, err := tx.Team(m.Team)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("digest: notify %s: %w", m.MessageID, err)
	}
	th, err := tx.Thread(m.Thread)
	if err != nil {
		return fmt.Errorf("digest: notify %s: %w", m.MessageID, err)
	}
	members, err := tx.Members()
	if err != nil {
		return fmt.Errorf("digest: notify %s: %w", m.MessageID, err)
	}
	var (
		signer *links.Signer
		mv     templates.Message                    // the message as notifications show it, made once needed
		blocks = make(map[string]*templates.Blocks) // the message rendered, per zone
	)
	for _, mem := range members {
		reason, sched := n.reason(mem, m, at)
		if reason == "" {
			continue
		}
		if signer == nil {
			s, err := links.FromTx(tx, at, n.Domain, n.BaseURL)
			if err != nil {
				return fmt.Errorf("digest: notify %s: %w", m.MessageID, err)
			}
			signer = &s
			mv = notifyMessageView(m)
		}
		nt, err := n.notice(*signer, team, th, mem, m, mv, reason, sched, at, blocks)
		if err != nil {
			// A template that fails on this message fails on it every
			// time: refusing the message for it would hold up the team's
			// mail for good.
			n.log().Error("notification not sent", "member", mem.Address, "message_id", m.MessageID, "error", err)
			continue
		}
		if err := n.queue(tx, nt); err != nil {
			return fmt.Errorf("digest: notify %s of %s: %w", mem.Address, m.MessageID, err)
		}
	}
	return nil
}

// reason says why mem gets m at once ("" for not at all), with mem's
// schedule.
func (n *Notifier) reason(mem store.Member, m *store.Message, at time.Time) (string, Schedule) {
	mode, ok := mem.Teams[m.Team]
	if !ok || mode == store.ModeOff || isAuthor(mem, m.From) || muted(mem, m.Thread) {
		return "", Schedule{}
	}
	// Most messages go to nobody at once: the schedule (a zone to load)
	// is worked out only for those who may get one.
	if mode != store.ModeImmediate && !(mode == store.ModeDigest && m.Urgent) {
		return "", Schedule{}
	}
	sched, err := ScheduleOf(mem, n.Defaults)
	if err != nil {
		// A zone this build does not know: rendered in UTC, and never
		// judged at work.
		n.log().Warn("member schedule", "member", mem.Address, "error", err)
		sched = Schedule{}
	}
	switch {
	case mode == store.ModeImmediate:
		return ReasonImmediate, sched
	case mode == store.ModeDigest && m.Urgent && sched.Working(at):
		return ReasonUrgent, sched
	}
	return "", sched
}

func isAuthor(mem store.Member, from string) bool {
	if strings.EqualFold(mem.Address, from) {
		return true
	}
	for _, a := range mem.Aliases {
		if strings.EqualFold(a, from) {
			return true
		}
	}
	return false
}

// muted reports whether mem muted the thread and does not follow it.
func muted(mem store.Member, thread uint64) bool {
	for _, id := range mem.Followed {
		if id == thread {
			return false
		}
	}
	for _, id := range mem.Muted {
		if id == thread {
			return true
		}
	}
	return false
}

// notifyMaxRunes bounds the text of a notification: the whole new text of
// almost any message, while the HTML part stays well under the 102 KB at
// which Gmail clips a mail.
const notifyMaxRunes = 20000

// notifyMessageView is the message as a notification shows it: its new
// text whole (up to notifyMaxRunes), unlike a digest's excerpt.
func notifyMessageView(m *store.Message) templates.Message {
	from := strings.ToLower(m.From)
	v := templates.Message{From: displayName(m.FromName, from), Address: from,
		Attachments: attachments(m.Attachments)}
	text := newText(m.Text, m.Kind)
	if m.Kind == store.KindForward {
		v.Forwarded, text = forwardView(m, text)
	}
	v.Text, v.Truncated = cutRunes(text, notifyMaxRunes)
	return v
}

// notice composes mem's notification of m.
func (n *Notifier) notice(l links.Signer, team store.Team, th store.Thread, mem store.Member, m *store.Message,
	mv templates.Message, reason string, sched Schedule, at time.Time, blocks map[string]*templates.Blocks) (Notice, error) {
	loc := sched.loc()
	me := strings.ToLower(mem.Address)
	thread := threadSubject(th.Subject, m.Subject, team.Name)
	reply := m.Parent != "" || th.Count > 1
	subj := "[" + team.Name + "] "
	if m.Urgent {
		subj += "[urgent] "
	}
	if reply {
		subj += replySubject(thread)
	} else {
		subj += thread
	}
	replyAddr := l.ReplyAddress(team, me, th.ID)
	v := &templates.Notification{
		Subject:        subj,
		Preheader:      preheader(mv),
		Thread:         thread,
		Team:           team.Name,
		Urgent:         m.Urgent,
		Why:            why(reason, team.Name),
		Message:        mv,
		ReplyMailto:    mailto(replyAddr, replySubject(thread)),
		ReplyAddress:   replyAddr,
		URL:            l.ThreadURL(th.ID),
		MuteURL:        l.MuteURL(me, th.ID),
		UnsubscribeURL: l.UnsubscribeURL(me),
	}
	v.Message.URL = v.URL
	v.Message.When = when(m.Date, at.In(loc), loc)
	// The message's rendering depends on the reader only through their
	// zone (its time): render it once per zone.
	key := loc.String() + " " + v.Message.When
	if b := blocks[key]; b != nil {
		v.Message.Blocks = b
	} else {
		b, err := n.Renderer.Message(v.Message)
		if err != nil {
			return Notice{}, err
		}
		blocks[key], v.Message.Blocks = b, b
	}
	text, html, err := n.Renderer.Notification(v)
	if err != nil {
		return Notice{}, err
	}
	threadID := ThreadID(team.Name, th.ID, n.Domain)
	ml := mailout.Mail{
		From:      mail.Address{Name: mv.From + " via " + team.Name, Address: team.Address},
		To:        mail.Address{Name: mem.Name, Address: mem.Address},
		ReplyTo:   &mail.Address{Address: replyAddr},
		Subject:   subj,
		Date:      at.In(loc),
		MessageID: mailout.MessageID(NoticeNotify, team.Name+"|"+m.MessageID+"|"+me, n.Domain),
		InReplyTo: threadID,
		// The message's own Message-ID after the thread's: a reply to the
		// notification carries it back in its References, so that the
		// reply answers this message, not merely the thread.
		References:     notifyReferences(threadID, m),
		UnsubscribeURL: v.UnsubscribeURL,
		// As a digest's: a reply "unsubscribe" to the member's digest
		// address.
		UnsubscribeMailto: "mailto:" + l.DigestAddress(team, me) + "?subject=unsubscribe",
		Text:              text,
		HTML:              html,
	}
	return Notice{Kind: NoticeNotify, Team: team, Member: mem, Reason: reason, Mail: ml, EnvelopeFrom: team.Address}, nil
}

// notifyReferences are a notification's References: the thread's stable
// ID, then the message's Message-ID unless it is one we made up.
func notifyReferences(threadID string, m *store.Message) []string {
	if m.Synthetic || m.MessageID == "" {
		return []string{threadID}
	}
	return []string{threadID, m.MessageID}
}

// threadSubject is the subject a notification shows for its thread: the
// thread's, without the tags a notification writes itself ([urgent], the
// team's name).
func threadSubject(subject, fallback, team string) string {
	if strings.TrimSpace(subject) == "" {
		subject = fallback
	}
	s := strings.TrimSpace(subject)
	for strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			break
		}
		tag := strings.TrimSpace(s[1:i])
		if !strings.EqualFold(tag, "urgent") && !strings.EqualFold(tag, team) {
			break
		}
		s = strings.TrimSpace(s[i+1:])
	}
	if s == "" {
		return "(no subject)"
	}
	return s
}

func why(reason, team string) string {
	if reason == ReasonUrgent {
		return "This message is marked urgent and came at once, as you are at work now; it will also be at the top of your next digest."
	}
	return fmt.Sprintf("You get every message of %s as it arrives.", team)
}

// preheader is the line a mail client shows beside the subject: who wrote,
// and how the message begins.
func preheader(m templates.Message) string {
	s := strings.Join(strings.Fields(m.Text), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	if s == "" {
		return m.From
	}
	return m.From + ": " + s
}

// queue queues one notice; a mail that cannot be written is logged and
// dropped, as refusing the message that caused it would hold it up for
// good.
func (n *Notifier) queue(tx *store.Tx, nt Notice) error {
	_, err := n.Queue(tx, nt)
	if errors.Is(err, mailout.ErrInvalid) && len(nt.Mail.References) > 1 {
		// The message's own Message-ID may be one we cannot write back.
		nt.Mail.References = nt.Mail.References[:1]
		_, err = n.Queue(tx, nt)
	}
	if errors.Is(err, mailout.ErrInvalid) {
		n.log().Error("mail not sent: it cannot be written", "kind", nt.Kind, "member", nt.Member.Address, "error", err)
		return nil
	}
	return err
}

// Answer queues one automatic answer: from the team's address to the
// member, marked Auto-Submitted: auto-replied (RFC 3834), threaded under
// the mail it answers, under a Message-ID made from its kind, member and
// that mail's, so that a transaction run again queues it under the same
// one.
func (n *Notifier) Answer(tx *store.Tx, a mailin.Answer) error {
	now := n.now()
	me := strings.ToLower(a.Member.Address)
	v := &templates.Answer{
		Kind:        a.Kind,
		Member:      displayName(a.Member.Name, me),
		Team:        a.Team.Name,
		TeamAddress: a.Team.Address,
	}
	switch a.Kind {
	case mailin.AnswerMuted, mailin.AnswerUnmuted, mailin.AnswerFollowed, mailin.AnswerDigestHelp, mailin.AnswerUnsubscribed:
	default:
		return fmt.Errorf("digest: answer %q to %s: no such kind", a.Kind, me)
	}
	var replyTo *mail.Address
	subject := a.Subject
	l, err := links.FromTx(tx, now, n.Domain, n.BaseURL)
	if err != nil {
		return fmt.Errorf("digest: answer %s to %s: %w", a.Kind, me, err)
	}
	switch a.Kind {
	case mailin.AnswerDigestHelp, mailin.AnswerUnsubscribed:
		// A reply to the answer ("ok, thanks") goes back to the member's
		// digest address, never to the whole team.
		replyTo = &mail.Address{Address: l.DigestAddress(a.Team, me)}
	default:
		v.Thread = threadSubject(a.Thread.Subject, "", a.Team.Name)
		v.ReplyAddress = l.ReplyAddress(a.Team, me, a.Thread.ID)
		v.URL = l.ThreadURL(a.Thread.ID)
		// A reply to the confirmation ("unmute") reaches the thread's
		// reply address, where it is read as a mail command again.
		replyTo = &mail.Address{Address: v.ReplyAddress}
		if strings.TrimSpace(subject) == "" {
			subject = v.Thread
		}
	}
	if strings.TrimSpace(subject) == "" {
		subject = "your mail to " + a.Team.Name
	}
	text, err := n.Renderer.Answer(v)
	if err != nil {
		n.log().Error("answer not sent", "kind", a.Kind, "member", me, "error", err)
		return nil
	}
	loc := time.UTC
	if s, err := ScheduleOf(a.Member, n.Defaults); err == nil {
		loc = s.loc()
	}
	ml := mailout.Mail{
		From:          mail.Address{Name: a.Team.Name, Address: a.Team.Address},
		To:            mail.Address{Name: a.Member.Name, Address: a.Member.Address},
		ReplyTo:       replyTo,
		Subject:       replySubject(subject),
		Date:          now.In(loc),
		MessageID:     mailout.MessageID(NoticeAnswer, a.Kind+"|"+me+"|"+a.InReplyTo, n.Domain),
		InReplyTo:     a.InReplyTo,
		References:    a.References,
		AutoSubmitted: "auto-replied",
		Text:          text,
	}
	nt := Notice{Kind: NoticeAnswer, Team: a.Team, Member: a.Member, Reason: a.Kind, Mail: ml, EnvelopeFrom: mailout.NullSender}
	_, err = n.Queue(tx, nt)
	if errors.Is(err, mailout.ErrInvalid) && (ml.InReplyTo != "" || len(ml.References) > 0) {
		// The answered mail's Message-IDs may be ones we cannot write
		// back: send the answer unthreaded rather than not at all.
		nt.Mail.InReplyTo, nt.Mail.References = "", nil
		_, err = n.Queue(tx, nt)
	}
	if errors.Is(err, mailout.ErrInvalid) {
		n.log().Error("answer not sent: it cannot be written", "kind", a.Kind, "member", me, "error", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("digest: answer %s to %s: %w", a.Kind, me, err)
	}
	return nil
}
