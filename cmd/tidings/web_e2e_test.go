package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHealthAndMetricsThroughTheBinary: serve answers /healthz and exposes
// its metrics, the IMAP pollers' among them, on [http] listen.
func TestHealthAndMetricsThroughTheBinary(t *testing.T) {
	t.Parallel()
	// A mailbox whose server is not there: the poller keeps trying, and
	// says so in a metric while the rest runs.
	pw := filepath.Join(t.TempDir(), "imap.pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, fmt.Sprintf("[[imap]]\naddress = %q\ntls = \"none\"\nusername = \"team@example.com\"\npassword_file = %q\nteam = \"eng\"\n",
		freePort(t), pw))
	in.Start()
	in.MustRun("team", "add", "eng")
	m := regexp.MustCompile(`msg="tidings ready".* http=(\S+)`).FindStringSubmatch(in.Log())
	if m == nil {
		t.Fatalf("no http address in the ready line:\n%s", in.Log())
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + m[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics = %d:\n%.500s", code, body)
	}
	errs := regexp.MustCompile(`(?m)^tidings_imap_errors_total\{kind="connection",mailbox="[^"]+"\} ([1-9]\d*)$`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := get("/metrics")
		if errs.MatchString(body) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection error counted for the missing IMAP server:\n%s", grepLines(body, "tidings_imap"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := in.Send("", []string{"eng@localhost"}, "From: a@b.c\r\nSubject: x\r\n\r\nx\r\n"); r.Code != 550 {
		t.Errorf("SMTP while the poller fails: %s, want it answering (550 for a stranger)", r)
	}
	in.Stop()
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
