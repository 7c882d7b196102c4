package mailin

import (
	"bytes"
	"slices"
	"testing"
)

func TestNormalizeBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in, want string
		smuggled bool
	}{
		{"empty", "", "", false},
		{"CRLF kept", "a\r\nb\r\n", "a\r\nb\r\n", false},
		{"bare LF", "a\nb\n", "a\r\nb\r\n", false},
		{"bare CR", "a\rb\r", "a\r\nb\r\n", false},
		{"mixed", "a\r\nb\nc\rd\r\n", "a\r\nb\r\nc\r\nd\r\n", false},
		{"CR CR LF", "a\r\r\nb", "a\r\n\r\nb", false},
		{"LF CR", "a\n\rb", "a\r\n\r\nb", false},
		{"no final line ending", "a\nb", "a\r\nb", false},
		{"NUL kept", "a\x00\nb", "a\x00\r\nb", false},
		{"dot line between CRLFs", "a\r\n.\r\nb\r\n", "a\r\n.\r\nb\r\n", false},
		{"dot line at the start", ".\r\nb\r\n", ".\r\nb\r\n", false},
		{"two dots", "a\n..\nb", "a\r\n..\r\nb", false},
		{"dot with text", "a\n.b\n", "a\r\n.b\r\n", false},
		{"LF dot LF", "a\n.\nb", "a\r\n.\r\nb", true},
		{"CR dot LF", "a\r.\nb", "a\r\n.\r\nb", true},
		{"LF dot CRLF", "a\n.\r\nb", "a\r\n.\r\nb", true},
		{"CR dot CRLF", "a\r.\r\nb", "a\r\n.\r\nb", true},
		{"CRLF dot LF", "a\r\n.\nb", "a\r\n.\r\nb", true},
		{"CRLF dot CR", "a\r\n.\rb", "a\r\n.\r\nb", true},
		{"dot LF at the start", ".\nb", ".\r\nb", true},
		{"LF dot at the end", "a\n.", "a\r\n.", true},
		{"CRLF dot at the end", "a\r\n.", "a\r\n.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, smuggled := normalizeBody([]byte(tt.in))
			if string(got) != tt.want || smuggled != tt.smuggled {
				t.Errorf("normalizeBody(%q) = %q, %v; want %q, %v", tt.in, got, smuggled, tt.want, tt.smuggled)
			}
		})
	}
}

func FuzzNormalizeBody(f *testing.F) {
	for _, s := range []string{"a\r\nb", "a\nb\r", "a\n.\nb", "\r\r\n\n", ".\r\n", "x\r.\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		in = slices.Clip(in) // no room: normalizeBody leaves in unchanged
		out, smuggled := normalizeBody(in)
		// With room for the added bytes, the rewrite in place gives the same.
		roomy := append(make([]byte, 0, 2*len(in)), in...)
		inPlace, smuggled3 := normalizeBody(roomy)
		if !bytes.Equal(inPlace, out) || smuggled3 != smuggled {
			t.Fatalf("in place %q -> %q, %v; want %q, %v", in, inPlace, smuggled3, out, smuggled)
		}
		if len(out) > len(in) && &inPlace[0] != &roomy[0] {
			t.Fatalf("%q rewritten into a new buffer although it had room", in)
		}
		// Every CR is followed by LF and every LF preceded by CR.
		for i, c := range out {
			if c == '\r' && (i+1 == len(out) || out[i+1] != '\n') || c == '\n' && (i == 0 || out[i-1] != '\r') {
				t.Fatalf("bare line ending at %d in %q", i, out)
			}
		}
		// Only line endings change.
		strip := func(b []byte) []byte {
			return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r"), nil), []byte("\n"), nil)
		}
		if !bytes.Equal(strip(in), strip(out)) {
			t.Fatalf("content changed: %q -> %q", in, out)
		}
		again, smuggled2 := normalizeBody(out)
		if !bytes.Equal(again, out) || smuggled2 {
			t.Fatalf("not idempotent on %q: %q, smuggled=%v", out, again, smuggled2)
		}
		// Without a bare line ending nothing is changed or refused.
		if !bytes.ContainsAny(in, "\r\n") && (smuggled || !bytes.Equal(in, out)) {
			t.Fatalf("plain %q changed", in)
		}
		// Smuggling is only reported where the output has a line of one ".".
		lone := string(out) == "." || bytes.HasPrefix(out, []byte(".\r\n")) ||
			bytes.Contains(out, []byte("\r\n.\r\n")) || bytes.HasSuffix(out, []byte("\r\n."))
		if smuggled && !lone {
			t.Fatalf("smuggling reported in %q without a dot line", in)
		}
	})
}

func TestHeaderMessageID(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"From: a\r\nMessage-ID: <x@y>\r\n\r\nbody", "x@y"},
		{"message-id:\r\n  <folded@y>\r\n\r\n", "folded@y"},
		{"From: a\r\n\r\nMessage-ID: <in-body@y>\r\n", ""},
		{"Message-ID: <a\x01b@y>\n", "a?b@y"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := headerMessageID([]byte(tt.in)); got != tt.want {
			t.Errorf("headerMessageID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
