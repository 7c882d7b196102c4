package main

import (
	"fmt"
	"net"
	"net/smtp"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// idleControlBound is how long serve may take to stop with an idle
// connection open on its control socket: less than the 10 s the socket
// waits for a request line, so that only closing idle connections at once
// meets it. Stopping with nothing in flight takes milliseconds.
const idleControlBound = 8 * time.Second

// openIdleControl connects to serve's control socket and sends nothing,
// as `nc -U` would.
func openIdleControl(t *testing.T, in *instance) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", filepath.Join(in.DataDir, "tidings.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// checkLogComponents fails the test for a serve log line without a
// component attribute.
func checkLogComponents(t *testing.T, log string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if line != "" && !strings.Contains(line, " component=") {
			t.Errorf("serve log line without a component: %s", line)
		}
	}
}

func TestStopWithIdleControlConnection(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng")
	openIdleControl(t, in)
	in.Signal(syscall.SIGTERM)
	code, exited := in.WaitExit(idleControlBound)
	if !exited {
		t.Fatalf("serve still runs %v after SIGTERM with an idle control connection open", idleControlBound)
	}
	if code != 0 {
		t.Errorf("exit status %d", code)
	}
	if strings.Contains(in.Log(), "cut off") {
		t.Errorf("serve cut something off:\n%s", in.Log())
	}
	checkLogComponents(t, in.Log())
}

// A session inside DATA when SIGTERM comes still gets its 250 and the
// message is kept, while SMTP stops taking new sessions at once — even
// with an idle control connection open, which once held SMTP's shutdown
// back for the whole grace period.
func TestStopDuringDATA(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng")
	in.MustRun("member", "add", "ana@example.com", "--team", "eng")
	openIdleControl(t, in)

	c, err := smtp.Dial(in.SMTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, step := range []func() error{
		func() error { return c.Hello("client.test") },
		func() error { return c.Mail("ana@example.com") },
		func() error { return c.Rcpt("eng@localhost") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	msg := strings.ReplaceAll(mailAt("ana@example.com", "eng@localhost", "Shutdown", "mid-data@e2e.test", time.Now().Add(-time.Minute)), "\r\n", "\n")
	half := strings.Index(msg, "\n\n") + 2
	toCRLF := func(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }
	if _, err := w.Write(toCRLF(msg[:half])); err != nil {
		t.Fatal(err)
	}

	in.Signal(syscall.SIGTERM)
	if !in.WaitLog("shutting down") {
		t.Fatalf("no shutdown after SIGTERM:\n%s", in.Log())
	}
	// SMTP stops greeting newcomers while our message is still open.
	deadline := time.Now().Add(idleControlBound)
	for greets(in.SMTPAddr) {
		if time.Now().After(deadline) {
			t.Fatalf("SMTP still accepts sessions %v after SIGTERM", idleControlBound)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if _, err := w.Write(toCRLF(msg[half:] + "More after the signal.\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("end of DATA after SIGTERM: %v, want 250", err)
	}
	c.Quit() // the server may already have closed the session

	if code, exited := in.WaitExit(60 * time.Second); !exited || code != 0 {
		t.Fatalf("serve after SIGTERM: exited %v, status %d:\n%s", exited, code, in.Log())
	}
	checkLogComponents(t, in.Log())

	in.Start()
	ths := threadsJSON(t, in)
	if len(ths) != 1 || fmt.Sprint(ths[0].MessageIDs) != "[mid-data@e2e.test]" {
		t.Errorf("after restart: %+v, want the message sent across SIGTERM", ths)
	}
	in.Stop()
}
