package main

import (
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
