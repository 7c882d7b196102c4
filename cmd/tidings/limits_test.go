package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLimitsFromConfig drives the SMTP limits set in the config file
// through the built binary: each refusal has its exact code, nothing
// refused is stored, and the server keeps serving.
func TestLimitsFromConfig(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	cfg := fmt.Sprintf("domain = \"localhost\"\ndata_dir = %q\n\n[smtp]\nlisten = %q\nmax_message_bytes = 4096\n"+
		"max_recipients = 2\nmax_line_length = 1000\n\n[http]\nlisten = %q\n", in.DataDir, in.SMTPAddr, freePort(t))
	if err := os.WriteFile(in.Config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	in.Start()
	for _, team := range []string{"eng", "ops", "web"} {
		in.MustRun("team", "add", team, "--address", team+"@localhost")
		in.MustRun("member", "add", "ana@example.com", "--team", team)
	}
	date := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	from := "Ana <ana@example.com>"

	tests := []struct {
		name string
		to   []string
		msg  string
		want string // code and enhanced code
	}{
		{"oversize", []string{"eng@localhost"},
			mailAt(from, "eng@localhost", "Big", "big@x", date) + strings.Repeat("0123456789abcdef\r\n", 300), "552 5.3.4"},
		{"too many recipients", []string{"eng@localhost", "ops@localhost", "web@localhost"},
			mailAt(from, "eng@localhost", "Three", "three@x", date), "452 4.5.3"},
		{"line too long", []string{"eng@localhost"},
			mailAt(from, "eng@localhost", "Long", "long@x", date) + strings.Repeat("x", 1200) + "\r\n", "500 5.5.2"},
		{"within the limits", []string{"eng@localhost", "ops@localhost"},
			mailAt(from, "eng@localhost, ops@localhost", "Fits", "fits@x", date), "250"},
	}
	for _, tt := range tests {
		r := in.Send("ana@example.com", tt.to, tt.msg)
		if !strings.HasPrefix(r.String(), tt.want) {
			t.Errorf("%s: got %s, want %s", tt.name, r, tt.want)
		}
	}
	var stored []string
	for _, team := range []string{"eng", "ops", "web"} {
		for _, th := range threadsJSON(t, in, "--team", team) {
			stored = append(stored, team+":"+strings.Join(th.MessageIDs, ","))
		}
	}
	if want := []string{"eng:fits@x", "ops:fits@x"}; strings.Join(stored, " ") != strings.Join(want, " ") {
		t.Errorf("stored %q, want %q", stored, want)
	}
	in.Stop()
}
