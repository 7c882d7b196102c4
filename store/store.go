package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// schemaVersion is the layout this code reads and writes. Open migrates older
// files forward step by step (see migrations) and refuses newer ones.
const schemaVersion = 3

var (
	bMeta        = []byte("meta")
	bTeams       = []byte("teams")
	bTeamAddr    = []byte("team_addr")
	bMembers     = []byte("members")
	bMessages    = []byte("messages")
	bNodes       = []byte("nodes")
	bThreadNodes = []byte("thread_nodes")
	bThreads     = []byte("threads")
	bSubjects    = []byte("subjects")
	bTIndex      = []byte("thread_index")
	bRedirects   = []byte("thread_redirects")
	bUnthreaded  = []byte("unthreaded")
	bOutbox      = []byte("outbox")
	bOutboxDue   = []byte("outbox_due")
	bDigests     = []byte("digests")
	bMailboxes   = []byte("mailboxes")    // IMAP: UIDVALIDITY and last UID per polled mailbox
	bAnswered    = []byte("answered")     // automatic answers sent, per sender, for rate limits
	bDigestLog   = []byte("digest_log")   // threads each sent digest showed, for replies to it
	bAliases     = []byte("member_alias") // another address of a member -> the member's address

	keySchema = []byte("schema")
)

// Options tune Open. The zero value is safe: a one-second lock timeout and a
// discarding logger.
type Options struct {
	// Timeout is how long Open waits for another process to release the file.
	Timeout time.Duration
	// Logger receives the store's log lines; nil discards them.
	Logger *slog.Logger
	// MaxBatch caps how many Update calls share one transaction (default 256).
	MaxBatch int
}

// Store is an open database. It is safe for concurrent use.
type Store struct {
	db       *bolt.DB
	log      *slog.Logger
	maxBatch int

	// The group commit: callers queue in pending; one of them at a time,
	// the leader, commits what is queued, then passes the lead on.
	mu      sync.Mutex
	pending []*call
	leading bool
	idle    *sync.Cond // signalled when the lead is given up
	closed  bool
}

type call struct {
	fn  func(*Tx) error
	err chan error // the outcome, or errLead
}

// errLead tells a queued caller that it now leads the group commit.
var errLead = errors.New("store: lead the commit")

// Open opens or creates the database at path, creating its directory, and
// brings its schema up to date.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("store: open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{
		db:       db,
		log:      opts.Logger.With("component", "store"),
		maxBatch: opts.MaxBatch,
	}
	s.idle = sync.NewCond(&s.mu)
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// migrations[i] brings a file from schema version i to i+1. Version 0 is a new,
// empty file.
var migrations = []func(*bolt.Tx) error{
	createBuckets(bMeta, bTeams, bTeamAddr, bMembers, bMessages, bNodes, bThreadNodes, bThreads,
		bSubjects, bTIndex, bRedirects, bUnthreaded),
	// 1 -> 2: the outbox and the digest scheduler's state.
	createBuckets(bOutbox, bOutboxDue, bDigests),
	// 2 -> 3: IMAP mailbox positions, automatic-answer rate limits, what
	// each digest showed, and members' other addresses.
	createBuckets(bMailboxes, bAnswered, bDigestLog, bAliases),
}

func createBuckets(names ...[]byte) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		for _, b := range names {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	}
}

func (s *Store) migrate() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		v := 0
		if m := tx.Bucket(bMeta); m != nil {
			if b := m.Get(keySchema); len(b) == 8 {
				v = int(binary.BigEndian.Uint64(b))
			}
		}
		if v > schemaVersion {
			return fmt.Errorf("schema version %d is newer than this program (%d)", v, schemaVersion)
		}
		for ; v < schemaVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
			}
			s.log.Info("migrated schema", "from", v, "to", v+1)
		}
		return tx.Bucket(bMeta).Put(keySchema, u64(schemaVersion))
	})
}

// SchemaVersion reports the schema version of the open file.
func (s *Store) SchemaVersion() (int, error) {
	var v int
	err := s.db.View(func(tx *bolt.Tx) error {
		v = int(binary.BigEndian.Uint64(tx.Bucket(bMeta).Get(keySchema)))
		return nil
	})
	return v, err
}

// Close waits for pending writes and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for s.leading || len(s.pending) > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	return s.db.Close()
}

// Update runs fn in a read-write transaction and returns once that
// transaction is committed to disk, or fn's error. Calls that arrive while a
// commit is in flight share the next transaction; if fn fails, the shared
// transaction is rolled back and the other calls run again without it, so fn
// must not have effects outside the transaction. Update does not give up on
// ctx once the call is queued: its outcome must be known to the caller. fn
// must not call Update itself: it would wait for its own transaction.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &call{fn: fn, err: make(chan error, 1)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.pending = append(s.pending, c)
	if s.leading {
		s.mu.Unlock()
		if err := <-c.err; err != errLead {
			return err
		}
		s.mu.Lock()
	}
	// This caller leads: with nothing in flight it commits at once, in its
	// own goroutine; otherwise the batch is everything that queued while
	// the previous commit was on its way to disk. No fixed delay either way.
	s.leading = true
	for {
		n := min(len(s.pending), s.maxBatch)
		batch := s.pending[:n:n]
		s.pending = s.pending[n:]
		s.mu.Unlock()
		s.commitSafe(batch)
		clear(batch) // let the calls, and the mail they hold, be collected
		s.mu.Lock()
		select {
		case err := <-c.err:
			// Done. Hand the lead to the next in line, if any.
			if len(s.pending) > 0 {
				s.pending[0].err <- errLead
			} else {
				s.leading = false
				s.idle.Broadcast()
			}
			s.mu.Unlock()
			return err
		default:
			// Our call is still queued behind a full batch: commit again.
		}
	}
}

// View runs fn in a read-only transaction. Keep it short.
func (s *Store) View(fn func(*Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx}) })
}

// commitSafe is commit that answers every call of the batch even if bbolt
// itself panics (a corrupt page, say), so that no caller waits forever and
// the lead passes on.
func (s *Store) commitSafe(batch []*call) {
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("store: commit failed: %v", r)
			s.log.Error("commit panicked", "error", err)
			for _, c := range batch {
				select {
				case c.err <- err:
				default: // already answered
				}
			}
		}
	}()
	s.commit(batch)
}

// commit runs the batch in one transaction. A failing call is answered with
// its error and the rest run again without it.
func (s *Store) commit(batch []*call) {
	for len(batch) > 0 {
		failed := -1
		var ferr error
		err := s.db.Update(func(btx *bolt.Tx) error {
			tx := &Tx{tx: btx}
			for i, c := range batch {
				if err := runCall(c.fn, tx); err != nil {
					failed, ferr = i, err
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			batch[failed].err <- ferr
			batch = append(batch[:failed:failed], batch[failed+1:]...)
			continue
		}
		for _, c := range batch {
			c.err <- err
		}
		return
	}
}

func runCall(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: panic in transaction: %v", r)
		}
	}()
	return fn(tx)
}

// Backup writes a consistent copy of the database to w while it stays in use.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// BackupFile writes a consistent copy to path via a temporary file in the
// same directory: written, fsynced, renamed, and the directory fsynced, so
// that a half-written backup never has the final name and a finished one
// survives a crash.
func (s *Store) BackupFile(path string) (int64, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	tmp := f.Name()
	n, err := s.Backup(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("store: decode %q: %w", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
