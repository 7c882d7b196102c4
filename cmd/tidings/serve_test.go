package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/mailin"
)

// The configuration's SMTP defaults are the server's own, and every key
// reaches the server: a key left unwired would show here as zero.
func TestSMTPOptionsFromConfig(t *testing.T) {
	t.Parallel()
	o := smtpOptions(config.Defaults(), nil, nil)
	checks := []struct {
		key       string
		got, want any
	}{
		{"listen", o.Listen, mailin.DefaultSMTPListen},
		{"max_message_bytes", o.MaxMessageBytes, int64(mailin.DefaultMaxMessageBytes)},
		{"max_recipients", o.MaxRecipients, mailin.DefaultMaxRecipients},
		{"max_line_length", o.MaxLineLength, mailin.DefaultMaxLineLength},
		{"read_timeout", o.ReadTimeout, time.Duration(mailin.DefaultSMTPReadTimeout)},
		{"write_timeout", o.WriteTimeout, time.Duration(mailin.DefaultSMTPWriteTimeout)},
		{"max_connections", o.MaxConnections, mailin.DefaultMaxConnections},
		{"max_connections_per_ip", o.MaxConnectionsPerIP, mailin.DefaultMaxConnectionsPerIP},
		{"max_inflight_bytes", o.MaxInflightBytes, int64(mailin.DefaultMaxInflightBytes)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("smtp.%s: config default %v, mailin's default %v", c.key, c.got, c.want)
		}
	}
	if o.Domain != "localhost" {
		t.Errorf("domain %q", o.Domain)
	}

	// Every key set to something else arrives as set.
	path := filepath.Join(t.TempDir(), "t.toml")
	os.WriteFile(path, []byte("domain = \"example.org\"\n[smtp]\nlisten = \"127.0.0.1:2626\"\nmax_message_bytes = 4096\n"+
		"max_recipients = 3\nmax_line_length = 1500\nread_timeout = \"2m\"\nwrite_timeout = \"20s\"\nmax_connections = 7\n"+
		"max_connections_per_ip = 2\nmax_inflight_bytes = 1048576\n"), 0o600)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := smtpOptions(cfg, nil, nil)
	want := mailin.SMTPOptions{Listen: "127.0.0.1:2626", Domain: "example.org", MaxMessageBytes: 4096, MaxRecipients: 3,
		MaxLineLength: 1500, ReadTimeout: 2 * time.Minute, WriteTimeout: 20 * time.Second, MaxConnections: 7,
		MaxConnectionsPerIP: 2, MaxInflightBytes: 1 << 20}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("options from a full [smtp]:\n got %+v\nwant %+v", got, want)
	}
}

// smtp.max_connections_per_ip reaches the server: past it, a second
// session from the same address is turned away while the first goes on.
func TestMaxConnectionsPerIPFromConfig(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	cfg := fmt.Sprintf("data_dir = %q\n\n[smtp]\nlisten = %q\nmax_connections_per_ip = 1\n\n[http]\nlisten = %q\n",
		in.DataDir, in.SMTPAddr, freePort(t))
	if err := os.WriteFile(in.Config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	in.Start()
	// greet opens a session and returns it with its first line.
	greet := func() (net.Conn, *bufio.Reader, string) {
		t.Helper()
		c, err := net.Dial("tcp", in.SMTPAddr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		line, _ := r.ReadString('\n')
		return c, r, line
	}
	// Start's probe session gives its slot back a moment after it hangs
	// up: wait for a session that is greeted.
	var (
		first net.Conn
		r1    *bufio.Reader
		line  string
	)
	for deadline := time.Now().Add(10 * time.Second); ; {
		first, r1, line = greet()
		if strings.HasPrefix(line, "220") || time.Now().After(deadline) {
			break
		}
		first.Close()
		time.Sleep(20 * time.Millisecond)
	}
	defer first.Close()
	if !strings.HasPrefix(line, "220") {
		t.Fatalf("first session: %q", line)
	}
	second, _, line := greet()
	second.Close()
	if !strings.HasPrefix(line, "421 4.7.0") {
		t.Errorf("second session from the same address: %q, want 421 4.7.0", line)
	}
	fmt.Fprintf(first, "NOOP\r\n")
	if line, err := r1.ReadString('\n'); err != nil || !strings.HasPrefix(line, "250") {
		t.Errorf("first session after the refusal: %q %v", line, err)
	}
	in.Stop()
}
