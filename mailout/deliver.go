package mailout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/store"
)

// Transport hands one mail to the next hop: a relay, say, for the
// recipients in m.To (the Deliverer gives only those still waiting for
// it). A nil error means every one of them took the mail. A *PermanentError
// means the mail can never be delivered to any of them; a *RcptError says
// which recipients refused it, and how, when others took it; any other
// error is temporary and the mail is tried again later. Deliver may be
// given the same mail again after a crash: its bytes, Message-ID included,
// are the same each time. The Deliverer calls it from several goroutines at
// once (see Deliverer.Parallel).
type Transport interface {
	Deliver(ctx context.Context, m store.OutMail, raw []byte) error
}

// RcptError is a Transport's answer when some recipients refused a mail:
// Refused maps each of them to its refusal, a *PermanentError or a
// temporary error. The recipients it does not name took the mail. Only the
// temporarily refused ones are tried again.
type RcptError struct {
	Refused map[string]error
}

func (e *RcptError) Error() string {
	addrs := slices.Sorted(maps.Keys(e.Refused))
	parts := make([]string, len(addrs))
	for i, a := range addrs {
		parts[i] = "<" + a + ">: " + answerOf(e.Refused[a])
	}
	return "refused: " + strings.Join(parts, "; ")
}

// PermanentError is a Transport's refusal that retrying cannot change (an
// SMTP 5xx answer, for one).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent failure: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// answerOf is the text an error leaves in a record: a permanent error's
// own text, without the prefix.
func answerOf(err error) string {
	var perm *PermanentError
	if errors.As(err, &perm) && perm == err {
		return perm.Err.Error()
	}
	return err.Error()
}

func permanent(err error) bool {
	var perm *PermanentError
	return errors.As(err, &perm)
}

const (
	// DefaultLifetime is how long a mail is tried before it is given up
	// (DESIGN: 5 days).
	DefaultLifetime = 120 * time.Hour
	// DefaultParallel is how many mails a Transport is given at once.
	DefaultParallel = 4
	// Retries wait a minute after the first failure, doubling up to an
	// hour.
	firstRetry = time.Minute
	maxRetry   = time.Hour
	// batchSize is how many due mails one pass takes: their files share an
	// fsync of each directory, their records a transaction.
	batchSize = 64
	// maxSleep bounds a wait (see sleep).
	maxSleep = time.Hour
	// storeRetry is the wait after the outbox itself could not be read or
	// written.
	storeRetry = time.Minute
	// maxAnswer bounds the error text kept in a record.
	maxAnswer = 500
	// answerMoving tells, in LastAnswer, of a mail whose file is complete in
	// the Maildir's tmp/ and is being renamed into new/. A crash leaves
	// the question of whether the rename happened; the tmp/ file answers
	// it: still there, it did not; gone, it did.
	answerMoving = "maildir: in tmp/, moving to new/"
)

// Deliverer moves queued mail out of the outbox. Run it once per store.
//
// The default delivery (Transport nil) is the Maildir at Dir. Each mail is
// written to tmp/ under MaildirName and fsynced, tmp/ is fsynced, and the
// store records that the mail is moving; then the file is renamed into
// new/, new/ is fsynced, and the store records the mail sent. After a crash
// a mail marked moving is finished from what tmp/ holds: its file still
// there means the rename never happened and it is renamed now; its file gone
// means it reached new/ and is only recorded as sent. So a mail reaches
// new/ exactly once, even when a reader has taken it from new/ in between.
// (Deleting files from tmp/ by hand while tidings is down defeats this.)
//
// With a Transport, up to Parallel mails are handed to it at once, and each
// attempt is recorded (attempts, the next attempt, the last answer, each
// recipient's result) as soon as it ends. A crash after the next hop took a
// mail and before the store recorded it sends the same bytes again: a
// repeat under the same Message-ID, which receivers can recognise.
//
// A temporary failure is tried again a minute later, then after waits that
// double up to an hour, until Lifetime has passed since the mail was queued
// (or requeued by store.Tx.RetryOutMail); then the mail is failed. A
// permanent failure fails it at once. When recipients differ (a relay
// takes a mail for some and refuses it for others), each keeps its own
// result: those that took it are done, those refused for good are failed,
// and only those refused for now are tried again; the mail is sent when
// every recipient took it, and failed once none is left to try and one
// was refused.
type Deliverer struct {
	Store *store.Store
	// Dir is the Maildir of the default delivery, created with its tmp/,
	// new/ and cur/ (mode 0700) when Run starts.
	Dir string
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Transport, when set, replaces the Maildir.
	Transport Transport
	// Lifetime is how long after it was queued a mail that keeps failing
	// temporarily is given up; zero means DefaultLifetime. The last
	// attempt falls on the end of the lifetime.
	Lifetime time.Duration
	// Parallel is how many mails are handed to the Transport at once;
	// zero means DefaultParallel.
	Parallel int

	// crash, in tests, stops a pass at a named point as a crash would.
	crash func(stage string) error

	once sync.Once
	wake chan struct{}
	log  *slog.Logger
}

func (d *Deliverer) setup() {
	d.once.Do(func() {
		d.wake = make(chan struct{}, 1)
		l := d.Logger
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		d.log = l.With("component", "mailout")
	})
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *Deliverer) lifetime() time.Duration {
	if d.Lifetime > 0 {
		return d.Lifetime
	}
	return DefaultLifetime
}

// Notify wakes Run to look at the outbox again: call it after a
// transaction that queued mail has committed. It never blocks.
func (d *Deliverer) Notify() {
	d.setup()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers what is due, then sleeps until the next mail falls due or
// Notify is called (an hour at most), until ctx ends; it then returns nil, after recording
// the attempts already made. It returns an error when it cannot start (no
// Dir nor Transport, a Maildir it cannot create) or the store is closed;
// other trouble with the store is logged and retried after a minute.
func (d *Deliverer) Run(ctx context.Context) error {
	d.setup()
	if d.Store == nil {
		return errors.New("mailout: deliverer has no store")
	}
	if d.Transport == nil {
		if d.Dir == "" {
			return errors.New("mailout: deliverer has neither a Maildir nor a transport")
		}
		if err := (maildir{d.Dir}).init(); err != nil {
			return err
		}
		d.log.Info("delivering to maildir", "dir", d.Dir)
	}
	for {
		next, ok, err := d.deliverDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, store.ErrClosed) {
			return fmt.Errorf("mailout: %w", err)
		}
		if err != nil {
			d.log.Error("outbox", "error", err)
			next, ok = d.now().Add(storeRetry), true
		}
		if !d.sleep(ctx, next, ok) {
			return nil
		}
	}
}

// sleep waits until the instant (when ok), a Notify or the end of ctx, and
// reports whether Run should go on. It waits maxSleep at most: timers do
// not see a jump of the wall clock, and a queue that forgot its Notify is
// still served within the hour.
func (d *Deliverer) sleep(ctx context.Context, until time.Time, ok bool) bool {
	wait := maxSleep
	if ok {
		wait = min(until.Sub(d.now()), maxSleep)
	}
	if wait <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-d.wake:
		return true
	case <-t.C:
		return true
	}
}

type item struct {
	m   store.OutMail
	raw []byte
}

// deliverDue delivers every mail that is due, a batch at a time, and
// returns when the next one falls due (ok false: none is queued).
func (d *Deliverer) deliverDue(ctx context.Context) (next time.Time, ok bool, err error) {
	for ctx.Err() == nil {
		var batch []item
		err := d.Store.View(func(tx *store.Tx) error {
			due, err := tx.DueOutMail(d.now(), batchSize)
			if err != nil {
				return err
			}
			batch = make([]item, 0, len(due))
			for _, m := range due {
				raw, err := tx.OutRaw(m.ID)
				if err != nil {
					return err
				}
				batch = append(batch, item{m, raw})
			}
			return nil
		})
		if err != nil {
			return next, false, fmt.Errorf("mailout: read outbox: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		if d.Transport == nil {
			err = d.toMaildir(ctx, batch)
		} else {
			err = d.toTransport(ctx, batch)
		}
		if err != nil {
			return next, false, err
		}
		if len(batch) < batchSize {
			break
		}
	}
	err = d.Store.View(func(tx *store.Tx) error {
		next, ok = tx.NextOutDue()
		return nil
	})
	return next, ok, err
}

func (d *Deliverer) crashPoint(stage string) error {
	if d.crash != nil {
		return d.crash(stage)
	}
	return nil
}

func moving(m store.OutMail) bool { return m.Moving }

// toMaildir delivers a batch into the Maildir; see Deliverer for the order
// of steps and why.
func (d *Deliverer) toMaildir(ctx context.Context, batch []item) error {
	md := maildir{d.Dir}
	var (
		written []item    // now complete in tmp/, to be marked moving
		move    []item    // marked moving by an earlier pass, still in tmp/
		done    []outcome // marked moving by an earlier pass, already in new/
		failed  []outcome
	)
	for _, it := range batch {
		name := MaildirName(it.m)
		if moving(it.m) {
			// Never rewrite the file of a marked mail: a failed write
			// would remove it and make the mail look delivered.
			in, err := md.inTmp(name)
			switch {
			case err != nil:
				failed = append(failed, outcome{id: it.m.ID, err: err, attempt: true, moving: true})
			case in:
				move = append(move, it)
			default:
				done = append(done, outcome{id: it.m.ID, file: name, attempt: true})
			}
			continue
		}
		if err := md.write(name, it.raw); err != nil {
			failed = append(failed, outcome{id: it.m.ID, err: err, attempt: true})
			continue
		}
		written = append(written, it)
	}
	if len(written) > 0 {
		if err := md.syncTmp(); err != nil {
			for _, it := range written {
				os.Remove(md.tmp(MaildirName(it.m)))
				failed = append(failed, outcome{id: it.m.ID, err: fmt.Errorf("mailout: maildir: %w", err), attempt: true})
			}
			written = nil
		}
	}
	if err := d.crashPoint("written"); err != nil {
		return err
	}
	if len(written)+len(failed) > 0 {
		marks := failed
		for _, it := range written {
			marks = append(marks, outcome{id: it.m.ID, mark: true})
		}
		if _, err := d.record(ctx, marks); err != nil {
			return err
		}
	}
	if err := d.crashPoint("marked"); err != nil {
		return err
	}
	failed = nil
	var moved []outcome
	for _, it := range move {
		moved = append(moved, outcome{id: it.m.ID, file: MaildirName(it.m), attempt: true})
	}
	for _, it := range written {
		moved = append(moved, outcome{id: it.m.ID, file: MaildirName(it.m)})
	}
	renamed := moved[:0]
	for _, o := range moved {
		if err := md.move(o.file); err != nil {
			o.err, o.moving = err, true
			failed = append(failed, o)
			continue
		}
		renamed = append(renamed, o)
	}
	renamed = append(renamed, done...)
	if len(renamed) > 0 {
		if err := md.syncNew(); err != nil {
			// The renames are not known to be on disk: keep the marks.
			// The next pass finds the tmp/ files gone, fsyncs new/ again
			// and records the mails sent.
			for _, o := range renamed {
				o.err, o.moving = fmt.Errorf("mailout: maildir: %w", err), true
				failed = append(failed, o)
			}
			renamed = nil
		}
	}
	if err := d.crashPoint("moved"); err != nil {
		return err
	}
	final, err := d.record(ctx, append(renamed, failed...))
	if err != nil {
		return err
	}
	for _, o := range failed {
		if m, ok := final[o.id]; ok && m.State == store.OutFailed {
			os.Remove(md.tmp(MaildirName(m)))
		}
	}
	return nil
}

// toTransport hands a batch to the Transport, Parallel mails at a time,
// and records each attempt as it ends. It returns the first error from the
// store.
func (d *Deliverer) toTransport(ctx context.Context, batch []item) error {
	n := d.Parallel
	if n <= 0 {
		n = DefaultParallel
	}
	work := make(chan item)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range min(n, len(batch)) {
		wg.Go(func() {
			for it := range work {
				m := it.m
				m.To = it.m.Pending()
				var err error
				if len(m.To) > 0 {
					err = d.Transport.Deliver(ctx, m, it.raw)
				}
				if ctx.Err() != nil && err != nil {
					// Cut off by shutdown, not refused: not an attempt.
					continue
				}
				if _, rerr := d.record(ctx, []outcome{{id: m.ID, err: err, attempt: true, rcpts: m.To, perRcpt: true}}); rerr != nil {
					mu.Lock()
					errs = append(errs, rerr)
					mu.Unlock()
				}
			}
		})
	}
	for _, it := range batch {
		if ctx.Err() != nil {
			break
		}
		work <- it
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// outcome is what a pass did with one mail.
type outcome struct {
	id      uint64
	mark    bool   // complete in tmp/: record it moving
	err     error  // nil: delivered
	attempt bool   // count an attempt (a mark counts one itself)
	moving  bool   // on failure, keep the moving mark
	file    string // the Maildir file name, for the log
	// perRcpt: a Transport's outcome for recipients rcpts, kept per
	// recipient.
	perRcpt bool
	rcpts   []string
}

// record writes a pass's outcomes in one transaction, even when ctx has
// ended (the attempts were made), and logs them. It returns the records
// as written.
func (d *Deliverer) record(ctx context.Context, outs []outcome) (map[uint64]store.OutMail, error) {
	if len(outs) == 0 {
		return nil, nil
	}
	now := d.now()
	var final map[uint64]store.OutMail
	err := d.Store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		final = make(map[uint64]store.OutMail, len(outs))
		for _, o := range outs {
			m, err := tx.OutMail(o.id)
			if err != nil {
				return err
			}
			if m.State != store.OutQueued {
				continue // settled meanwhile
			}
			d.apply(&m, o, now)
			if err := tx.UpdateOutMail(m); err != nil {
				return err
			}
			final[m.ID] = m
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mailout: record deliveries: %w", err)
	}
	for _, o := range outs {
		m, ok := final[o.id]
		switch {
		case !ok || o.mark:
		case m.State == store.OutSent:
			d.log.Info("delivered", "id", m.ID, "kind", m.Kind, "to", m.To, "message_id", m.MessageID, "file", o.file)
		case m.State == store.OutFailed:
			d.log.Error("gave up delivery", "id", m.ID, "kind", m.Kind, "to", m.To, "message_id", m.MessageID,
				"attempts", m.Attempts, "error", m.LastAnswer)
		default:
			d.log.Warn("delivery failed, will retry", "id", m.ID, "kind", m.Kind, "to", m.To,
				"attempts", m.Attempts, "next", m.NextAttempt, "error", o.err)
		}
	}
	return final, nil
}

// apply updates record m with an outcome at now: sent, failed for good (a
// permanent error, or the lifetime over), or queued for a later attempt.
func (d *Deliverer) apply(m *store.OutMail, o outcome, now time.Time) {
	if o.attempt || o.mark {
		m.Attempts++
	}
	if o.perRcpt {
		d.applyRcpts(m, o, now)
		return
	}
	switch {
	case o.mark:
		m.LastAnswer, m.Moving = answerMoving, true
		return
	case o.err == nil:
		m.State, m.Done, m.Moving = store.OutSent, now, false
		m.LastAnswer = "delivered"
		if o.file != "" {
			m.LastAnswer = "delivered to new/" + o.file
		}
		return
	}
	answer := clip(o.err.Error())
	m.Moving = o.moving
	if o.moving {
		answer = answerMoving + "; " + answer
	}
	m.LastAnswer = answer
	deadline := d.deadline(*m)
	switch {
	case permanent(o.err):
		m.State, m.Done = store.OutFailed, now
	case !now.Before(deadline):
		m.State, m.Done = store.OutFailed, now
		m.LastAnswer = "lifetime over: " + answer
	default:
		m.NextAttempt = minTime(now.Add(backoff(m.Attempts-m.RetriedAfter)), deadline)
	}
}

// deadline is when m's lifetime ends: Lifetime after it was queued, or
// requeued by hand.
func (d *Deliverer) deadline(m store.OutMail) time.Time {
	start := m.Queued
	if m.Retried.After(start) {
		start = m.Retried
	}
	return start.Add(d.lifetime())
}

// applyRcpts is apply for a Transport's outcome: each recipient tried
// takes its own result, and the mail's state follows from theirs.
func (d *Deliverer) applyRcpts(m *store.OutMail, o outcome, now time.Time) {
	if len(m.Recipients) == 0 {
		for _, a := range m.To {
			m.Recipients = append(m.Recipients, store.RcptResult{Addr: a, State: store.OutQueued})
		}
	}
	var rerr *RcptError
	if !errors.As(o.err, &rerr) {
		rerr = nil
	}
	m.LastAnswer = "delivered"
	switch {
	case rerr != nil && len(o.rcpts) == 1 && rerr.Refused[o.rcpts[0]] != nil:
		// The one recipient's answer says it all.
		m.LastAnswer = clip(answerOf(rerr.Refused[o.rcpts[0]]))
	case o.err != nil:
		m.LastAnswer = clip(answerOf(o.err))
	}
	over := !now.Before(d.deadline(*m))
	pending, failed := 0, 0
	for i := range m.Recipients {
		r := &m.Recipients[i]
		if r.State == store.OutQueued && slices.Contains(o.rcpts, r.Addr) {
			err := o.err
			if rerr != nil {
				err = rerr.Refused[r.Addr]
			}
			switch {
			case err == nil:
				r.State, r.Answer = store.OutSent, ""
			case permanent(err):
				r.State, r.Answer = store.OutFailed, clip(answerOf(err))
			default:
				r.Answer = clip(answerOf(err))
			}
		}
		if r.State == store.OutQueued && over {
			r.State = store.OutFailed
			r.Answer = clip("lifetime over: " + cmp.Or(r.Answer, m.LastAnswer))
		}
		switch r.State {
		case store.OutQueued:
			pending++
		case store.OutFailed:
			failed++
		}
	}
	switch {
	case pending > 0:
		m.NextAttempt = minTime(now.Add(backoff(m.Attempts-m.RetriedAfter)), d.deadline(*m))
	case failed > 0:
		m.State, m.Done = store.OutFailed, now
		if over && o.err != nil && !permanent(o.err) {
			m.LastAnswer = clip("lifetime over: " + m.LastAnswer)
		}
	default:
		m.State, m.Done = store.OutSent, now
	}
}

// clip bounds an answer kept in a record.
func clip(s string) string {
	if len(s) > maxAnswer {
		return strings.ToValidUTF8(s[:maxAnswer], "")
	}
	return s
}

// backoff is the wait after the nth failed attempt: a minute, doubling, at
// most an hour.
func backoff(n int) time.Duration {
	w := firstRetry
	for i := 1; i < n && w < maxRetry; i++ {
		w *= 2
	}
	return min(w, maxRetry)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
