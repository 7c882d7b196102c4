package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// shortDir returns a directory whose socket path fits the unix limit even
// when TMPDIR is long.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startServer(t *testing.T, h Handler) *Server {
	t.Helper()
	s, err := Listen(filepath.Join(shortDir(t), "t.sock"), h, nil)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(ctx context.Context, req Request, out Streams) int {
		fmt.Fprintf(out.Stdout, "argv=%s cwd=%s\n", strings.Join(req.Argv, "|"), req.Cwd)
		out.Progress(Progress{Label: "importing", Done: 5, Total: 10, Items: 7, Unit: "messages"})
		fmt.Fprintf(out.Stderr, "a warning with ünïcode\n")
		fmt.Fprintf(out.Stdout, "second line\n")
		return 3
	})
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	var stdout, stderr bytes.Buffer
	var progress []Progress
	code, err := Run(context.Background(), s.Path(), Request{Argv: []string{"team", "add", "a b"}, Cwd: "/x"},
		Streams{Stdout: &stdout, Stderr: &stderr, Progress: func(p Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	if got, want := stdout.String(), "argv=team|add|a b cwd=/x\nsecond line\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, want := stderr.String(), "a warning with ünïcode\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if len(progress) != 1 || progress[0] != (Progress{Label: "importing", Done: 5, Total: 10, Items: 7, Unit: "messages"}) {
		t.Errorf("progress %+v", progress)
	}
}

func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(ctx context.Context, req Request, out Streams) int {
		fmt.Fprint(out.Stdout, req.Argv[0])
		return 0
	})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stdout bytes.Buffer
			code, err := Run(context.Background(), s.Path(), Request{Argv: []string{fmt.Sprint(i)}}, Streams{Stdout: &stdout, Stderr: &stdout})
			if err != nil || code != 0 || stdout.String() != fmt.Sprint(i) {
				t.Errorf("client %d: code %d err %v out %q", i, code, err, stdout.String())
			}
		}()
	}
	wg.Wait()
}

func TestNoServer(t *testing.T) {
	t.Parallel()
	dir := shortDir(t)
	_, err := Run(context.Background(), filepath.Join(dir, "missing.sock"), Request{}, Streams{})
	if !errors.Is(err, ErrNoServer) {
		t.Errorf("missing socket: %v, want ErrNoServer", err)
	}

	// A socket file left behind by a server that died.
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	if _, err := Run(context.Background(), stale, Request{}, Streams{}); !errors.Is(err, ErrNoServer) {
		t.Errorf("stale socket: %v, want ErrNoServer", err)
	}

	// Listen replaces the stale file.
	s, err := Listen(stale, func(context.Context, Request, Streams) int { return 7 }, nil)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	go s.Serve()
	code, err := Run(context.Background(), stale, Request{}, Streams{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	if err != nil || code != 7 {
		t.Errorf("after replacing the stale socket: %d %v", code, err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after Shutdown: %v", err)
	}
}

func TestClientGoneCancelsCommand(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	s := startServer(t, func(ctx context.Context, req Request, out Streams) int {
		close(started)
		<-ctx.Done()
		fmt.Fprintln(out.Stdout, "imported 3 before the interrupt")
		return 5
	})
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	var stdout lockedBuffer
	go func() {
		code, err := Run(ctx, s.Path(), Request{}, Streams{Stdout: &stdout, Stderr: &bytes.Buffer{}})
		res <- result{code, err}
	}()
	<-started
	cancel()
	select {
	case r := <-res:
		// The command saw the interrupt and still reported.
		if r.err != nil || r.code != 5 || stdout.String() != "imported 3 before the interrupt\n" {
			t.Errorf("after cancel: %+v, stdout %q", r, stdout.String())
		}
	case <-time.After(interruptGrace / 2):
		t.Fatal("the command was not cancelled when its client went away")
	}
}

func TestClientGivesUpOnStuckCommand(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for the interrupt grace period")
	}
	started := make(chan struct{})
	release := make(chan struct{})
	s := startServer(t, func(ctx context.Context, req Request, out Streams) int {
		close(started)
		<-release // ignores ctx
		return 0
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := Run(ctx, s.Path(), Request{}, Streams{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
		errc <- err
	}()
	<-started
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want one wrapping context.Canceled", err)
		}
	case <-time.After(3 * interruptGrace):
		t.Fatal("Run did not give up on a command that ignores the interrupt")
	}
}

func TestShutdownCancelsCommands(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	s, err := Listen(filepath.Join(shortDir(t), "t.sock"), func(ctx context.Context, req Request, out Streams) int {
		close(started)
		<-ctx.Done()
		fmt.Fprintln(out.Stderr, "stopped")
		return 4
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	var stderr lockedBuffer
	go func() {
		code, err := Run(context.Background(), s.Path(), Request{}, Streams{Stdout: &bytes.Buffer{}, Stderr: &stderr})
		res <- result{code, err}
	}()
	<-started
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil || r.code != 4 || stderr.String() != "stopped\n" {
		t.Errorf("got %+v, stderr %q; want exit 4 after the command saw the shutdown", r, stderr.String())
	}
}

func TestPanicIsAFailedCommand(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(ctx context.Context, req Request, out Streams) int {
		panic("boom")
	})
	var stderr bytes.Buffer
	code, err := Run(context.Background(), s.Path(), Request{}, Streams{Stdout: &bytes.Buffer{}, Stderr: &stderr})
	if err != nil || code != 1 || !strings.Contains(stderr.String(), "boom") {
		t.Errorf("code %d err %v stderr %q", code, err, stderr.String())
	}
	// The server lives on.
	if _, err := Run(context.Background(), s.Path(), Request{}, Streams{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}); err != nil {
		t.Errorf("after a panic: %v", err)
	}
}

func TestBadRequest(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(ctx context.Context, req Request, out Streams) int {
		t.Error("handler called for a bad request")
		return 0
	})
	c, err := net.Dial("unix", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, `{"v":99,"argv":["x"]}`+"\n")
	buf := make([]byte, 4096)
	var got []byte
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if !strings.Contains(string(got), `"exit":2`) || !strings.Contains(string(got), "protocol") {
		t.Errorf("reply %q", got)
	}
}

func TestLongPath(t *testing.T) {
	t.Parallel()
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 120), "t.sock")
	if _, err := Listen(long, nil, nil); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("err = %v", err)
	}
}
