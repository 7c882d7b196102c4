package digest

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

// Input is everything one member's digest is built from.
type Input struct {
	Member store.Member
	Teams  []store.Team // the member's teams in mode digest; messages of other teams are left out
	// Messages are those stored since the member's cursor, in all teams,
	// in Seq order; Build leaves out the member's own, muted threads,
	// other teams' and unthreaded mail (auto-replies, bounces).
	Messages []store.Message
	Threads  map[uint64]store.Thread // the threads of Messages (and of Waiting)
	// History returns a thread's stored messages (store.Tx.ThreadMessages),
	// to know who started and joined it and who was asked what before the
	// cursor. Messages it returns that are in Messages are ignored. May be
	// nil: a thread is then judged on its new messages alone.
	History func(thread uint64) []store.Message
	Due     time.Time      // the slot's due instant
	Loc     *time.Location // the member's zone; nil means UTC
	Days    [7]bool        // the member's working days by time.Weekday; none set means Monday to Friday
	Links   links.Signer
	Limits  Limits
	// Waiting are threads the member was waited on in at their previous
	// digest (that digest's Digest.Waiting). Those still unanswered appear
	// under Waiting on you again, with their age, even without news. May be
	// nil.
	Waiting []uint64
}

// Limits keep a long digest readable; each cut is said with an "and N
// more" line. Zero fields take the defaults, chosen so that a full
// digest's HTML part stays under the 102 KB at which Gmail clips a mail
// and hides the rest behind a link (about 95 KB in BenchmarkBuildRender,
// whose threads are all busy).
type Limits struct {
	Threads  int // threads shown in full, over Urgent to New threads (default 10)
	Compact  int // threads listed under Other activity (default 20)
	Messages int // new messages shown per thread, the latest (default 3)
}

func (l Limits) withDefaults() Limits {
	if l.Threads <= 0 {
		l.Threads = 10
	}
	if l.Compact <= 0 {
		l.Compact = 20
	}
	if l.Messages <= 0 {
		l.Messages = 3
	}
	return l
}

// Section keys, in the order a digest shows them.
const (
	SectionUrgent  = "urgent"
	SectionWaiting = "waiting"
	SectionYours   = "yours"
	SectionNew     = "new"
	SectionOther   = "other"
)

var sectionTitles = map[string]string{
	SectionUrgent:  "Urgent",
	SectionWaiting: "Waiting on you",
	SectionYours:   "Your threads",
	SectionNew:     "New threads",
	SectionOther:   "Other activity",
}

// Digest is one member's digest, ready to render.
type Digest struct {
	Member store.Member
	// Team is the team the digest comes from (its From): of the member's
	// teams, the one with the most news in it.
	Team    store.Team
	ReplyTo string    // the member's digest address for Team
	Due     time.Time // UTC
	Date    time.Time // Due in the member's zone
	Subject string    // "[tidings] 2 waiting on you · 9 updates · Mon 30 Nov"
	// Sections in order, only those with threads.
	Sections []Section
	More     int // threads left out by the limits, over all sections
	Counts   Counts
	// Cursor is the highest Seq among the input messages, whether shown
	// or not: where the member's cursor moves once this digest is queued
	// (or found empty). Zero when there were no input messages.
	Cursor uint64
	// Waiting lists every thread the member is waited on in, shown or not:
	// the next digest's Input.Waiting.
	Waiting        []uint64
	UnsubscribeURL string
	// Schedule says when digests come, e.g. "09:00 Europe/Berlin, mon-fri".
	Schedule string
}

// Counts summarise a digest.
type Counts struct {
	Urgent  int // threads with an urgent new message
	Waiting int // threads waiting on the member
	Overdue int // of those, past the end of the next business day
	Threads int // threads with news
	Updates int // new messages and reactions
}

// Section is one part of a digest.
type Section struct {
	Key     string // SectionUrgent … SectionOther
	Title   string
	Compact bool // Other activity: one line per thread
	Threads []ThreadView
	More    int // threads of the section left out by the limits
}

// ThreadView is one thread as the member sees it in this digest.
type ThreadView struct {
	ID           uint64
	Subject      string
	Team         string
	Participants []string // everyone who wrote in it, first to last; "you" for the member
	// Messages are the latest new messages (not the member's own, no
	// reactions), oldest first. They are shared between members' digests
	// over the same Prepared: never change them.
	Messages  []*MessageView
	More      int // new messages not shown
	New       int // new messages and reactions
	Reactions []Reaction
	Urgent    bool
	// Waiting: the member was addressed (in To: or as @name) since they
	// last wrote in the thread, Since, which is AgeDays of their business
	// days ago; Overdue once the end of the next business day after Since
	// has passed.
	Waiting      bool
	Since        time.Time
	AgeDays      int
	Overdue      bool
	ReplyAddress string
	ReplyMailto  string
	ThreadURL    string
	MuteURL      string
	LastAt       time.Time

	// shared is where the thread's rendering is kept for the members who
	// see it alike; nil for a view of the member's own (they wrote in it or
	// are waited on in it), rendered for them alone.
	shared *pthread
}

// Reaction aggregates the reactions of one kind: "👍 3 — Ana, Bo, Cy".
type Reaction struct {
	Text  string
	Count int
	Names []string
}

// MessageView is one message as digests show it: its new text (quotes and
// signature removed, cut to a readable length).
type MessageView struct {
	Seq         uint64
	From        string // display name, or address
	Address     string
	Date        time.Time // UTC
	Forwarded   string    // the original author of a forward
	Text        string
	Truncated   bool
	Attachments []store.Attachment
	Urgent      bool

	mentions []string // @handles in the new text, lower-case
	cache    renderCache
}

// Build builds one member's digest. It always returns the Digest (its
// Cursor is where the member's cursor moves); ok is false when there is
// nothing to send. Messages stored before the member joined are left out
// (a new member's cursor may still stand at the start).
func Build(in Input) (d *Digest, ok bool) {
	msgs := in.Messages
	joined := in.Member.Joined
	before := func(m store.Message) bool { return m.Received.Before(joined) }
	if !joined.IsZero() && slices.ContainsFunc(msgs, before) {
		msgs = slices.DeleteFunc(slices.Clone(msgs), before)
	}
	d, ok = Prepare(msgs, in.Threads, in.History).Build(in)
	for _, m := range in.Messages {
		d.Cursor = max(d.Cursor, m.Seq)
	}
	return d, ok
}

// Prepared is the work every member's digest over the same messages
// shares: grouping by thread, new text, who wrote and who was asked what.
// Build it once with Prepare and call its Build for each member; it is
// safe for concurrent use.
type Prepared struct {
	threads []*pthread // latest activity first
	byID    map[uint64]*pthread
	records map[uint64]store.Thread
	history func(uint64) []store.Message
	minSeq  uint64
	maxSeq  uint64
}

// pthread is a thread with news, prepared for every member.
type pthread struct {
	id      uint64
	team    string
	subject string
	lastAt  time.Time
	fresh   bool // the thread began within the messages given

	msgs      []*MessageView // new messages, Seq order
	reactions []reactionItem // new reactions, Seq order
	items     int            // msgs + reactions
	byAuthor  map[string]int // new items per author
	urgent    int            // new urgent messages
	urgentBy  map[string]int

	starter  string            // who wrote its first message
	lastPost map[string]uint64 // per author, the Seq of their last message (earlier or new)
	people   []person          // authors in order of first message, earlier and new
	names    []string          // their names, for members who are not among them
	asksTo   map[string][]ask  // To: address → messages addressing it, Seq order
	asksAt   map[string][]ask  // @handle → messages naming it, Seq order
	reacted  []Reaction        // reactions aggregated over everyone

	cache renderCache // the thread's renderings for digests
}

type person struct{ addr, name string }

type reactionItem struct {
	from, name, text string
}

// ask is a message that addresses someone.
type ask struct {
	seq uint64
	msg *store.Message
}

// Prepare groups messages by thread and reads each once. threads names
// the threads of messages; history, when not nil, returns a thread's
// stored messages (see Input.History). The Prepared keeps pointers into
// messages: they must not change while it is in use.
func Prepare(messages []store.Message, threads map[uint64]store.Thread, history func(uint64) []store.Message) *Prepared {
	p := &Prepared{byID: make(map[uint64]*pthread), records: threads, history: history}
	for i := range messages {
		m := &messages[i]
		if p.minSeq == 0 || m.Seq < p.minSeq {
			p.minSeq = m.Seq
		}
		p.maxSeq = max(p.maxSeq, m.Seq)
		if m.Thread == 0 || m.Auto != "" {
			continue // auto-replies and bounces stay out of threads and digests
		}
		t := p.byID[m.Thread]
		if t == nil {
			t = p.newThread(m.Thread, m)
			p.byID[m.Thread] = t
			p.threads = append(p.threads, t)
		}
		t.add(m)
	}
	for _, t := range p.threads {
		t.finish(p)
	}
	slices.SortStableFunc(p.threads, func(a, b *pthread) int {
		if c := b.lastAt.Compare(a.lastAt); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	return p
}

func (p *Prepared) newThread(id uint64, first *store.Message) *pthread {
	t := &pthread{
		id:       id,
		team:     first.Team,
		subject:  first.Subject,
		byAuthor: make(map[string]int),
		urgentBy: make(map[string]int),
		lastPost: make(map[string]uint64),
		asksTo:   make(map[string][]ask),
		asksAt:   make(map[string][]ask),
	}
	if rec, ok := p.records[id]; ok {
		if rec.Subject != "" {
			t.subject = rec.Subject
		}
		if rec.Team != "" {
			t.team = rec.Team
		}
	}
	var earlier []store.Message
	if p.history != nil {
		for _, m := range p.history(id) {
			if (p.minSeq == 0 || m.Seq < p.minSeq) && m.Auto == "" {
				earlier = append(earlier, m)
			}
		}
		slices.SortFunc(earlier, func(a, b store.Message) int { return cmp.Compare(a.Seq, b.Seq) })
		t.fresh = len(earlier) == 0
	}
	for i := range earlier {
		m := &earlier[i]
		t.posted(m)
		if m.Kind != store.KindReaction {
			t.addAsks(m, nil)
		}
	}
	return t
}

// posted records that m's author wrote in the thread.
func (t *pthread) posted(m *store.Message) {
	from := strings.ToLower(m.From)
	if t.starter == "" {
		t.starter = from
	}
	if _, ok := t.lastPost[from]; !ok {
		t.people = append(t.people, person{addr: from, name: displayName(m.FromName, from)})
	}
	t.lastPost[from] = max(t.lastPost[from], m.Seq)
}

// addAsks records whom m addresses: To: addresses and @handles in its new
// text.
func (t *pthread) addAsks(m *store.Message, mv *MessageView) {
	a := ask{seq: m.Seq, msg: m}
	var mentions []string
	if mv != nil {
		mentions = mv.mentions
	} else {
		mentions = mentionsIn(newText(m.Text, m.Kind))
	}
	add := func(asks map[string][]ask, k string) {
		if l := asks[k]; len(l) == 0 || l[len(l)-1].seq != m.Seq { // once per message
			asks[k] = append(l, a)
		}
	}
	for _, to := range m.To {
		add(t.asksTo, strings.ToLower(to))
	}
	for _, h := range mentions {
		add(t.asksAt, h)
	}
}

func (t *pthread) add(m *store.Message) {
	from := strings.ToLower(m.From)
	t.items++
	t.byAuthor[from]++
	if m.Received.After(t.lastAt) {
		t.lastAt = m.Received
	}
	t.posted(m)
	if m.Kind == store.KindReaction {
		t.reactions = append(t.reactions, reactionItem{from: from, name: displayName(m.FromName, from), text: reactionText(m.Text)})
		return
	}
	mv := newMessageView(m)
	t.msgs = append(t.msgs, mv)
	if mv.Urgent {
		t.urgent++
		t.urgentBy[from]++
	}
	t.addAsks(m, mv)
}

func (t *pthread) finish(p *Prepared) {
	if p.history == nil {
		// Without the earlier messages, a thread is new when all of its
		// messages are among the new ones.
		rec, ok := p.records[t.id]
		t.fresh = ok && rec.Count <= t.items
	}
	t.reacted = aggregate(t.reactions, "")
	t.names = make([]string, len(t.people))
	for i, p := range t.people {
		t.names[i] = p.name
	}
}

func newMessageView(m *store.Message) *MessageView {
	from := strings.ToLower(m.From)
	text := newText(m.Text, m.Kind)
	mv := &MessageView{
		Seq:         m.Seq,
		From:        displayName(m.FromName, from),
		Address:     from,
		Date:        m.Date,
		Attachments: m.Attachments,
		Urgent:      m.Urgent,
		mentions:    mentionsIn(text),
	}
	if m.Kind == store.KindForward {
		mv.Forwarded, text = forwardView(m, text)
	}
	mv.Text, mv.Truncated = cutText(text)
	return mv
}

// forwardView is how a forward reads: "forwarded from" its original author
// and date, and, when the forwarder wrote a note, the note first with the
// original quoted below it.
func forwardView(m *store.Message, text string) (forwarded, shown string) {
	forwarded = m.OriginalFrom
	if !m.OriginalDate.IsZero() {
		forwarded += ", " + m.OriginalDate.UTC().Format("2 Jan 2006")
	}
	note := strings.TrimSpace(m.Note)
	if note == "" {
		return forwarded, text
	}
	var b strings.Builder
	b.WriteString(note)
	b.WriteString("\n\n")
	for i, l := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.TrimRight("> "+l, " "))
	}
	return forwarded, b.String()
}

// aggregate sums reactions by their text in order of first use, leaving
// out those of skip.
func aggregate(items []reactionItem, skip string) []Reaction {
	var out []Reaction
	index := make(map[string]int)
	for _, r := range items {
		if r.from == skip {
			continue
		}
		i, ok := index[r.text]
		if !ok {
			i = len(out)
			index[r.text] = i
			out = append(out, Reaction{Text: r.text})
		}
		out[i].Count++
		if !slices.Contains(out[i].Names, r.name) {
			out[i].Names = append(out[i].Names, r.name)
		}
	}
	return out
}

func displayName(name, addr string) string {
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	return addr
}

// reactionText is what a reaction shows: its text, short.
func reactionText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 24 {
		s = string(r[:24]) + "…"
	}
	if s == "" {
		s = "+1"
	}
	return s
}

// renderCache keeps the renderings of a message or thread: each is
// rendered once for all the digests over one Prepared that show it alike
// (the same day in the same zone, the same view of the thread).
type renderCache struct {
	mu     sync.Mutex
	blocks map[string]*templates.Blocks
}

func (c *renderCache) get(key string) *templates.Blocks {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocks[key]
}

func (c *renderCache) put(key string, b *templates.Blocks) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocks == nil {
		c.blocks = make(map[string]*templates.Blocks)
	}
	c.blocks[key] = b
}
