package digest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

// Render renders a digest as its text and HTML parts. Each message is
// rendered once and kept with it for every digest of the same day and zone
// that shows it, so digests built from one Prepared share the work: render
// them all with the same Renderer.
func Render(d *Digest, r *templates.Renderer) (text, html []byte, err error) {
	v, err := View(d, r)
	if err == nil {
		text, html, err = r.Digest(v)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("digest: render for %s: %w", d.Member.Address, err)
	}
	return text, html, nil
}

// View is the digest as the templates see it, every value formatted for
// the member's zone. With r, its messages come rendered (see Render);
// with nil, the templates package renders them.
func View(d *Digest, r *templates.Renderer) (*templates.Digest, error) {
	loc := d.Date.Location()
	v := &templates.Digest{
		Subject:        d.Subject,
		Member:         displayName(d.Member.Name, d.Member.Address),
		Date:           d.Date.Format("Monday 2 January 2006"),
		Summary:        summary(d),
		More:           d.More,
		Schedule:       d.Schedule,
		UnsubscribeURL: d.UnsubscribeURL,
		Sections:       make([]templates.Section, 0, len(d.Sections)),
	}
	var firsts []string
	for _, s := range d.Sections {
		vs := templates.Section{Key: s.Key, Title: s.Title, Compact: s.Compact, More: s.More,
			Threads: make([]templates.Thread, 0, len(s.Threads))}
		for _, t := range s.Threads {
			if len(firsts) < 3 {
				firsts = append(firsts, t.Subject)
			}
			vt, err := threadView(&t, s.Compact, d.Date, loc, r)
			if err != nil {
				return nil, err
			}
			vs.Threads = append(vs.Threads, vt)
		}
		v.Sections = append(v.Sections, vs)
	}
	v.Preheader = v.Summary
	if len(firsts) > 0 {
		v.Preheader += ": " + strings.Join(firsts, " · ")
	}
	return v, nil
}

func threadView(t *ThreadView, compact bool, now time.Time, loc *time.Location, r *templates.Renderer) (templates.Thread, error) {
	vt := templates.Thread{
		Subject:      t.Subject,
		Team:         t.Team,
		Participants: people(t.Participants),
		New:          t.New,
		Urgent:       t.Urgent,
		Overdue:      t.Overdue,
		More:         t.More,
		Compact:      compact,
		URL:          t.ThreadURL,
		ReplyMailto:  t.ReplyMailto,
		ReplyAddress: t.ReplyAddress,
		MuteURL:      t.MuteURL,
	}
	if t.Waiting {
		vt.Age = age(t.AgeDays)
	}
	for _, re := range t.Reactions {
		vt.Reactions = append(vt.Reactions, templates.Reaction{Emoji: re.Text, Count: re.Count, Names: strings.Join(re.Names, ", ")})
	}
	day := loc.String() + " " + now.Format(time.DateOnly)
	if r == nil {
		vt.Messages = messages(t, now, loc)
		return vt, nil
	}
	// Most members see a thread alike: rendered once for them all.
	var key string
	if t.shared != nil {
		key = blockKey(day, &vt, t.Messages)
		if b := t.shared.cache.get(key); b != nil {
			vt.Blocks = b
			return vt, nil
		}
	}
	if !compact {
		vt.Messages = make([]templates.Message, 0, len(t.Messages))
		for _, m := range t.Messages {
			vm := templates.Message{From: m.From, Address: m.Address, Forwarded: m.Forwarded, Text: m.Text, Truncated: m.Truncated}
			b := m.cache.get(day)
			if b == nil {
				vm.When, vm.URL, vm.Attachments = when(m.Date, now, loc), t.ThreadURL, attachments(m.Attachments)
				var err error
				if b, err = r.Message(vm); err != nil {
					return vt, err
				}
				m.cache.put(day, b)
			}
			vm.Blocks = b
			vt.Messages = append(vt.Messages, vm)
		}
	}
	b, err := r.Thread(vt)
	if err != nil {
		return vt, err
	}
	if t.shared != nil {
		t.shared.cache.put(key, b)
	}
	vt.Blocks = b
	return vt, nil
}

// blockKey names what a thread's rendering depends on besides the thread:
// the member's zone and day, and the fields that differ between members.
func blockKey(day string, t *templates.Thread, shown []*MessageView) string {
	var b strings.Builder
	b.WriteString(day)
	for _, m := range shown {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(m.Seq, 10))
	}
	for _, s := range []string{t.Participants, t.Age, strconv.Itoa(t.New), strconv.Itoa(t.More),
		strconv.FormatBool(t.Overdue), strconv.FormatBool(t.Compact), t.URL} {
		b.WriteByte(0)
		b.WriteString(s)
	}
	for _, r := range t.Reactions {
		b.WriteByte(0)
		b.WriteString(r.Emoji + " " + strconv.Itoa(r.Count) + " " + r.Names)
	}
	return b.String()
}

// messages is the view of a thread's messages, for the templates package
// to render.
func messages(t *ThreadView, now time.Time, loc *time.Location) []templates.Message {
	out := make([]templates.Message, 0, len(t.Messages))
	for _, m := range t.Messages {
		out = append(out, templates.Message{From: m.From, Address: m.Address, When: when(m.Date, now, loc),
			Forwarded: m.Forwarded, Text: m.Text, Truncated: m.Truncated, URL: t.ThreadURL,
			Attachments: attachments(m.Attachments)})
	}
	return out
}

func attachments(as []store.Attachment) []templates.Attachment {
	out := make([]templates.Attachment, 0, len(as))
	for _, a := range as {
		out = append(out, templates.Attachment{Name: attachmentName(a), Size: size(a.Size)})
	}
	return out
}

// summary is the digest's headline: "1 urgent · 2 waiting on you · 9
// updates in 4 threads".
func summary(d *Digest) string {
	var parts []string
	if d.Counts.Urgent > 0 {
		parts = append(parts, fmt.Sprintf("%d urgent", d.Counts.Urgent))
	}
	if d.Counts.Waiting > 0 {
		w := fmt.Sprintf("%d waiting on you", d.Counts.Waiting)
		if d.Counts.Overdue > 0 {
			w += fmt.Sprintf(" (%d overdue)", d.Counts.Overdue)
		}
		parts = append(parts, w)
	}
	parts = append(parts, count(d.Counts.Updates, "update", "updates")+" in "+count(d.Counts.Threads, "thread", "threads"))
	return strings.Join(parts, " · ")
}

// maxPeople is how many participants a thread names before "and N others".
const maxPeople = 5

func people(names []string) string {
	if len(names) <= maxPeople {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxPeople], ", ") + " and " + count(len(names)-maxPeople, "other", "others")
}

func age(days int) string {
	if days == 0 {
		return "since today"
	}
	return count(days, "business day", "business days")
}

// when is a message's time as the member reads it on the digest's date:
// "14:05" that day, "Fri 14:05" within the week before, "23 Nov 14:05"
// earlier, with the year when it is another.
func when(t, now time.Time, loc *time.Location) string {
	t = t.In(loc)
	days := int(civilDay(now).Sub(civilDay(t)).Hours() / 24)
	switch {
	case days == 0:
		return t.Format("15:04")
	case days > 0 && days < 7:
		return t.Format("Mon 15:04")
	case t.Year() == now.Year():
		return t.Format("2 Jan 15:04")
	}
	return t.Format("2 Jan 2006 15:04")
}

func attachmentName(a store.Attachment) string {
	if a.Name != "" {
		return a.Name
	}
	if a.Type != "" {
		return "unnamed " + a.Type
	}
	return "unnamed attachment"
}

// size is a file size as mail clients show it: "820 B", "14 KB", "2.3 MB".
func size(n int64) string {
	const k = 1024
	switch {
	case n < k:
		return fmt.Sprintf("%d B", n)
	case n < k*k:
		return fmt.Sprintf("%d KB", (n+k/2)/k)
	case n < k*k*k:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(k*k)), ".0") + " MB"
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(k*k*k))
}
