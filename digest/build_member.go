package digest

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/store"
)

var sectionOrder = [...]string{SectionUrgent, SectionWaiting, SectionYours, SectionNew, SectionOther}

// Build builds in.Member's digest from p. The messages, threads and history
// are p's: those fields of in are not used.
func (p *Prepared) Build(in Input) (*Digest, bool) {
	lim := in.Limits.withDefaults()
	loc := in.Loc
	if loc == nil {
		loc = time.UTC
	}
	days := in.Days
	if days == ([7]bool{}) {
		days = [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true}
	}
	me := strings.ToLower(in.Member.Address)
	b := builder{
		in:      in,
		me:      me,
		handles: handlesOf(in.Member),
		loc:     loc,
		days:    days,
		due:     in.Due.UTC(),
	}
	teams := make(map[string]store.Team, len(in.Teams))
	for _, tm := range in.Teams {
		teams[tm.Name] = tm
	}
	muted := make(map[uint64]bool, len(in.Member.Muted))
	for _, id := range in.Member.Muted {
		muted[id] = true
	}

	d := &Digest{
		Member:         in.Member,
		Due:            b.due,
		Date:           in.Due.In(loc),
		Cursor:         p.maxSeq,
		UnsubscribeURL: in.Links.UnsubscribeURL(me),
		Schedule:       scheduleText(in.Member, in.Due.In(loc), loc, days),
	}
	var sections [len(sectionOrder)][]ThreadView
	news := make(map[string]int)
	seen := make(map[uint64]bool)
	for _, t := range p.threads {
		if _, ok := teams[t.team]; !ok || muted[t.id] {
			continue
		}
		n := t.items - t.byAuthor[me]
		if n == 0 {
			continue // only the member's own messages
		}
		seen[t.id] = true
		tv, sec := b.view(t, lim)
		sections[sec] = append(sections[sec], tv)
		news[t.team] += n
		d.Counts.Threads++
		d.Counts.Updates += n
	}
	// Threads still waiting on the member from earlier digests, without
	// news: a reminder, with their age.
	for _, id := range in.Waiting {
		if seen[id] || muted[id] {
			continue
		}
		seen[id] = true
		rec, ok := p.records[id]
		if !ok {
			continue
		}
		if _, ok := teams[rec.Team]; !ok {
			continue
		}
		if tv, ok := b.carried(p, rec); ok {
			sections[1] = append(sections[1], tv)
		}
	}

	for i, key := range sectionOrder {
		ts := sections[i]
		if key == SectionWaiting {
			slices.SortStableFunc(ts, func(a, b ThreadView) int {
				if a.Overdue != b.Overdue {
					if a.Overdue {
						return -1
					}
					return 1
				}
				return a.Since.Compare(b.Since)
			})
		}
		for _, tv := range ts {
			if tv.Urgent {
				d.Counts.Urgent++
			}
			if tv.Waiting {
				d.Counts.Waiting++
				d.Waiting = append(d.Waiting, tv.ID)
				if tv.Overdue {
					d.Counts.Overdue++
				}
			}
		}
	}
	budget := lim.Threads
	for i, key := range sectionOrder {
		ts := sections[i]
		if len(ts) == 0 {
			continue
		}
		s := Section{Key: key, Title: sectionTitles[key], Compact: key == SectionOther}
		limit := budget
		if s.Compact {
			limit = lim.Compact
		}
		if len(ts) > limit {
			s.More = len(ts) - limit
			ts = ts[:limit]
		}
		if !s.Compact {
			budget -= len(ts)
		}
		for j := range ts {
			b.links(&ts[j], teams[ts[j].Team])
		}
		s.Threads = ts
		d.More += s.More
		if len(ts) > 0 || s.More > 0 {
			d.Sections = append(d.Sections, s)
		}
	}

	d.Team = pickTeam(in.Teams, news)
	if d.Team.Name != "" {
		d.ReplyTo = in.Links.DigestAddress(d.Team, me)
	}
	d.Subject = subject(d)
	return d, d.Counts.Threads > 0
}

type builder struct {
	in      Input
	me      string
	handles []string
	loc     *time.Location
	days    [7]bool
	due     time.Time
}

// view makes the member's view of a thread with news, and the section it
// goes in.
func (b *builder) view(t *pthread, lim Limits) (ThreadView, int) {
	tv := ThreadView{
		ID:      t.id,
		Subject: t.subject,
		Team:    t.team,
		New:     t.items - t.byAuthor[b.me],
		Urgent:  t.urgent-t.urgentBy[b.me] > 0,
		LastAt:  t.lastAt,
		shared:  t,
	}
	msgs := t.msgs
	if t.byAuthor[b.me] > 0 {
		msgs = make([]*MessageView, 0, len(t.msgs))
		for _, m := range t.msgs {
			if m.Address != b.me {
				msgs = append(msgs, m)
			}
		}
		tv.Reactions = aggregate(t.reactions, b.me)
	} else {
		tv.Reactions = t.reacted
	}
	if len(msgs) > lim.Messages {
		tv.More = len(msgs) - lim.Messages
		msgs = msgs[len(msgs)-lim.Messages:]
	}
	tv.Messages = msgs
	if _, ok := t.lastPost[b.me]; ok {
		tv.Participants = b.participants(t.people)
		tv.shared = nil // their own view: not worth keeping for others
	} else {
		tv.Participants = t.names // shared: the member is not among them
	}
	if a, ok := b.waitingSince(t); ok {
		tv.Waiting, tv.Since = true, a.msg.Received
		tv.AgeDays, tv.Overdue = businessDays(a.msg.Received, b.due, b.loc, b.days)
		tv.shared = nil
	}
	switch {
	case tv.Urgent:
		return tv, 0
	case tv.Waiting:
		return tv, 1
	case t.starter == b.me || t.lastPost[b.me] > 0 || slices.Contains(b.in.Member.Followed, t.id):
		return tv, 2
	case t.fresh:
		return tv, 3
	}
	return tv, 4
}

// carried makes the view of a thread that waits on the member but has no
// news: the message that asked them, and how long ago.
func (b *builder) carried(p *Prepared, rec store.Thread) (ThreadView, bool) {
	t := p.newThread(rec.ID, &store.Message{Team: rec.Team, Subject: rec.Subject})
	a, ok := b.waitingSince(t)
	if !ok {
		return ThreadView{}, false
	}
	tv := ThreadView{
		ID:           rec.ID,
		Subject:      t.subject,
		Team:         t.team,
		Participants: b.participants(t.people),
		Messages:     []*MessageView{newMessageView(a.msg)},
		Waiting:      true,
		Since:        a.msg.Received,
		LastAt:       rec.LastAt,
	}
	tv.AgeDays, tv.Overdue = businessDays(a.msg.Received, b.due, b.loc, b.days)
	return tv, true
}

// waitingSince finds the first message that addressed the member, by
// address or @handle, after they last wrote in the thread.
func (b *builder) waitingSince(t *pthread) (ask, bool) {
	last := t.lastPost[b.me]
	var first ask
	found := false
	try := func(asks []ask) {
		for _, a := range asks {
			if a.seq > last && !strings.EqualFold(a.msg.From, b.me) {
				if !found || a.seq < first.seq {
					first, found = a, true
				}
				return
			}
		}
	}
	try(t.asksTo[b.me])
	for _, h := range b.handles {
		try(t.asksAt[h])
	}
	return first, found
}

func (b *builder) participants(people []person) []string {
	out := make([]string, len(people))
	for i, p := range people {
		if p.addr == b.me {
			out[i] = "you"
		} else {
			out[i] = p.name
		}
	}
	return out
}

// links fills in the thread's addresses and URLs: only for threads shown,
// as each costs a MAC.
func (b *builder) links(tv *ThreadView, team store.Team) {
	if team.Name == "" {
		team = store.Team{Name: tv.Team}
	}
	l := b.in.Links
	tv.ReplyAddress = l.ReplyAddress(team, b.me, tv.ID)
	tv.ReplyMailto = mailto(tv.ReplyAddress, replySubject(tv.Subject))
	tv.ThreadURL = l.ThreadURL(tv.ID)
	tv.MuteURL = l.MuteURL(b.me, tv.ID)
}

// mailtoEscaper escapes what url.PathEscape leaves alone but a mailto:
// query must not hold raw. (QueryEscape would write a space as '+', and
// RFC 6068 wants "%20".)
var mailtoEscaper = strings.NewReplacer("&", "%26", "=", "%3D", "+", "%2B", "?", "%3F", "#", "%23")

// mailto makes a mailto: URI (RFC 6068) with a subject.
func mailto(addr, subject string) string {
	return "mailto:" + addr + "?subject=" + mailtoEscaper.Replace(url.PathEscape(subject))
}

// replySubject is "Re: " and the subject, once.
func replySubject(s string) string {
	if len(s) >= 3 && strings.EqualFold(s[:3], "re:") {
		return s
	}
	return "Re: " + s
}

// handlesOf lists the @handles that address m: the local part of their
// address, their first name and their name written as one word.
func handlesOf(m store.Member) []string {
	var hs []string
	add := func(h string) {
		h = strings.ToLower(strings.Trim(h, ".-_"))
		if len([]rune(h)) >= 2 && !slices.Contains(hs, h) {
			hs = append(hs, h)
		}
	}
	if local, _, ok := strings.Cut(m.Address, "@"); ok {
		add(local)
	}
	if f := strings.Fields(m.Name); len(f) > 0 {
		add(f[0])
		add(strings.Join(f, ""))
	}
	return hs
}

// pickTeam is the team a digest comes from: the one with most news, the
// first listed on a tie.
func pickTeam(teams []store.Team, news map[string]int) store.Team {
	var best store.Team
	n := -1
	for _, tm := range teams {
		if news[tm.Name] > n {
			best, n = tm, news[tm.Name]
		}
	}
	return best
}

// subject says what needs the reader: "[tidings] 2 waiting on you · 9
// updates · Mon 30 Nov".
func subject(d *Digest) string {
	var parts []string
	if d.Counts.Urgent > 0 {
		parts = append(parts, fmt.Sprintf("%d urgent", d.Counts.Urgent))
	}
	if d.Counts.Waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting on you", d.Counts.Waiting))
	}
	parts = append(parts, count(d.Counts.Updates, "update", "updates"), d.Date.Format("Mon 2 Jan"))
	return "[tidings] " + strings.Join(parts, " · ")
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// scheduleText says when the member's digests come: "09:00
// Europe/Berlin, mon-fri".
func scheduleText(m store.Member, local time.Time, loc *time.Location, days [7]bool) string {
	start := m.Start
	if c, err := config.ParseClock(start); err == nil {
		start = c.String()
	} else {
		start = local.Format("15:04")
	}
	var set config.Days
	for i, on := range days {
		if on {
			set |= 1 << uint(i)
		}
	}
	return start + " " + loc.String() + ", " + set.String()
}

// businessDays counts the member's working days from since to due, each in
// their zone: the working days after since's date up to and including
// due's. Overdue is whether due's date lies past the first working day
// after since's: the end of the next business day has passed.
func businessDays(since, due time.Time, loc *time.Location, days [7]bool) (age int, overdue bool) {
	from := civilDay(since.In(loc))
	to := civilDay(due.In(loc))
	if !to.After(from) {
		return 0, false
	}
	perWeek := 0
	for _, on := range days {
		if on {
			perWeek++
		}
	}
	if perWeek == 0 {
		return 0, false
	}
	n := int(to.Sub(from).Hours()/24 + 0.5)
	age = n / 7 * perWeek
	for d := from.AddDate(0, 0, n/7*7+1); !d.After(to); d = d.AddDate(0, 0, 1) {
		if days[d.Weekday()] {
			age++
		}
	}
	next := from.AddDate(0, 0, 1)
	for !days[next.Weekday()] {
		next = next.AddDate(0, 0, 1)
	}
	return age, to.After(next)
}
