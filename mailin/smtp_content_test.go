package mailin

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestSMTPSmuggling sends each SMTP smuggling sequence followed by a
// complete second message. None of them may end the first message: go-smtp
// reads on to <CRLF>.<CRLF>, and the session refuses the whole as one
// message with 550 5.5.2. The next reply read must be the NOOP's, proving
// that no smuggled MAIL, RCPT or DATA was run, and nothing may be stored.
func TestSMTPSmuggling(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	smuggled := "MAIL FROM:<" + memberAddr + ">\r\nRCPT TO:<" + engAddr + ">\r\nDATA\r\n" +
		msg(memberAddr, engAddr, "smuggled", "smuggled@example.org", "I was not sent by the first client.\r\n")
	for _, seq := range []string{"\n.\n", "\r.\n", "\n.\r\n", "\r.\r\n"} {
		t.Run(fmt.Sprintf("%q", seq), func(t *testing.T) {
			c := dialRaw(t, e.addr)
			c.begin(memberAddr, engAddr)
			first := msg(memberAddr, engAddr, "first", "first@example.org", "First message.")
			c.send(first + seq + smuggled + "\r\n.\r\n")
			text := c.expect(550, "5.5.2")
			if !strings.Contains(text, "bare CR or LF") {
				t.Errorf("refusal %q does not say why", text)
			}
			c.cmd("NOOP", 250, "2.0.0")
			e.wantStored(t, 0)
		})
	}
}

// TestSMTPDotLines covers dot lines that are not smuggling: a dot-stuffed
// line is kept as ".", and "<CRLF>.<LF>" and "<CRLF>.<CR>", which go-smtp
// reads as a stuffed dot (dropping the dot, and the CR of the latter), leave
// one message and run no command.
func TestSMTPDotLines(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})

	c := dialRaw(t, e.addr)
	c.begin(memberAddr, engAddr)
	c.send(msg(memberAddr, engAddr, "dots", "dots-1@example.org", "above\r\n..\r\n...\r\nbelow\r\n") + ".\r\n")
	c.expect(250, "2.0.0")

	c.begin(memberAddr, engAddr)
	c.send(msg(memberAddr, engAddr, "crlf-dot-lf", "dots-2@example.org", "above") +
		"\r\n.\nMAIL FROM:<" + outsider + ">\r\nbelow\r\n.\r\n")
	c.expect(250, "2.0.0")
	c.cmd("NOOP", 250, "2.0.0")

	c.begin(memberAddr, engAddr)
	c.send(msg(memberAddr, engAddr, "crlf-dot-cr", "dots-3@example.org", "above") +
		"\r\n.\rMAIL FROM:<" + outsider + ">\r\nbelow\r\n.\r\n")
	c.expect(250, "2.0.0")
	c.cmd("NOOP", 250, "2.0.0")

	ms := e.wantStored(t, 3)
	if raw := string(e.raw(t, ms[0].Seq)); !strings.HasSuffix(raw, "\r\nabove\r\n.\r\n..\r\nbelow\r\n") {
		t.Errorf("dot-stuffed lines stored as %q", raw)
	}
	if raw := string(e.raw(t, ms[1].Seq)); !strings.HasSuffix(raw, "\r\nabove\r\n\r\nMAIL FROM:<"+outsider+">\r\nbelow\r\n") {
		t.Errorf("<CRLF>.<LF> stored as %q", raw)
	}
	if raw := string(e.raw(t, ms[2].Seq)); !strings.HasSuffix(raw, "\r\nabove\r\nMAIL FROM:<"+outsider+">\r\nbelow\r\n") {
		t.Errorf("<CRLF>.<CR> stored as %q", raw)
	}
}

// TestSMTPContent sends awkward but acceptable mail: each must be answered
// 250 and stored, with the raw bytes kept (line endings made CRLF).
func TestSMTPContent(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	head := "From: Ana <" + memberAddr + ">\r\nTo: " + engAddr + "\r\nDate: Mon, 30 Nov 2026 09:00:00 +0100\r\n"
	tests := []struct {
		name string
		data string // as sent, before the end marker
		want string // as stored; "" means as sent
		mid  string // expected Message-ID; "" means synthetic
	}{
		{
			name: "bare LF line endings",
			data: strings.ReplaceAll(head, "\r\n", "\n") + "Subject: lf\nMessage-ID: <lf@example.org>\n\nline one\nline two\r\n",
			want: head + "Subject: lf\r\nMessage-ID: <lf@example.org>\r\n\r\nline one\r\nline two\r\n",
			mid:  "lf@example.org",
		},
		{
			name: "bare CR line endings",
			data: head + "Subject: cr\rMessage-ID: <cr@example.org>\r\r\nline one\rline two\r\n",
			want: head + "Subject: cr\r\nMessage-ID: <cr@example.org>\r\n\r\nline one\r\nline two\r\n",
			mid:  "cr@example.org",
		},
		{
			name: "NUL bytes",
			data: head + "Subject: nul\r\nMessage-ID: <nul@example.org>\r\n\r\nbefore\x00after\r\n\x00\r\n",
			mid:  "nul@example.org",
		},
		{
			name: "no Message-ID",
			data: head + "Subject: anonymous\r\n\r\nWho sent this?\r\n",
		},
		{
			name: "malformed header lines",
			data: head + "Subject: =?utf-8?q?broken=ZZ?= and =?nope?x?y?=\r\nMessage-ID: <malformed@example.org>\r\n" +
				"This line has no colon\r\n: empty name\r\nX-Folded:\r\n \r\n\tcontinued\r\n\r\nBody.\r\n",
			mid: "malformed@example.org",
		},
		{
			name: "8-bit headers",
			data: "From: Zoë Ångström <" + memberAddr + ">\r\nTo: " + engAddr + "\r\nDate: Mon, 30 Nov 2026 09:00:00 +0100\r\n" +
				"Subject: Grüße aus Köln \xff\xfe\r\nMessage-ID: <8bit@example.org>\r\n\r\nKöln.\r\n",
			mid: "8bit@example.org",
		},
		{
			name: "unknown charset",
			data: head + "Subject: =?x-klingon?q?Qapla=27?=\r\nMessage-ID: <charset@example.org>\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: text/plain; charset=x-klingon\r\nContent-Transfer-Encoding: 8bit\r\n\r\nQapla'\xe2\x80\x94\r\n",
			mid: "charset@example.org",
		},
		{
			name: "deeply nested MIME",
			data: head + "Subject: nested\r\nMessage-ID: <nested@example.org>\r\n" + nestedMIME(300),
			mid:  "nested@example.org",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, e.addr)
			c.begin(memberAddr, engAddr)
			c.send(tt.data + ".\r\n")
			c.expect(250, "2.0.0")
			want := tt.want
			if want == "" {
				want = tt.data
			}
			var found bool
			for _, m := range e.messages(t) {
				raw := e.raw(t, m.Seq)
				if !bytes.Equal(raw, []byte(want)) {
					continue
				}
				found = true
				switch {
				case tt.mid == "" && (!m.Synthetic || m.MessageID == ""):
					t.Errorf("stored Message-ID %q synthetic=%v, want a synthetic one", m.MessageID, m.Synthetic)
				case tt.mid != "" && m.MessageID != tt.mid:
					t.Errorf("stored Message-ID %q, want %q", m.MessageID, tt.mid)
				}
			}
			if !found {
				t.Errorf("no stored message has the raw bytes %q", want)
			}
		})
	}
}

// nestedMIME returns a MIME header tail and body nested depth levels deep.
func nestedMIME(depth int) string {
	var b strings.Builder
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n")
	for i := 1; i < depth; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\nThe bottom.\r\n", depth-1)
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

// TestSMTPEmptyBody: a message with no bytes at all has no From, so no
// team member sent it.
func TestSMTPEmptyBody(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	c := dialRaw(t, e.addr)
	c.begin(memberAddr, engAddr)
	c.send(".\r\n")
	c.expect(550, "5.7.1")
	c.cmd("NOOP", 250, "2.0.0")
	e.wantStored(t, 0)
}

// TestSMTPChunking: go-smtp always offers CHUNKING, so BDAT must reach the
// same path as DATA.
func TestSMTPChunking(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{MaxMessageBytes: 4096})

	t.Run("stored", func(t *testing.T) {
		m := msg(memberAddr, engAddr, "chunks", "bdat-1@example.org", "In two\nchunks.\r\n")
		c := dialRaw(t, e.addr)
		c.hello()
		c.cmd("MAIL FROM:<"+memberAddr+">", 250, "2.0.0")
		c.cmd("RCPT TO:<"+engAddr+">", 250, "2.0.0")
		half := len(m) / 2
		c.send(fmt.Sprintf("BDAT %d\r\n%s", half, m[:half]))
		c.expect(250, "")
		c.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(m)-half, m[half:]))
		c.expect(250, "2.0.0")
		var found bool
		for _, sm := range e.messages(t) {
			found = found || sm.MessageID == "bdat-1@example.org" &&
				string(e.raw(t, sm.Seq)) == strings.ReplaceAll(m, "In two\n", "In two\r\n")
		}
		if !found {
			t.Error("BDAT message not stored with CRLF line endings")
		}
	})

	tooLarge := []struct {
		name  string
		chunk string
		code  int
		enh   string
	}{
		{"too large", strings.Repeat("There is more to say than fits.\r\n", 150), 552, "5.3.4"},
		// go-smtp v0.25.1 discards an oversize chunk with the line limit
		// still on: one long line ends the connection with its own 500.
		{"too large, one long line", strings.Repeat("x", 5000), 500, "5.4.0"},
	}
	for _, tt := range tooLarge {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, e.addr)
			c.hello()
			c.cmd("MAIL FROM:<"+memberAddr+">", 250, "2.0.0")
			c.cmd("RCPT TO:<"+engAddr+">", 250, "2.0.0")
			c.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(tt.chunk), tt.chunk))
			c.expect(tt.code, tt.enh)
			if tt.code == 552 {
				c.cmd("NOOP", 250, "2.0.0")
			} else {
				c.expectClosed()
			}
			for _, sm := range e.messages(t) {
				if sm.Size >= 4096 {
					t.Errorf("oversize BDAT message stored: %+v", sm)
				}
			}
		})
	}
}
