package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// waitFor polls cond until it holds, failing the test after ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// listenOnly starts a server and leaves stopping it to the test.
func listenOnly(t *testing.T, h Handler, opts *Options) (*Server, chan error) {
	t.Helper()
	s, err := Listen(filepath.Join(shortDir(t), "t.sock"), h, opts)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, served
}

func quiet() Streams { return Streams{Stdout: io.Discard, Stderr: io.Discard} }

// A connection that never sends its request must not hold up a shutdown:
// before, it kept serve from stopping SMTP for the whole grace period.
func TestShutdownClosesIdleConnections(t *testing.T) {
	t.Parallel()
	s, served := listenOnly(t, func(context.Context, Request, Streams) int {
		t.Error("handler called without a request")
		return 0
	}, nil)
	c, err := net.Dial("unix", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "the connection to be accepted", func() bool { return s.Running() == 1 })
	// Shorter than the request deadline: only closing the idle
	// connection at once lets Shutdown finish in time.
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout/2)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with an idle connection open: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("idle connection after Shutdown: read %d, %v; want EOF", n, err)
	}
}

func TestRequestDeadline(t *testing.T) {
	t.Parallel()
	s, err := Listen(filepath.Join(shortDir(t), "t.sock"), func(context.Context, Request, Streams) int { return 0 }, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.requestTimeout = 50 * time.Millisecond
	go s.Serve()
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	c, err := net.Dial("unix", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("silent connection: read %d, %v; want the server to close it", n, err)
	}
	waitFor(t, "the connection to be forgotten", func() bool { return s.Running() == 0 })
	// A client that does send is still served.
	if code, err := Run(context.Background(), s.Path(), Request{}, quiet()); err != nil || code != 0 {
		t.Errorf("after a silent connection: %d %v", code, err)
	}
}

// A request that comes after Shutdown began runs nothing, and the client
// learns that nothing ran (so it may run the command elsewhere).
func TestRequestDuringShutdownRunsNothing(t *testing.T) {
	t.Parallel()
	s, _ := listenOnly(t, func(context.Context, Request, Streams) int {
		t.Error("handler called after Shutdown")
		return 0
	}, nil)
	c, err := net.Dial("unix", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "the connection to be accepted", func() bool { return s.Running() == 1 })
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = runConn(context.Background(), c, s.Path(), Request{Version: Version, Argv: []string{"team", "list"}}, quiet())
	if !errors.Is(err, ErrNoServer) {
		t.Errorf("request after Shutdown: %v, want ErrNoServer", err)
	}
}

func TestDrain(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan string, 2)
	s, served := listenOnly(t, func(ctx context.Context, req Request, out Streams) int {
		started <- req.Argv[0]
		if req.Argv[0] == "slow" {
			<-release
		}
		if ctx.Err() != nil {
			fmt.Fprintln(out.Stderr, "cancelled")
			return 1
		}
		return 0
	}, nil)

	slow := make(chan error, 1)
	go func() {
		code, err := Run(context.Background(), s.Path(), Request{Argv: []string{"slow"}}, quiet())
		if err == nil && code != 0 {
			err = fmt.Errorf("exit %d", code)
		}
		slow <- err
	}()
	<-started
	drained := make(chan error, 1)
	go func() { drained <- s.Drain(context.Background()) }()
	waitFor(t, "Drain to begin", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.draining
	})

	// While a command runs, a newcomer is still served.
	if code, err := Run(context.Background(), s.Path(), Request{Argv: []string{"quick"}}, quiet()); err != nil || code != 0 {
		t.Errorf("command while draining: %d %v", code, err)
	}
	if _, err := os.Stat(s.Path()); err != nil {
		t.Errorf("socket gone while a command runs: %v", err)
	}
	close(release)
	if err := <-slow; err != nil {
		t.Errorf("the running command was not left to finish: %v", err)
	}
	if err := <-drained; err != nil {
		t.Errorf("Drain: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after Drain: %v", err)
	}
	if _, err := Run(context.Background(), s.Path(), Request{}, quiet()); !errors.Is(err, ErrNoServer) {
		t.Errorf("after Drain: %v, want ErrNoServer", err)
	}
}

func TestDrainIdleServer(t *testing.T) {
	t.Parallel()
	s, served := listenOnly(t, func(context.Context, Request, Streams) int { return 0 }, nil)
	if err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after Drain: %v", err)
	}
}

func TestDrainInterrupted(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	s, _ := listenOnly(t, func(ctx context.Context, req Request, out Streams) int {
		close(started)
		<-ctx.Done()
		return 4
	}, nil)
	res := make(chan int, 1)
	go func() {
		code, _ := Run(context.Background(), s.Path(), Request{}, quiet())
		res <- code
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Drain(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Drain with a cancelled context: %v", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := <-res; code != 4 {
		t.Errorf("exit %d, want 4 from the command Shutdown cancelled", code)
	}
}

func TestWho(t *testing.T) {
	t.Parallel()
	s, _ := listenOnly(t, func(context.Context, Request, Streams) int {
		t.Error("handler called for who")
		return 0
	}, &Options{Holder: "tidings import --mbox big.mbox"})
	info, err := Who(context.Background(), s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if info.PID != os.Getpid() || info.Holder != "tidings import --mbox big.mbox" || info.Since.IsZero() || info != s.Info() {
		t.Errorf("Who = %+v", info)
	}
	if _, err := Who(context.Background(), filepath.Join(shortDir(t), "none.sock")); !errors.Is(err, ErrNoServer) {
		t.Errorf("Who without a server: %v", err)
	}
}

func TestPeerRefused(t *testing.T) {
	t.Parallel()
	s, err := Listen(filepath.Join(shortDir(t), "t.sock"), func(context.Context, Request, Streams) int {
		t.Error("handler called for a refused peer")
		return 0
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []uint32
	var mu sync.Mutex
	s.allowed = func(uid uint32) bool {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, uid)
		return false
	}
	go s.Serve()
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	var stderr bytes.Buffer
	code, err := Run(context.Background(), s.Path(), Request{Argv: []string{"team", "list"}}, Streams{Stdout: io.Discard, Stderr: &stderr})
	if err != nil || code != 1 || !strings.Contains(stderr.String(), "not for uid") {
		t.Errorf("refused peer: code %d, err %v, stderr %q", code, err, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != uint32(os.Getuid()) {
		t.Errorf("peer uids checked: %v, want [%d]", seen, os.Getuid())
	}
}

func TestSameUserOrRoot(t *testing.T) {
	t.Parallel()
	allowed := sameUserOrRoot(1000)
	for uid, want := range map[uint32]bool{1000: true, 0: true, 1001: false, 65534: false} {
		if got := allowed(uid); got != want {
			t.Errorf("uid %d: allowed %v, want %v", uid, got, want)
		}
	}
}

// Listen binds in a private directory and renames the socket into place:
// nothing else is left behind, and whatever was at the path is replaced.
func TestListenLeavesOnlyTheSocket(t *testing.T) {
	t.Parallel()
	dir := shortDir(t)
	path := filepath.Join(dir, "t.sock")
	if err := os.WriteFile(path, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Listen(path, func(context.Context, Request, Streams) int { return 0 }, nil)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown(context.Background())
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "t.sock" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only t.sock", names)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	if code, err := Run(context.Background(), path, Request{}, quiet()); err != nil || code != 0 {
		t.Errorf("through the renamed socket: %d %v", code, err)
	}
}
