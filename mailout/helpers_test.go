package mailout

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tidings/tidings/store"
)

// openStore opens a fresh database in t.TempDir and closes it after the
// test.
func openStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tidings.db")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st, path
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// testMail is digest-like mail number i for member i.
func testMail(i int) Mail {
	member := fmt.Sprintf("m%d@example.com", i)
	return Mail{
		From:      mail.Address{Name: "Eng", Address: "eng@example.com"},
		To:        mail.Address{Name: fmt.Sprintf("Mëmber %d", i), Address: member},
		Subject:   fmt.Sprintf("[tidings] %d updates", i),
		MessageID: MessageID("digest", member, "example.com"),
		ListID:    "eng.example.com",
		Text:      []byte(fmt.Sprintf("Digest %d\n", i)),
		HTML:      []byte(fmt.Sprintf("<p>Digest %d</p>", i)),
	}
}

// queue puts mails into the outbox in one transaction, as a digest claim
// would, and returns their IDs.
func queue(t *testing.T, st *store.Store, now time.Time, mails ...Mail) []uint64 {
	t.Helper()
	var ids []uint64
	err := st.Update(context.Background(), func(tx *store.Tx) error {
		ids = ids[:0]
		for _, m := range mails {
			id, err := Queue(tx, m, "digest", m.To.Address, "", now)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func outMail(t *testing.T, st *store.Store, id uint64) (store.OutMail, []byte) {
	t.Helper()
	var m store.OutMail
	var raw []byte
	err := st.View(func(tx *store.Tx) error {
		var err error
		if m, err = tx.OutMail(id); err != nil {
			return err
		}
		raw, err = tx.OutRaw(id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, raw
}

// files lists the names in dir, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}
