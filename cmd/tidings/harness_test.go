package main

// The harness for tests that drive the built tidings binary: TestMain builds
// it once; an instance is a data directory with its own config and free
// loopback ports, on which `tidings serve` can be started, stopped, killed
// and restarted while admin commands run against it.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// tidingsBin is the binary built by TestMain.
var tidingsBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tidings-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	tidingsBin = filepath.Join(dir, "tidings")
	out, err := exec.Command("go", "build", "-o", tidingsBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build tidings: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// instance is one tidings installation under test.
type instance struct {
	t        *testing.T
	Dir      string // scratch directory: config, archives, backups
	DataDir  string
	Config   string   // path of the config file
	SMTPAddr string   // host:port serve listens on
	Env      []string // extra environment for serve ("KEY=value"), read at Start

	mu   sync.Mutex
	srv  *exec.Cmd
	log  *syncBuffer     // serve's stderr, across restarts
	done chan struct{}   // closed when the current serve process has exited
	exit *exec.ExitError // how it exited, once done
}

// newInstance makes a data directory and a config file with free loopback
// ports. Extra TOML is appended to the config. Whatever is still running
// is killed when the test ends.
func newInstance(t *testing.T, extraTOML ...string) *instance {
	t.Helper()
	// A short directory: the control socket's path must fit in 107 bytes.
	dir, err := os.MkdirTemp("", "tdg")
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, Dir: dir, DataDir: filepath.Join(dir, "data"), Config: filepath.Join(dir, "tidings.toml"),
		SMTPAddr: freePort(t), log: &syncBuffer{}}
	cfg := fmt.Sprintf("domain = \"localhost\"\ndata_dir = %q\n\n[smtp]\nlisten = %q\n\n[http]\nlisten = %q\n\n[log]\nlevel = \"debug\"\n",
		in.DataDir, in.SMTPAddr, freePort(t))
	cfg += strings.Join(extraTOML, "\n")
	if err := os.WriteFile(in.Config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.mu.Lock()
		running := in.srv != nil
		in.mu.Unlock()
		if running {
			in.Kill()
		}
		if t.Failed() {
			t.Logf("serve log:\n%s", in.log.String())
		}
		os.RemoveAll(dir)
	})
	return in
}

// freePort returns a loopback address nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start runs `tidings serve` and waits until its SMTP port greets.
func (in *instance) Start() {
	in.t.Helper()
	in.mu.Lock()
	if in.srv != nil {
		in.mu.Unlock()
		in.t.Fatal("serve is already running")
	}
	// The global flag before the command name, as an init script may
	// write it; Run puts it after.
	cmd := exec.Command(tidingsBin, "--config", in.Config, "serve")
	cmd.Dir = in.Dir
	if len(in.Env) > 0 {
		cmd.Env = append(os.Environ(), in.Env...)
	}
	cmd.Stdout = in.log
	cmd.Stderr = in.log
	if err := cmd.Start(); err != nil {
		in.mu.Unlock()
		in.t.Fatalf("start serve: %v", err)
	}
	done := make(chan struct{})
	in.srv, in.done, in.exit = cmd, done, nil
	in.mu.Unlock()
	go func() {
		err := cmd.Wait()
		in.mu.Lock()
		in.exit, _ = err.(*exec.ExitError)
		in.mu.Unlock()
		close(done)
	}()

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			in.t.Fatalf("serve exited during start-up:\n%s", in.log.String())
		default:
		}
		if greets(in.SMTPAddr) {
			return
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("serve did not answer on %s within 30s:\n%s", in.SMTPAddr, in.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// greets reports whether an SMTP server answers 220 on addr.
func greets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "220")
}

// Stop sends SIGTERM and waits for a clean exit (status 0).
func (in *instance) Stop() {
	in.t.Helper()
	if code := in.signal(syscall.SIGTERM); code != 0 {
		in.t.Fatalf("serve exited with status %d after SIGTERM:\n%s", code, in.log.String())
	}
}

// Kill sends SIGKILL, as a crash would, and waits for the process to end.
func (in *instance) Kill() {
	in.t.Helper()
	in.signal(syscall.SIGKILL)
}

// signal sends sig to serve, waits for it to end and returns its exit
// status (-1 when a signal ended it).
func (in *instance) signal(sig syscall.Signal) int {
	in.t.Helper()
	in.Signal(sig)
	code, exited := in.WaitExit(60 * time.Second)
	if !exited {
		in.mu.Lock()
		cmd, done := in.srv, in.done
		in.mu.Unlock()
		cmd.Process.Kill()
		<-done
		in.WaitExit(0)
		in.t.Fatalf("serve did not exit within 60s of %v:\n%s", sig, in.log.String())
	}
	return code
}

// Signal sends sig to serve and returns at once.
func (in *instance) Signal(sig syscall.Signal) {
	in.t.Helper()
	in.mu.Lock()
	cmd := in.srv
	in.mu.Unlock()
	if cmd == nil {
		in.t.Fatal("serve is not running")
	}
	cmd.Process.Signal(sig)
}

// WaitExit waits up to d for serve to end and returns its exit status (-1
// when a signal ended it); exited is false if it still runs.
func (in *instance) WaitExit(d time.Duration) (code int, exited bool) {
	in.t.Helper()
	in.mu.Lock()
	cmd, done := in.srv, in.done
	in.mu.Unlock()
	if cmd == nil {
		in.t.Fatal("serve is not running")
	}
	select {
	case <-done:
	default:
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			return 0, false
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.srv = nil
	if in.exit != nil {
		return in.exit.ExitCode(), true
	}
	return 0, true
}

// Log is everything serve has written so far, across restarts.
func (in *instance) Log() string { return in.log.String() }

// WaitLog waits up to 10s for serve to log a line containing substr.
// Serve's output reaches the test through a pipe, so a line about a command
// may arrive after the command has returned.
func (in *instance) WaitLog(substr string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(in.log.String(), substr) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// result is how a command ended.
type result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs `tidings ARGS --config <instance config>` in the instance's
// directory and returns its output and exit status.
func (in *instance) Run(args ...string) result {
	in.t.Helper()
	return in.RunIn(in.Dir, args...)
}

// RunIn is Run from another working directory.
func (in *instance) RunIn(dir string, args ...string) result {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tidingsBin, append(args, "--config", in.Config)...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		in.t.Fatalf("run tidings %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// MustRun is Run that fails the test unless the command succeeds, and
// returns its standard output.
func (in *instance) MustRun(args ...string) string {
	in.t.Helper()
	r := in.Run(args...)
	if r.Code != 0 {
		in.t.Fatalf("tidings %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// reply is an SMTP server's answer.
type reply struct {
	Code int
	Text string // with the enhanced status code, e.g. "5.7.1 ..."
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.Code, r.Text) }

// Send delivers msg over one SMTP session and returns the first refusal
// (at MAIL, RCPT or DATA), or the final answer to the data.
func (in *instance) Send(from string, to []string, msg string) reply {
	in.t.Helper()
	r, err := sendMail(in.SMTPAddr, from, to, msg)
	if err != nil {
		in.t.Fatalf("send mail: %v", err)
	}
	return r
}

func sendMail(addr, from string, to []string, msg string) (reply, error) {
	c, err := smtp.Dial(addr)
	if err != nil {
		return reply{}, err
	}
	defer c.Close()
	asReply := func(err error) (reply, error) {
		var te *textproto.Error
		if errors.As(err, &te) {
			return reply{Code: te.Code, Text: te.Msg}, nil
		}
		return reply{}, err
	}
	if err := c.Hello("client.test"); err != nil {
		return asReply(err)
	}
	if err := c.Mail(from); err != nil {
		return asReply(err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return asReply(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return asReply(err)
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
		return reply{}, err
	}
	if err := w.Close(); err != nil {
		return asReply(err)
	}
	c.Quit()
	return reply{Code: 250, Text: "ok"}, nil
}

// syncBuffer is a bytes.Buffer safe for a process's output and a test
// reading it at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
