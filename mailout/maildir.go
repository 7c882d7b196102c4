package mailout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tidings/tidings/store"
)

// maildir writes mail into a Maildir (tmp/, new/, cur/; see
// https://cr.yp.to/proto/maildir.html): a file is written and fsynced in
// tmp/, then renamed into new/, where it appears whole or not at all.
type maildir struct{ dir string }

// init creates the Maildir's directories, owner only, and makes them
// durable.
func (md maildir) init() error {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(md.dir, sub), 0o700); err != nil {
			return fmt.Errorf("mailout: maildir: %w", err)
		}
	}
	for _, d := range []string{md.dir, filepath.Dir(md.dir)} {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("mailout: maildir: %w", err)
		}
	}
	return nil
}

func (md maildir) tmp(name string) string { return filepath.Join(md.dir, "tmp", name) }
func (md maildir) new(name string) string { return filepath.Join(md.dir, "new", name) }

// MaildirName is the file name outbox mail m gets in the Maildir. It is
// made only of what the outbox record fixed when the mail was queued — the
// time queued, the outbox ID and the domain of the Message-ID — so that
// every attempt, before and after a crash, on this host or another, uses
// the same name; and a database started afresh, whose IDs begin again at 1,
// does not reuse the name of a file it did not write. It has the shape of
// the Maildir convention, time.unique.host, with the Message-ID's domain
// for the host: a hostname can change between a crash and the restart.
func MaildirName(m store.OutMail) string {
	q := m.Queued.UTC()
	host := "tidings"
	if at := strings.LastIndexByte(m.MessageID, '@'); at >= 0 && at+1 < len(m.MessageID) {
		host = m.MessageID[at+1:]
	}
	// '/' and ':' have meanings in Maildir names; keep to a safe set.
	host = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, host)
	return fmt.Sprintf("%d.M%06dQ%d.%s", q.Unix(), q.Nanosecond()/1000, m.ID, host)
}

// write puts raw into tmp/name, replacing what a failed attempt left there,
// and fsyncs it. The caller fsyncs tmp/ before relying on it.
func (md maildir) write(name string, raw []byte) error {
	path := md.tmp(name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("mailout: maildir: %w", err)
	}
	_, err = f.Write(raw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("mailout: maildir: write %s: %w", path, err)
	}
	return nil
}

// inTmp reports whether tmp/name exists.
func (md maildir) inTmp(name string) (bool, error) {
	_, err := os.Lstat(md.tmp(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mailout: maildir: %w", err)
	}
	return true, nil
}

// move renames tmp/name into new/. The caller fsyncs new/ before relying
// on it.
func (md maildir) move(name string) error {
	if err := os.Rename(md.tmp(name), md.new(name)); err != nil {
		return fmt.Errorf("mailout: maildir: %w", err)
	}
	return nil
}

func (md maildir) syncTmp() error { return syncDir(filepath.Join(md.dir, "tmp")) }
func (md maildir) syncNew() error { return syncDir(filepath.Join(md.dir, "new")) }

// syncDir makes the creation, removal or renaming of entries in dir
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
