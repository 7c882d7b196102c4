package mailin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/store"
)

// errParseFailed marks a temporary error that came from parsing the
// message (a recovered panic), not from the store: the same bytes will
// fail again, so a source may give up on them after a few tries.
var errParseFailed = errors.New("the message could not be parsed")

func (p *Pipeline) deliverBatch(ctx context.Context, ds []Delivery) ([]Outcome, []error) {
	outs := make([]Outcome, len(ds))
	errs := make([]error, len(ds))
	parsed := p.parseAll(ds, errs)

	now := p.now().UTC()
	txErrs := make([]error, len(ds))
	err := p.st.Update(ctx, func(tx *store.Tx) error {
		// The group commit may run this again after a sibling failed: start
		// from a clean slate each time.
		for i := range ds {
			outs[i], txErrs[i] = Outcome{}, nil
			if parsed[i] == nil {
				continue
			}
			o, rej, err := p.store1(tx, ds[i], parsed[i], now)
			if err != nil {
				return err
			}
			if rec := ds[i].Record; rec != nil {
				if err := rec(tx, o, rej); err != nil {
					return fmt.Errorf("record %s: %w", parsed[i].MessageID, err)
				}
			}
			outs[i], txErrs[i] = o, rej
		}
		return nil
	})
	if err == nil && p.queued != nil && slices.ContainsFunc(outs, func(o Outcome) bool { return o.notified }) {
		// What the Notifier queued is on disk now: the deliverer may take it.
		p.queued()
	}
	for i := range ds {
		if parsed[i] == nil {
			continue
		}
		switch {
		case err != nil:
			outs[i] = Outcome{MessageID: parsed[i].MessageID}
			errs[i] = fmt.Errorf("store message %s: %w", parsed[i].MessageID, err)
		case txErrs[i] != nil:
			errs[i] = txErrs[i]
		}
	}
	return outs, errs
}

// parseAll parses outside the write transaction, on all cores when there
// is more than one message. Mail that cannot be parsed at all is refused.
func (p *Pipeline) parseAll(ds []Delivery, errs []error) []*Parsed {
	parsed := make([]*Parsed, len(ds))
	one := func(i int) {
		pm, err := Parse(ds[i].Raw, p.limits)
		switch {
		case errors.Is(err, ErrMultipleFrom):
			errs[i] = &Rejection{Code: 550, Enhanced: [3]int{5, 6, 0}, Reason: "message has more than one From field"}
		case errors.Is(err, ErrHeaderTooLarge):
			errs[i] = &Rejection{Code: 552, Enhanced: [3]int{5, 3, 4}, Reason: "message header too large"}
		case err != nil:
			// Parse fails otherwise only on a bug (a recovered panic): a
			// temporary error keeps the mail queued at the sender until
			// it is fixed, rather than bouncing it.
			errs[i] = fmt.Errorf("parse: %w: %w", errParseFailed, err)
			p.log.Error("parse failed", "error", err)
		default:
			// Reading the content (quotes, forwards) is done here too,
			// outside the write transaction.
			rd := Read(pm, false, p.words)
			pm.reading = &rd
			parsed[i] = pm
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(ds))
	if workers <= 1 {
		for i := range ds {
			one(i)
		}
		return parsed
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				one(i)
			}
		})
	}
	for i := range ds {
		next <- i
	}
	close(next)
	wg.Wait()
	return parsed
}

// store1 checks, dedupes, threads and stores one parsed message for each of
// its teams. A refusal comes back as rej; err is for trouble in the store.
func (p *Pipeline) store1(tx *store.Tx, d Delivery, pm *Parsed, now time.Time) (o Outcome, rej error, err error) {
	auto := pm.Auto
	o = Outcome{MessageID: pm.MessageID, Auto: auto}
	var teams []store.Team
	for _, name := range d.Teams {
		if slices.ContainsFunc(teams, func(t store.Team) bool { return t.Name == name }) {
			continue
		}
		tm, err := tx.Team(name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return o, nil, err
		}
		teams = append(teams, tm)
	}
	if len(teams) == 0 {
		return o, &Rejection{Code: 550, Enhanced: [3]int{5, 1, 1}, Reason: "no team address among the recipients"}, nil
	}

	// Our own mail come back (a digest sent to a team address, say) is
	// kept for the record like an auto-reply, never posted or answered.
	// Our X-Loop marker names our domain; another instance's mail is
	// theirs, content like any list's.
	if auto == "" && slices.Contains(pm.LoopMarks, loopMarker+"@"+strings.ToLower(p.domain)) {
		auto = AutoLoop
		o.Auto = auto
	}
	// An imported archive is taken as it is: its mail from a team's
	// address (a list that rewrote From, say) is not our own.
	if auto == "" && !d.SkipSenderCheck {
		own, err := fromOurselves(tx, pm)
		if err != nil {
			return o, nil, err
		}
		if own {
			auto = AutoLoop
			o.Auto = auto
		}
	}

	reading := pm.reading
	if reading == nil {
		rd := Read(pm, false, p.words)
		reading = &rd
	}

	tokens := d.Tokens
	if d.FromMailbox && len(tokens) == 0 {
		tokens = mailboxTokens(teams, pm)
	}

	// Mail to a reply address posts as the member the address was made
	// for, to its thread; anyone else is refused, whatever the rest of the
	// recipients.
	replies := map[string]*replyTarget{}
	if len(tokens) > 0 {
		var resolved []store.Team
		for _, tm := range teams {
			tok, ok := tokens[tm.Name]
			if !ok {
				if !slices.ContainsFunc(resolved, func(t store.Team) bool { return t.Name == tm.Name }) {
					resolved = append(resolved, tm)
				}
				continue
			}
			r, rej, err := p.replyTarget(tx, tm, tok, pm, *reading, now)
			if err != nil || rej != nil {
				return o, rej, err
			}
			// A reply to a digest may answer a thread of another of the
			// member's teams: it is posted there.
			if !slices.ContainsFunc(resolved, func(t store.Team) bool { return t.Name == r.Team.Name }) {
				resolved = append(resolved, r.Team)
			}
			replies[r.Team.Name] = r
		}
		teams = resolved
	}

	// Auto-replies and bounces go through the same sender check: anyone can
	// write "Out of office" in a subject. Refusing a bounce at SMTP time
	// creates no backscatter: the MTA holding it has nobody to tell.
	if !d.SkipSenderCheck {
		var allowed, refused []store.Team
		// Every author must be allowed, or anyone could post by naming a
		// member beside themselves. No author at all is refused too.
		authors := pm.Authors
		if len(authors) == 0 {
			authors = []Address{pm.From}
		}
		for _, tm := range teams {
			if replies[tm.Name] != nil {
				allowed = append(allowed, tm) // checked with its token
				continue
			}
			ok, err := true, error(nil)
			for _, a := range authors {
				if ok && err == nil {
					ok, err = mayPost(tx, tm, a.Addr)
				}
			}
			if err != nil {
				return o, nil, err
			}
			if ok {
				allowed = append(allowed, tm)
			} else {
				refused = append(refused, tm)
			}
		}
		if len(allowed) == 0 {
			return o, senderRejection(pm.From.Addr, refused), nil
		}
		teams = allowed
	}

	hash := sha256.Sum256(d.Raw)
	hexHash := hex.EncodeToString(hash[:])
	// A date more than a day ahead is a wrong clock or a trick to pin a
	// thread to the top: take the time of arrival instead.
	date := pm.Date
	if date.IsZero() || date.After(now.Add(24*time.Hour)) {
		date = now
	}
	subject := pm.Subject
	// The same bytes twice always carry the same Message-ID — the real one,
	// or the synthetic one Parse derives from the content — so the
	// Message-ID is the one dedupe key needed.
	for _, tm := range teams {
		if n, ok, err := tx.Node(tm.Name, pm.MessageID); err != nil {
			return o, nil, err
		} else if ok && n.Seq != 0 {
			o.Duplicates = append(o.Duplicates, tm.Name)
			continue
		}
		if _, ok := tx.Unthreaded(tm.Name, pm.MessageID); ok {
			o.Duplicates = append(o.Duplicates, tm.Name)
			continue
		}
		m := &store.Message{
			Team:        tm.Name,
			MessageID:   pm.MessageID,
			Synthetic:   pm.Synthetic,
			From:        pm.From.Addr,
			FromName:    pm.From.Name,
			To:          addrs(pm.To),
			Cc:          addrs(pm.Cc),
			Subject:     pm.Subject,
			Date:        date.UTC(),
			Received:    now,
			ThreadIndex: pm.ThreadIndex,
			References:  pm.References,
			Kind:        reading.Kind,
			Text:        capText(reading.Text, maxStoredText),
			Attachments: pm.Attachments,
			Auto:        auto,
			Bulk:        pm.Bulk,
			Urgent:      pm.Urgent,
			Size:        len(d.Raw),
			Hash:        hexHash,
		}
		if len(pm.InReplyTo) > 0 {
			m.InReplyTo = pm.InReplyTo[0]
		}
		if fw := reading.Forward; fw != nil {
			m.OriginalFrom = originalFrom(fw.From)
			m.OriginalDate = fw.Date
			m.OriginalSubject = fw.Subject
			m.Note = capText(fw.Note, maxStoredText)
			if fw.Subject != "" {
				// The thread takes the original's subject, not "Fwd: …".
				subject = fw.Subject
			}
		}
		seq, err := tx.ReserveSeq()
		if err != nil {
			return o, nil, err
		}
		m.Seq = seq
		in := threadInput{
			Team: tm.Name, MessageID: pm.MessageID, Seq: seq, Date: m.Date, Subject: subject,
			InReplyTo: pm.InReplyTo, References: pm.References, ThreadIndex: pm.ThreadIndex,
		}
		r := replies[tm.Name]
		threaded := false
		switch {
		case auto != "":
			// Kept for the record, outside every thread, never answered.
			if err := tx.PutUnthreaded(tm.Name, pm.MessageID, seq); err != nil {
				return o, nil, err
			}
		case r != nil:
			var answered bool
			threaded, answered, err = p.postReply(tx, d, r, m, pm, *reading, &in, now)
			if err != nil {
				return o, nil, err
			}
			o.notified = o.notified || answered
		default:
			m.Thread, m.Parent, err = p.thread(tx, in)
			if err != nil {
				return o, nil, fmt.Errorf("thread %s: %w", pm.MessageID, err)
			}
			threaded = true
		}
		if threaded && reading.Ack && m.Kind == store.KindMessage && m.Parent != "" {
			// An acknowledgement answering a message is a reaction to it;
			// one whose parent was never seen stays a message.
			if n, ok, err := tx.Node(tm.Name, m.Parent); err != nil {
				return o, nil, err
			} else if ok && n.Seq != 0 {
				m.Kind = store.KindReaction
			}
		}
		if err := tx.AddMessage(m, d.Raw); err != nil {
			return o, nil, fmt.Errorf("add message %s: %w", pm.MessageID, err)
		}
		o.Stored = append(o.Stored, seq)
		if threaded && p.notifier != nil {
			if err := p.notifier.Posted(tx, m); err != nil {
				return o, nil, fmt.Errorf("notify %s: %w", pm.MessageID, err)
			}
			o.notified = true
		}
	}
	return o, nil, nil
}

// mailboxTokens finds the reply-address tokens of mail fetched from a
// team's mailbox, where no RCPT TO says where it was sent: in the envelope
// recipients the delivering MTA recorded, or, without those, in To and Cc.
// Only addresses of the team's own address with a +token count.
func mailboxTokens(teams []store.Team, pm *Parsed) map[string]string {
	cands := pm.DeliveredTo
	if len(cands) == 0 {
		for _, a := range append(slices.Clone(pm.To), pm.Cc...) {
			cands = append(cands, a.Addr)
		}
	}
	var out map[string]string
	for _, tm := range teams {
		for _, c := range cands {
			base, tok, ok := links.SplitAddress(c)
			if !ok || tok == "" || !strings.EqualFold(base, tm.Address) {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			out[tm.Name] = tok
			break
		}
	}
	return out
}

// mayPost reports whether addr may post to team: a member of it (by their
// address or an alias), or on its allow-list as an address or "@domain".
func mayPost(tx *store.Tx, tm store.Team, addr string) (bool, error) {
	addr = strings.ToLower(addr)
	if addr == "" {
		return false, nil
	}
	m, err := tx.MemberByAddress(addr)
	switch {
	case err == nil:
		if _, ok := m.Teams[tm.Name]; ok {
			return true, nil
		}
	case !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	domain := ""
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		domain = addr[i:]
	}
	for _, a := range tm.Allow {
		a = strings.ToLower(a)
		if a == addr || (strings.HasPrefix(a, "@") && a == domain) {
			return true, nil
		}
	}
	return false, nil
}

func senderRejection(from string, teams []store.Team) *Rejection {
	names := make([]string, len(teams))
	for i, t := range teams {
		names[i] = t.Name
	}
	who := from
	if who == "" {
		who = "a message without a From address"
	}
	return &Rejection{Code: 550, Enhanced: [3]int{5, 7, 1},
		Reason: fmt.Sprintf("%s may not post to team %s: only its members and allowed senders may", who, strings.Join(names, ", "))}
}

func addrs(as []Address) []string {
	if len(as) == 0 {
		return nil
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Addr
	}
	return out
}

// maxStoredText bounds the parsed text kept beside the raw bytes: a 25 MiB
// body need not be stored twice, and the raw bytes keep all of it.
const maxStoredText = 1 << 20

// capText cuts s to at most n bytes at a character boundary, saying so.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "\n[… the rest is in the raw message]"
	cut := n - len(more)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + more
}
