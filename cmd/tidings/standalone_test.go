package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidings/tidings/control"
)

// bigMbox is an mbox of n messages for team eng, each a thread of its own.
func bigMbox(n int) []byte {
	var b bytes.Buffer
	date := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	for i := range n {
		fmt.Fprintf(&b, "From sender@archive.test %s\n", date.Format(time.ANSIC))
		m := mailAt("ana@example.com", "eng@localhost", fmt.Sprintf("Archived note %d", i), fmt.Sprintf("big-%d@archive.test", i), date.Add(time.Duration(i)*time.Second))
		b.WriteString(strings.ReplaceAll(m, "\r\n", "\n") + strings.Repeat("Filler line for size.\n", 8) + "\n")
	}
	return b.Bytes()
}

// fifoImport starts `tidings import --mbox FIFO` with no server running
// and returns the writing end of the FIFO once the import reads it: the
// import then holds the database for as long as the test keeps the FIFO
// open, however fast the machine.
type fifoImport struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	fifo           *os.File
}

func startFIFOImport(t *testing.T, in *instance) *fifoImport {
	t.Helper()
	path := filepath.Join(in.Dir, "big.mbox")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	fi := &fifoImport{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	fi.cmd = exec.Command(tidingsBin, "import", "--team", "eng", "--mbox", "big.mbox", "--config", in.Config)
	fi.cmd.Dir = in.Dir
	fi.cmd.Stdout, fi.cmd.Stderr = fi.stdout, fi.stderr
	if err := fi.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { fi.cmd.Wait(); close(fi.done) }()
	t.Cleanup(func() {
		fi.cmd.Process.Kill()
		<-fi.done
		if fi.fifo != nil {
			fi.fifo.Close()
		}
	})
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0) // blocks until the import opens it
		if err != nil {
			t.Error(err)
		}
		opened <- f
	}()
	select {
	case fi.fifo = <-opened:
		if fi.fifo == nil {
			t.FailNow()
		}
	case <-fi.done:
		t.Fatalf("import ended before reading: %s%s", fi.stdout, fi.stderr)
	}
	return fi
}

// wait waits for the import to end and returns its exit status.
func (fi *fifoImport) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-fi.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("import did not end: %s%s", fi.stdout, fi.stderr)
	}
	return fi.cmd.ProcessState.ExitCode()
}

// While a long import runs with no server, it holds the database and
// serves the control socket: other admin commands run through it, never
// finding the database locked, and serve says what holds it.
func TestAdminWhileStandaloneImport(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.MustRun("team", "add", "eng")
	const n = 4000
	mbox := bigMbox(n)
	imp := startFIFOImport(t, in)
	half := bytes.Index(mbox[len(mbox)/2:], []byte("\nFrom ")) + len(mbox)/2 + 1
	if _, err := imp.fifo.Write(mbox[:half]); err != nil {
		t.Fatal(err)
	}

	info, err := control.Who(context.Background(), filepath.Join(in.DataDir, "tidings.sock"))
	if err != nil || info.PID != imp.cmd.Process.Pid || !strings.HasPrefix(info.Holder, "tidings import --team eng --mbox big.mbox") {
		t.Errorf("who holds the socket: %+v %v; want the import, pid %d", info, err, imp.cmd.Process.Pid)
	}

	var wg sync.WaitGroup
	for i, args := range [][]string{
		{"team", "list"},
		{"threads", "--json"},
		{"member", "add", "ana@example.com", "--team", "eng"},
		{"--config", in.Config, "member", "list", "--json"},
		{"team", "list", "--json"},
		{"member", "add", "bo@example.com", "--team", "eng", "--tz", "Europe/Paris"},
	} {
		wg.Go(func() {
			r := in.Run(args...)
			if r.Code != 0 || strings.Contains(r.Stderr, "in use") || strings.Contains(r.Stderr, "lock") {
				t.Errorf("tidings %v during a standalone import: exit %d, stderr %q", args, r.Code, r.Stderr)
			}
			if i == 1 {
				var ths []threadJSON
				if err := json.Unmarshal([]byte(r.Stdout), &ths); err != nil || len(ths) > n {
					t.Errorf("threads --json during the import: %d threads, %v", len(ths), err)
				}
			}
		})
	}
	wg.Wait()

	// serve does not start while the import holds the database, and says
	// why.
	r := in.Run("serve")
	if r.Code != 1 || !strings.Contains(r.Stderr, "in use by another process: tidings import") ||
		!strings.Contains(r.Stderr, fmt.Sprintf("pid %d", imp.cmd.Process.Pid)) {
		t.Errorf("serve during a standalone import: exit %d, stderr %q", r.Code, r.Stderr)
	}

	if _, err := imp.fifo.Write(mbox[half:]); err != nil {
		t.Fatal(err)
	}
	imp.fifo.Close()
	if code := imp.wait(t); code != 0 || strings.TrimSpace(imp.stdout.String()) != fmt.Sprintf("imported %d, duplicates 0, refused 0", n) {
		t.Errorf("import: exit %d, stdout %q, stderr %q", code, imp.stdout, imp.stderr)
	}
	// The commands ran inside the import's process (its log is at debug).
	for _, argv := range []string{`argv="[team list --config`, `argv="[threads --json`, `argv="[member add ana@example.com`} {
		if !strings.Contains(imp.stderr.String(), argv) {
			t.Errorf("%s did not run in the import's process; its stderr:\n%s", argv, imp.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(in.DataDir, "tidings.sock")); !os.IsNotExist(err) {
		t.Errorf("control socket left after the import: %v", err)
	}

	if got := len(threadsJSON(t, in)); got != n {
		t.Errorf("%d threads after the import, want %d", got, n)
	}
	var members []memberJSON
	if err := json.Unmarshal([]byte(in.MustRun("member", "list", "--json")), &members); err != nil || len(members) != 2 {
		t.Errorf("members after the import: %+v %v", members, err)
	}
	in.Start()
	in.Stop()
}

// Commands started together with no server running all succeed: one takes
// the database and the socket, the others reach it through the socket or
// take their turn.
func TestConcurrentCommandsWithoutServer(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.MustRun("team", "add", "eng")
	const n = 12
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			args := [][]string{
				{"team", "add", fmt.Sprintf("t%d", i)},
				{"member", "add", fmt.Sprintf("p%d@example.com", i), "--team", "eng"},
				{"threads", "--json"},
				{"team", "list"},
			}[i%4]
			r := in.Run(args...)
			if r.Code != 0 || strings.Contains(r.Stderr, "in use") || strings.Contains(r.Stderr, "lock") {
				t.Errorf("tidings %v: exit %d, stderr %q", args, r.Code, r.Stderr)
			}
		})
	}
	wg.Wait()
	var teams []teamJSON
	if err := json.Unmarshal([]byte(in.MustRun("team", "list", "--json")), &teams); err != nil || len(teams) != 1+(n+3)/4 {
		t.Errorf("teams: %+v %v", teams, err)
	}
}

// A standalone command that is killed leaves its socket behind; the next
// command and serve replace it.
func TestStaleSocketAfterKilledImport(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.MustRun("team", "add", "eng")
	imp := startFIFOImport(t, in)
	sock := filepath.Join(in.DataDir, "tidings.sock")
	if _, err := control.Who(context.Background(), sock); err != nil {
		t.Fatalf("the import does not answer on the socket: %v", err)
	}
	imp.cmd.Process.Kill()
	imp.wait(t)
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("a killed import should leave its socket behind: %v", err)
	}
	if out := in.MustRun("team", "list"); !strings.Contains(out, "eng@localhost") {
		t.Errorf("team list after the kill: %q", out)
	}
	in.Start()
	in.MustRun("team", "add", "ops")
	in.Stop()
}
