package main

import (
	"strings"
	"testing"
	"time"
)

// TestAutoRepliesThroughTheBinary: out-of-office mail and bounces are
// checked like any mail (a non-member's are refused), and a member's are
// kept once but never appear in a thread. Bulk mail from an allowed tool is
// content.
func TestAutoRepliesThroughTheBinary(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng", "--address", "eng@localhost", "--allow", "@ci.example.com")
	in.MustRun("member", "add", "ana@example.com", "--team", "eng")
	date := time.Now().Add(-time.Minute)

	ooo := func(from, id string) string {
		return mailAt(from, "eng@localhost", "Out of office: back on Monday", id, date, "Auto-Submitted: auto-replied")
	}
	bounce := "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: eng@localhost\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-1@mx.example.net>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n" +
		"Final-Recipient: rfc822; nobody@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n"
	ciNote := mailAt("CI <builds@ci.example.com>", "eng@localhost", "Build 1234 passed", "build-1234@ci.example.com", date,
		"Auto-Submitted: auto-generated", "Precedence: bulk")

	tests := []struct {
		name, from, msg, want string
	}{
		{"out of office from a non-member", "eve@evil.example", ooo("Eve <eve@evil.example>", "ooo-eve@x"), "550 5.7.1"},
		{"bounce with the null sender", "", bounce, "550 5.7.1"},
		{"out of office from a member", "ana@example.com", ooo("Ana <ana@example.com>", "ooo-ana@x"), "250"},
		{"the same again", "ana@example.com", ooo("Ana <ana@example.com>", "ooo-ana@x"), "250"},
		{"a tool's notification from an allowed domain", "builds@ci.example.com", ciNote, "250"},
	}
	for _, tt := range tests {
		if r := in.Send(tt.from, []string{"eng@localhost"}, tt.msg); !strings.HasPrefix(r.String(), tt.want) {
			t.Errorf("%s: %s, want %s", tt.name, r, tt.want)
		}
	}
	ths := threadsJSON(t, in)
	if len(ths) != 1 || strings.Join(ths[0].MessageIDs, ",") != "build-1234@ci.example.com" {
		t.Errorf("threads %+v, want only the CI notification", ths)
	}
	in.Stop()
}
