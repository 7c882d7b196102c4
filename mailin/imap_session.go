package mailin

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/tidings/tidings/store"
)

// imapSession is one connection of a poller, from login to its loss.
type imapSession struct {
	p        *IMAPPoller
	c        *imapclient.Client
	validity uint32        // UIDVALIDITY of the selected mailbox
	wake     chan struct{} // signalled when the server reports new mail
	idle     bool          // the server offers IDLE
	hasMove  bool          // the server offers MOVE
	uidplus  bool          // the server offers UID EXPUNGE
}

// session connects, logs in, selects the mailbox, finishes what a previous
// run left undone, and then fetches new mail until ctx ends or something
// fails. ready reports whether the mailbox was selected.
func (p *IMAPPoller) session(ctx context.Context) (ready bool, err error) {
	pw, err := readPassword(p.opts.PasswordFile)
	if err != nil {
		return false, failure(imapErrAuth, err)
	}
	s := &imapSession{p: p, wake: make(chan struct{}, 1)}
	c, err := p.dial(ctx, s.unilateral())
	if err != nil {
		return false, failure(imapErrConnection, fmt.Errorf("connect to %s: %w", p.opts.Address, err))
	}
	s.c = c
	// The client takes no context: closing the connection is what ends a
	// command in flight.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer func() {
		stop()
		c.Close()
	}()
	if err := c.WaitGreeting(); err != nil {
		return false, failure(imapErrConnection, fmt.Errorf("greeting from %s: %w", p.opts.Address, err))
	}
	if err := s.login(pw); err != nil {
		return false, err
	}
	sel, err := c.Select(p.opts.Mailbox, nil).Wait()
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
			return false, failure(imapErrMailbox, fmt.Errorf("select %s: %w", p.opts.Mailbox, err))
		}
		return false, failure(imapErrConnection, fmt.Errorf("select %s: %w", p.opts.Mailbox, err))
	}
	if sel.UIDValidity == 0 {
		return false, failure(imapErrConnection, fmt.Errorf("select %s: the server sent no UIDVALIDITY", p.opts.Mailbox))
	}
	s.validity = sel.UIDValidity
	caps := c.Caps()
	s.idle = caps.Has(imap.CapIdle) && !p.noIdle
	s.hasMove = caps.Has(imap.CapMove)
	s.uidplus = caps.Has(imap.CapUIDPlus)
	p.m.setConnected(true)
	p.log.Info("imap mailbox selected", "uidvalidity", sel.UIDValidity, "messages", sel.NumMessages,
		"idle", s.idle, "move", s.hasMove)

	// A block naming a team that does not exist would have every message
	// refused and flagged for good: nothing is fetched until it exists.
	if err := p.pipe.st.View(func(tx *store.Tx) error { _, err := tx.Team(p.opts.Team); return err }); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return true, failure(imapErrTeam, fmt.Errorf("team %q does not exist: nothing is fetched until it does (tidings team add)", p.opts.Team))
		}
		return true, failure(imapErrStore, err)
	}
	pos, err := s.position(ctx)
	if err != nil {
		return true, err
	}
	// A crash may have come between storing messages and marking them.
	if len(pos.Pending) > 0 {
		p.log.Info("imap marking messages stored before a restart", "count", len(pos.Pending))
		if err := s.mark(ctx, pos.Pending, 0); err != nil {
			return true, err
		}
	}
	for {
		if err := s.fetchNew(ctx); err != nil {
			return true, err
		}
		if err := s.wait(ctx); err != nil {
			return true, err
		}
	}
}

// unilateral is the client's handler for what the server says unasked. It
// runs on the client's reader goroutine, so it only signals.
func (s *imapSession) unilateral() *imapclient.UnilateralDataHandler {
	return &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case s.wake <- struct{}{}:
				default:
				}
			}
		},
	}
}

// dial connects, with TLS as configured. The TCP dial and the TLS
// handshake (or STARTTLS) end when ctx does, so a stop never waits on a
// server that accepted and fell silent.
func (p *IMAPPoller) dial(ctx context.Context, h *imapclient.UnilateralDataHandler) (*imapclient.Client, error) {
	opts := &imapclient.Options{UnilateralDataHandler: h}
	d := &net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", p.opts.Address)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var tlsConf *tls.Config
	if p.opts.TLSConfig != nil {
		tlsConf = p.opts.TLSConfig.Clone()
	} else {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tlsConf.ServerName == "" {
		tlsConf.ServerName, _, _ = net.SplitHostPort(p.opts.Address)
	}
	switch p.opts.TLS {
	case "starttls":
		opts.TLSConfig = tlsConf
		return imapclient.NewStartTLS(conn, opts)
	case "none":
		// The name said loopback; the address dialled must be too (a
		// "localhost" that resolves elsewhere gets no password in clear).
		if a, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
			conn.Close()
			return nil, fmt.Errorf("tls = \"none\" is for loopback only, and %s is %s", p.opts.Address, conn.RemoteAddr())
		}
		return imapclient.New(conn, opts), nil
	default:
		if tlsConf.NextProtos == nil {
			tlsConf.NextProtos = []string{"imap"}
		}
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return imapclient.New(tc, opts), nil
	}
}

// login authenticates with AUTHENTICATE PLAIN or LOGIN. A NO is a refused
// login; anything else is the connection's trouble.
func (s *imapSession) login(pw string) error {
	caps := s.c.Caps()
	plain := s.p.opts.Auth == "plain" || (s.p.opts.Auth == "" && caps.Has(imap.AuthCap(sasl.Plain)))
	var err error
	switch {
	case plain:
		err = s.c.Authenticate(sasl.NewPlainClient("", s.p.opts.Username, pw))
	case caps.Has(imap.CapLoginDisabled):
		return failure(imapErrAuth, fmt.Errorf("login as %s: the server refuses LOGIN (LOGINDISABLED) on this connection", s.p.opts.Username))
	default:
		err = s.c.Login(s.p.opts.Username, pw).Wait()
	}
	if err == nil {
		return nil
	}
	mech := "LOGIN"
	if plain {
		mech = "AUTHENTICATE PLAIN"
	}
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
		return failure(imapErrAuth, fmt.Errorf("%s as %s: %w", mech, s.p.opts.Username, err))
	}
	return failure(imapErrConnection, fmt.Errorf("%s as %s: %w", mech, s.p.opts.Username, err))
}

// position reads the mailbox's recorded position. A new UIDVALIDITY makes
// every UID recorded meaningless (RFC 9051 §2.3.1.1): the position starts
// over, the whole mailbox is fetched again, and dedupe keeps what is
// already stored from being stored twice.
func (s *imapSession) position(ctx context.Context) (store.MailboxPos, error) {
	var pos store.MailboxPos
	var ok bool
	err := s.p.pipe.st.View(func(tx *store.Tx) error {
		var err error
		pos, ok, err = tx.MailboxPos(s.p.key)
		return err
	})
	if err != nil {
		return pos, failure(imapErrStore, err)
	}
	if ok && pos.UIDValidity == s.validity {
		return pos, nil
	}
	if ok {
		s.p.log.Warn("imap UIDVALIDITY changed: fetching the whole mailbox again; mail already stored is not stored twice",
			"old", pos.UIDValidity, "new", s.validity)
	}
	pos = store.MailboxPos{UIDValidity: s.validity}
	if err := s.p.pipe.st.Update(ctx, func(tx *store.Tx) error { return tx.PutMailboxPos(s.p.key, pos) }); err != nil {
		return pos, failure(imapErrStore, fmt.Errorf("reset position: %w", err))
	}
	return pos, nil
}

// fetchNew fetches, delivers and marks everything above the recorded
// position, batch by batch.
func (s *imapSession) fetchNew(ctx context.Context) error {
	// Drained first: new mail reported from now on wakes the next wait.
	select {
	case <-s.wake:
	default:
	}
	var last uint32
	err := s.p.pipe.st.View(func(tx *store.Tx) error {
		pos, _, err := tx.MailboxPos(s.p.key)
		last = pos.LastUID
		return err
	})
	if err != nil {
		return failure(imapErrStore, err)
	}
	// "UID n:*" matches the highest UID even when it is below n (RFC 9051
	// §6.4.4), so what comes back is filtered.
	crit := &imap.SearchCriteria{UID: []imap.UIDSet{{{Start: imap.UID(last + 1), Stop: 0}}}}
	data, err := s.c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return failure(imapErrConnection, fmt.Errorf("search %s above uid %d: %w", s.p.opts.Mailbox, last, err))
	}
	var uids []imap.UID
	for _, u := range data.AllUIDs() {
		if uint32(u) > last {
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	for batch := range slices.Chunk(uids, s.p.opts.BatchSize) {
		if err := s.fetchBatch(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// fetchBatch fetches some messages, delivers each as it arrives, then
// marks them on the server and clears them from the pending list. Sizes
// come first, so that a message over the limit is refused unread. A
// message the server does not return, or returns without a body, is
// looked for again: gone (expunged meanwhile), the position passes it;
// still there, it is tried again next session, and refused after
// maxMessageTries. A temporary delivery failure stops the batch: what was
// decided before it is marked, the rest is fetched again after the
// backoff.
func (s *imapSession) fetchBatch(ctx context.Context, uids []imap.UID) error {
	b := &batch{uids: uids, decided: map[uint32]bool{}}
	sizes, err := s.sizes(uids)
	if err != nil {
		return err
	}
	var want []imap.UID
	for _, u := range uids {
		if size, ok := sizes[uint32(u)]; ok && size > s.p.opts.MaxMessageBytes {
			d, err := s.refuse(ctx, b, uint32(u), fmt.Sprintf("message of %d bytes is larger than the limit of %d", size, s.p.opts.MaxMessageBytes))
			if err != nil {
				return s.finish(ctx, b, err)
			}
			b.decided[uint32(u)] = true
			b.done = append(b.done, d)
			continue
		}
		want = append(want, u)
	}
	if len(want) == 0 {
		return s.finish(ctx, b, nil)
	}
	cmd := s.c.Fetch(imap.UIDSetNum(want...), &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	var derr error
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		if derr != nil {
			continue // Next discards the rest of the response
		}
		uid, raw, size, err := readFetched(msg, s.p.opts.MaxMessageBytes)
		if err != nil {
			derr = failure(imapErrConnection, err)
			continue
		}
		if uid == 0 || !slices.Contains(want, imap.UID(uid)) || b.decided[uid] {
			continue // not one asked for
		}
		if raw == nil && size == 0 {
			continue // no body: looked for again below
		}
		d, err := s.deliver(ctx, b, uid, raw, size)
		if errors.Is(err, errParseFailed) && s.p.tried(s.validity, uid) >= maxMessageTries {
			d, err = s.refuse(ctx, b, uid, fmt.Sprintf("it could not be parsed in %d tries", maxMessageTries))
		}
		if err != nil {
			derr = err
			continue
		}
		b.decided[uid] = true
		b.done = append(b.done, d)
	}
	if ferr := cmd.Close(); ferr != nil && derr == nil {
		var ie *imap.Error
		if errors.As(ferr, &ie) && ie.Type == imap.StatusResponseTypeNo {
			// "Some messages could not be FETCHed": those are looked
			// for below, the rest came.
			s.p.log.Warn("imap fetch refused in part", "error", ferr)
		} else {
			derr = failure(imapErrConnection, fmt.Errorf("fetch %d messages from %s: %w", len(want), s.p.opts.Mailbox, ferr))
		}
	}
	if derr == nil {
		derr = s.unreturned(ctx, b, want)
	}
	return s.finish(ctx, b, derr)
}

// unreturned deals with the messages asked for that the fetch did not
// deliver: those the mailbox no longer holds count as decided, so the
// position may pass them; the others are counted against their tries and
// refused once they have had them all, or else make the session fail, to
// be fetched again after the backoff.
func (s *imapSession) unreturned(ctx context.Context, b *batch, want []imap.UID) error {
	var missing imap.UIDSet
	for _, u := range want {
		if !b.decided[uint32(u)] {
			missing.AddNum(u)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	data, err := s.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{missing}}, nil).Wait()
	if err != nil {
		return failure(imapErrConnection, fmt.Errorf("search %s for uids %s: %w", s.p.opts.Mailbox, missing, err))
	}
	present := map[uint32]bool{}
	for _, u := range data.AllUIDs() {
		present[uint32(u)] = true
	}
	var retry []uint32
	for _, u := range want {
		uid := uint32(u)
		switch {
		case b.decided[uid]:
		case !present[uid]:
			b.decided[uid] = true // expunged meanwhile
		case s.p.tried(s.validity, uid) >= maxMessageTries:
			d, err := s.refuse(ctx, b, uid, fmt.Sprintf("the server did not send it in %d tries", maxMessageTries))
			if err != nil {
				return err
			}
			b.decided[uid] = true
			b.done = append(b.done, d)
		default:
			retry = append(retry, uid)
		}
	}
	if len(retry) > 0 {
		return failure(imapErrMessage, fmt.Errorf("the server did not send uids %v of %s: fetched again after the backoff", retry, s.p.opts.Mailbox))
	}
	return nil
}

// finish marks what the batch decided and moves the position past every
// message decided in an unbroken run from the batch's start, then returns
// err.
func (s *imapSession) finish(ctx context.Context, b *batch, err error) error {
	if len(b.done) > 0 && s.p.opts.AfterStore != nil {
		if aerr := s.p.opts.AfterStore(ctx); aerr != nil {
			return failure(imapErrConnection, aerr)
		}
	}
	upTo := b.through(0)
	if len(b.done) > 0 || upTo > 0 {
		if merr := s.mark(ctx, b.done, upTo); merr != nil {
			return merr
		}
	}
	return err
}

// sizes asks for the sizes of messages (RFC822.SIZE), so that one over
// the limit is refused without being read.
func (s *imapSession) sizes(uids []imap.UID) (map[uint32]int64, error) {
	msgs, err := s.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, failure(imapErrConnection, fmt.Errorf("fetch sizes from %s: %w", s.p.opts.Mailbox, err))
	}
	out := make(map[uint32]int64, len(msgs))
	for _, m := range msgs {
		if m.UID != 0 {
			out[uint32(m.UID)] = m.RFC822Size
		}
	}
	return out, nil
}

// refuse records a message refused without the pipeline (over the limit,
// never sent whole, unparseable), to be flagged in the mailbox.
func (s *imapSession) refuse(ctx context.Context, b *batch, uid uint32, reason string) (store.PendingUID, error) {
	refused := store.PendingUID{UID: uid, Refused: true}
	if err := s.recordOnly(ctx, b, uid); err != nil {
		return refused, err
	}
	inc(s.p.m.refused)
	s.p.log.Warn("imap message refused, left flagged in the mailbox", "uid", uid, "reason", reason)
	return refused, nil
}

// tried counts one more failed session on uid of mailbox generation
// validity and returns the count.
func (p *IMAPPoller) tried(validity, uid uint32) int {
	if p.failed == nil || p.failedValidity != validity {
		p.failed, p.failedValidity = map[uint32]int{}, validity
	}
	p.failed[uid]++
	return p.failed[uid]
}

// batch is what fetchBatch knows while it delivers.
type batch struct {
	uids    []imap.UID      // asked for, ascending
	decided map[uint32]bool // stored, deduped or refused
	done    []store.PendingUID
}

// through is the highest UID up to which every message of the batch is
// decided, uid counted as decided: the position may advance that far. A
// server that answers out of order then costs a fetch again after a crash,
// never a message.
func (b *batch) through(uid uint32) uint32 {
	var upTo uint32
	for _, u := range b.uids {
		if uint32(u) != uid && !b.decided[uint32(u)] {
			break
		}
		upTo = uint32(u)
	}
	return upTo
}

// readFetched reads one message of a UID FETCH. A message over max is
// drained, not kept: raw is nil and size says how large it was.
func readFetched(msg *imapclient.FetchMessageData, max int64) (uid uint32, raw []byte, size int64, err error) {
	for item := msg.Next(); item != nil; item = msg.Next() {
		switch item := item.(type) {
		case imapclient.FetchItemDataUID:
			uid = uint32(item.UID)
		case imapclient.FetchItemDataBodySection:
			if item.Literal == nil {
				continue
			}
			size = item.Literal.Size()
			if size > max {
				continue // Next drains it
			}
			raw, err = io.ReadAll(item.Literal)
			if err != nil {
				return uid, nil, size, fmt.Errorf("read message: %w", err)
			}
		}
	}
	return uid, raw, size, nil
}

// deliver takes one fetched message through the pipeline, recording the
// position in the transaction that decides it. A refusal is a decision
// too: the message is to be flagged. Any other error is temporary.
func (s *imapSession) deliver(ctx context.Context, b *batch, uid uint32, raw []byte, size int64) (store.PendingUID, error) {
	p := s.p
	inc(p.m.fetched)
	refused := store.PendingUID{UID: uid, Refused: true}
	if raw == nil {
		// Over the limit, though its RFC822.SIZE said otherwise.
		return s.refuse(ctx, b, uid, fmt.Sprintf("message of %d bytes is larger than the limit of %d", size, p.opts.MaxMessageBytes))
	}
	recorded := false
	out, err := p.pipe.Deliver(ctx, Delivery{
		Teams:        []string{p.opts.Team},
		EnvelopeFrom: returnPath(raw),
		Raw:          raw,
		FromMailbox:  true,
		Record: func(tx *store.Tx, _ Outcome, rej error) error {
			recorded = true
			return s.record(tx, b, uid, rej != nil)
		},
	})
	var rej *Rejection
	switch {
	case errors.As(err, &rej):
		// Mail that cannot be parsed is refused before the transaction
		// that would record it.
		if !recorded {
			if err := s.recordOnly(ctx, b, uid); err != nil {
				return refused, err
			}
		}
		inc(p.m.refused)
		p.log.Warn("imap message refused, left flagged in the mailbox", "uid", uid, "message_id", out.MessageID, "reason", rej.Reason)
		return refused, nil
	case err != nil:
		return refused, failure(imapErrStore, fmt.Errorf("deliver uid %d: %w", uid, err))
	}
	if len(out.Stored) > 0 {
		inc(p.m.stored)
		p.log.Info("imap message stored", "uid", uid, "message_id", out.MessageID, "team", p.opts.Team)
	} else {
		inc(p.m.duplicate)
		p.log.Info("imap message already stored", "uid", uid, "message_id", out.MessageID, "team", p.opts.Team)
	}
	return store.PendingUID{UID: uid}, nil
}

// record notes uid as decided, in the transaction that decided it: the
// position advances and the message waits to be marked on the server.
// It reads what it changes from tx, so running it again is harmless.
func (s *imapSession) record(tx *store.Tx, b *batch, uid uint32, refused bool) error {
	pos, _, err := tx.MailboxPos(s.p.key)
	if err != nil {
		return err
	}
	if pos.UIDValidity != s.validity {
		pos = store.MailboxPos{UIDValidity: s.validity}
	}
	pos.LastUID = max(pos.LastUID, b.through(uid))
	pos.Pending = append(pos.Pending, store.PendingUID{UID: uid, Refused: refused})
	return tx.PutMailboxPos(s.p.key, pos)
}

// recordOnly records a refusal that stored nothing.
func (s *imapSession) recordOnly(ctx context.Context, b *batch, uid uint32) error {
	err := s.p.pipe.st.Update(ctx, func(tx *store.Tx) error { return s.record(tx, b, uid, true) })
	if err != nil {
		return failure(imapErrStore, fmt.Errorf("record uid %d: %w", uid, err))
	}
	return nil
}

// mark tells the server what became of decided messages — \Flagged for the
// refused, \Seen or a move for the rest — and then drops them from the
// pending list, moving the position up to upTo if that is higher.
func (s *imapSession) mark(ctx context.Context, pending []store.PendingUID, upTo uint32) error {
	var done, refused imap.UIDSet
	for _, pu := range pending {
		if pu.Refused {
			refused.AddNum(imap.UID(pu.UID))
		} else {
			done.AddNum(imap.UID(pu.UID))
		}
	}
	// A server that refuses to mark (over quota, a read-only mailbox, no
	// right to create the folder) must not stop new mail: what is stored
	// stays pending, is marked again at each connection, and the refusal
	// is logged and counted. A broken connection ends the session.
	var refusedByServer error
	markOr := func(err error) error {
		var ie *imap.Error
		if err != nil && errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
			refusedByServer = err
			return nil
		}
		return err
	}
	if len(refused) > 0 {
		if err := markOr(s.store(refused, imap.FlagFlagged)); err != nil {
			return err
		}
	}
	if len(done) > 0 && refusedByServer == nil {
		var err error
		if s.p.folder == "" {
			err = s.store(done, imap.FlagSeen)
		} else {
			err = s.moveOrCreate(done)
		}
		if err := markOr(err); err != nil {
			return err
		}
	}
	if refusedByServer != nil {
		s.p.m.error(imapErrMark)
		s.p.log.Error("imap server refused to mark stored messages: they stay as they are and are marked again at the next connection",
			"count", len(pending), "error", refusedByServer)
	}
	err := s.p.pipe.st.Update(ctx, func(tx *store.Tx) error {
		pos, _, err := tx.MailboxPos(s.p.key)
		if err != nil || pos.UIDValidity != s.validity {
			return err
		}
		pos.Pending = slices.DeleteFunc(pos.Pending, func(pu store.PendingUID) bool {
			return refusedByServer == nil && slices.ContainsFunc(pending, func(q store.PendingUID) bool { return q.UID == pu.UID })
		})
		pos.LastUID = max(pos.LastUID, upTo)
		return tx.PutMailboxPos(s.p.key, pos)
	})
	if err != nil {
		return failure(imapErrStore, fmt.Errorf("clear marked messages: %w", err))
	}
	return nil
}

func (s *imapSession) store(uids imap.UIDSet, flag imap.Flag) error {
	err := s.c.Store(uids, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{flag}}, nil).Close()
	if err != nil {
		return failure(imapErrConnection, fmt.Errorf("store %s on %s: %w", flag, uids, err))
	}
	return nil
}

// moveOrCreate moves messages to the folder of "move:", creating it when
// the server says it is missing (RFC 9051 §7.1: TRYCREATE).
func (s *imapSession) moveOrCreate(uids imap.UIDSet) error {
	err := s.move(uids)
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeTryCreate {
		s.p.log.Info("imap creating folder", "folder", s.p.folder)
		if cerr := s.c.Create(s.p.folder, nil).Wait(); cerr != nil {
			return failure(imapErrMailbox, fmt.Errorf("create %s: %w", s.p.folder, cerr))
		}
		err = s.move(uids)
	}
	if err != nil {
		return failure(imapErrConnection, fmt.Errorf("move %s to %s: %w", uids, s.p.folder, err))
	}
	return nil
}

// move is UID MOVE (RFC 6851), or where the server lacks it, UID COPY, then
// \Deleted, then EXPUNGE. The fallback is ours, one step after the other:
// the library's sends all three at once, so a failed COPY would still
// delete the messages. Without UIDPLUS, EXPUNGE removes every \Deleted
// message of the mailbox, as any client's would.
func (s *imapSession) move(uids imap.UIDSet) error {
	if s.hasMove {
		_, err := s.c.Move(uids, s.p.folder).Wait()
		return err
	}
	if _, err := s.c.Copy(uids, s.p.folder).Wait(); err != nil {
		return err
	}
	if err := s.store(uids, imap.FlagDeleted); err != nil {
		return err
	}
	if s.uidplus {
		return s.c.UIDExpunge(uids).Close()
	}
	return s.c.Expunge().Close()
}

// wait returns when there may be new mail: the server said so during IDLE,
// the IDLE was renewed, or, without IDLE, the poll interval passed.
func (s *imapSession) wait(ctx context.Context) error {
	select {
	case <-s.wake:
		return nil // reported while we were busy
	default:
	}
	if !s.idle {
		t := time.NewTimer(s.p.opts.PollInterval)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.c.Closed():
			return failure(imapErrConnection, errors.New("connection closed by the server"))
		case <-t.C:
			return nil
		}
	}
	idle, err := s.c.Idle()
	if err != nil {
		return failure(imapErrConnection, fmt.Errorf("idle: %w", err))
	}
	// IDLE ends after IdleRenew even when nothing was reported, and new
	// mail is searched for: a push the server missed is found then.
	t := time.NewTimer(s.p.opts.IdleRenew)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.c.Closed():
	case <-s.wake:
	case <-t.C:
	}
	if err := idle.Close(); err != nil {
		return failure(imapErrConnection, fmt.Errorf("end idle: %w", err))
	}
	if err := idle.Wait(); err != nil {
		return failure(imapErrConnection, fmt.Errorf("idle: %w", err))
	}
	return nil
}

// returnPath is the address of the message's first Return-Path field, the
// one the delivering server added: its envelope sender, "" for none or <>.
func returnPath(raw []byte) string {
	m, err := netmail.ReadMessage(bytes.NewReader(raw)) // reads the header only
	if err != nil {
		return ""
	}
	rp := strings.TrimSpace(m.Header.Get("Return-Path"))
	rp = strings.TrimSuffix(strings.TrimPrefix(rp, "<"), ">")
	if strings.ContainsAny(rp, " <>\t\r\n") {
		return ""
	}
	return rp
}
