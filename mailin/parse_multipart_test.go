package mailin

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tidings/tidings/store"
)

// TestParseMultipartRepairs: multiparts go-message's reader would stop
// at, or misread, without partFilter.
func TestParseMultipartRepairs(t *testing.T) {
	t.Parallel()
	const hdr = "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n"
	tests := []struct {
		name     string
		raw      string
		text     string
		attached []store.Attachment
		problem  string
	}{
		{
			name: "CRLF message with an LF delimiter",
			raw:  "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\n--b\r\n\r\ntwo\r\n--b--\r\n",
			text: "one\n\ntwo",
		},
		{
			name: "LF message with a CRLF delimiter",
			raw:  hdr + "--b\n\none\n--b\r\n\ntwo\n--b--\n",
			text: "one\n\ntwo",
		},
		{
			name: "folded first line of a part header",
			raw:  hdr + "--b\n\nbody\n--b\n Content-Type: application/pdf; name=a.pdf\n\nPDF\n--b--\n",
			text: "body", attached: []store.Attachment{{Name: "a.pdf", Type: "application/pdf", Size: 3}},
		},
		{
			name: "part header line without a colon",
			raw:  hdr + "--b\n\nbody\n--b\nContent-Type: application/pdf;\nname=\"a b.pdf\"\n\nPDF\n--b--\n",
			text: "body", attached: []store.Attachment{{Name: "a b.pdf", Type: "application/pdf", Size: 3}},
		},
		{
			name: "mbox line first in a part header",
			raw:  hdr + "--b\nFrom someone Mon Jan  1 00:00:00 2024\nContent-Type: text/plain\n\nbody\n--b--\n",
			text: "body",
		},
		{
			name: "delimiter inside a part header",
			raw:  hdr + "--b\nContent-Type: text/plain\n--b\n\nsecond\n--b--\n",
			text: "second",
		},
		{
			name: "preamble line longer than go-message's buffer",
			raw:  hdr + strings.Repeat("p", 10000) + "\n--b\n\nbody\n--b--\n",
			text: "body",
		},
		{
			name: "delimiters with trailing blanks, closing one without a line break",
			raw:  hdr + "--b  \n\none\n--b\t\n\ntwo\n--b--",
			text: "one\n\ntwo",
		},
		{
			name: "boundary prefix of another line",
			raw:  hdr + "--b\n\none\n--bx\n--b-\n--b--\n",
			text: "one\n--bx\n--b-",
		},
		{
			name: "part header with too many fields",
			raw:  hdr + "--b\n\nkept\n--b\n" + strings.Repeat("X-A: b\n", maxPartFields+1) + "\nlost\n--b--\n",
			text: "kept", problem: "truncated: MIME part header too large",
		},
		{
			name: "part header field over the limit",
			raw:  hdr + "--b\n\nkept\n--b\nX-A: " + strings.Repeat("a ", maxPartField/4) + "\n " + strings.Repeat("b ", maxPartField/4) + "\n\nlost\n--b--\n",
			text: "kept", problem: "truncated: MIME part header too large",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(tt.raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, p)
			wantEqual(t, "Text", p.Text, tt.text)
			wantEqual(t, "Attachments", p.Attachments, tt.attached)
			if tt.problem != "" {
				wantContains(t, "Problems", strings.Join(p.Problems, "|"), tt.problem)
			} else if p.Truncated {
				t.Errorf("truncated: %q", p.Problems)
			}
		})
	}
}

// TestPartFilterChunks: the filter's output does not depend on how its
// input arrives, byte by byte or in halves.
func TestPartFilterChunks(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"mixed endings":  "pre\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\n\ntwo\n--b--\r\nepilogue\r\n",
		"broken headers": "--b\n Content-Type: a/b;\nname=x\nFrom x\n--b\nX: " + strings.Repeat("y", 3000) + "\n\nz\r\n--b--",
		"long lines":     "--b\n\n" + strings.Repeat("x", 9000) + "\r\n--" + strings.Repeat("b", 2000) + "\r\n--b--\n",
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "parse", "enmime", "*.raw"))
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		hb, body, _ := splitHeader(raw, defaultMaxHeaderBytes)
		h := parseHeader(hb)
		if _, params := parseMediaValue(h.Get("Content-Type")); params["boundary"] != "" {
			bodies[name] = "\x00" + params["boundary"] + "\x00" + string(body)
		}
	}
	for name, body := range bodies {
		boundary := "b"
		if strings.HasPrefix(body, "\x00") {
			parts := strings.SplitN(body[1:], "\x00", 2)
			boundary, body = parts[0], parts[1]
		}
		read := func(r io.Reader) string {
			w := &walker{lim: Limits{}.withDefaults()}
			f := newPartFilter(r, boundary, w)
			b, err := io.ReadAll(f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return string(b) + "|" + string(f.preamble)
		}
		whole := read(strings.NewReader(body))
		if got := read(iotest.OneByteReader(strings.NewReader(body))); got != whole {
			t.Errorf("%s: byte by byte\n got %q\nwant %q", name, got, whole)
		}
		if got := read(iotest.HalfReader(bytes.NewReader([]byte(body)))); got != whole {
			t.Errorf("%s: in halves\n got %q\nwant %q", name, got, whole)
		}
	}
}

// TestParseEmbeddedSyntheticID: an attached message without a Message-ID
// gets the ID of its own bytes, hashed as they stream.
func TestParseEmbeddedSyntheticID(t *testing.T) {
	t.Parallel()
	inner := "From: b@example.com\r\nSubject: no id\r\n\r\n" + strings.Repeat("line\r\n", 2000) + "end"
	raw := "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nsee\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "\r\n--b--\r\n"
	p, err := Parse([]byte(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Embedded) != 1 {
		t.Fatalf("%d embedded messages", len(p.Embedded))
	}
	wantEqual(t, "MessageID", p.Embedded[0].MessageID, syntheticID([]byte(inner)))
	wantEqual(t, "Synthetic", p.Embedded[0].Synthetic, true)
	wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "no id.eml", Type: "message/rfc822", Size: int64(len(inner))}})

	// Hashed in pieces, a CRLF split between two of them included.
	h := newIDHash()
	for _, b := range []byte(inner) {
		h.Write([]byte{b})
	}
	wantEqual(t, "hashed byte by byte", h.ID(), syntheticID([]byte(inner)))
}
