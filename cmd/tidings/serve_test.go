package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
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
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("smtp.%s: config default %v, mailin's default %v", c.key, c.got, c.want)
		}
	}
	if o.Domain != "localhost" {
		t.Errorf("domain %q", o.Domain)
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
