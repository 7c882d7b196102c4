package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/control"
	"github.com/tidings/tidings/store"
)

// openEnv gives a command env on a fresh database, as a local run would.
func openEnv(t *testing.T, ctx context.Context) (*env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	st, err := store.Open(cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var stdout, stderr bytes.Buffer
	e := &env{ctx: ctx, cfg: cfg, st: st, pipe: newPipeline(st, cfg, nil), stdout: &stdout, stderr: &stderr,
		progress: func(control.Progress) {}, cwd: cfg.DataDir}
	return e, &stdout, &stderr
}

func TestImportStopsBetweenBatches(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, stdout, _ := openEnv(t, ctx)
	if err := teamAdd(e, "eng", "", nil); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	var mbox strings.Builder
	date := time.Now().Add(-time.Hour).Format(time.RFC1123Z)
	n := 4*importBatch + 10
	for i := range n {
		fmt.Fprintf(&mbox, "From x@example.com Thu Jan  1 00:00:00 2026\nFrom: x@example.com\nTo: eng@localhost\n"+
			"Subject: note %d\nMessage-ID: <n%d@example.com>\nDate: %s\n\nbody %d\n\n", i, i, date, i)
	}
	path := filepath.Join(t.TempDir(), "big.mbox")
	if err := os.WriteFile(path, []byte(mbox.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var reports []control.Progress
	e.progress = func(p control.Progress) {
		reports = append(reports, p)
		cancel() // Ctrl-C after the first batch: the second is already in flight
	}
	err := importMail(e, "", path, "", nil)
	if err == nil || !strings.Contains(err.Error(), "interrupted after 1000 messages") {
		t.Errorf("err = %v", err)
	}
	if got := strings.TrimSpace(stdout.String()); got != "imported 1000, duplicates 0, refused 0" {
		t.Errorf("summary %q", got)
	}
	if len(reports) != 2 || reports[0].Items != 500 || reports[1].Items != 1000 || reports[0].Total == 0 || reports[0].Done <= 0 || reports[0].Done >= reports[0].Total {
		t.Errorf("progress reports %+v", reports)
	}

	// Running it again finishes the job and finds the first batch there.
	e.ctx = context.Background()
	stdout.Reset()
	e.progress = func(p control.Progress) { reports = append(reports, p) }
	if err := importMail(e, "", path, "", nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(stdout.String()); got != fmt.Sprintf("imported %d, duplicates 1000, refused 0", n-1000) {
		t.Errorf("second run: %q", got)
	}
	last := reports[len(reports)-1]
	if last.Done != last.Total || last.Items != int64(n) {
		t.Errorf("final progress %+v", last)
	}
}
