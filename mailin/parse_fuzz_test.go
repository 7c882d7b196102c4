package mailin

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: whatever the input, Parse returns one of its errors or a
// Parsed with a Message-ID and clean UTF-8 text, and never panics (Parse
// recovers as a last guard, so an unexpected error is a panic found).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "parse", "*", "*"))
	for _, name := range files {
		if !strings.HasSuffix(name, ".eml") && !strings.HasSuffix(name, ".raw") {
			continue
		}
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if len(raw) <= 16<<10 { // big seeds slow every execution down
			f.Add(raw)
		}
	}
	for _, s := range []string{
		"",
		"\r\n\r\n",
		"From: a@example.com\n\nbody",
		"From: a\nFrom: b\n\n",
		"Subject: =?utf-8?q?=00=0D=0A?= =?x?b?@@?=\n\n",
		"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=a\n\n--a--\n",
		"Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\nContent-Type: message/rfc822\n\n",
		"Content-Type: text/html\n\n<blockquote><ol><li><a href=x>y</a><pre>\n\n</pre>",
		"Content-Type: text/plain; format=flowed; delsp=yes\n\n> a \n>> b \n-- \n",
		"Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n//5oAGkA\n",
		"Content-Disposition: attachment; filename*0*=utf-8''%E2%9C; filename*1*=%93\nContent-Type: x/y\n\nz",
		"Date: 31 Feb 99 25:61:61 +9999\nMessage-ID: <<>>\nReferences: <a> b@c (d) <e\n\n",
	} {
		f.Add([]byte(s))
	}
	small := Limits{MaxDepth: 3, MaxParts: 8, MaxHeaderBytes: 512}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, lim := range []Limits{{}, small} {
			p, err := Parse(raw, lim)
			if err != nil {
				if !errors.Is(err, ErrMultipleFrom) && !errors.Is(err, ErrHeaderTooLarge) {
					t.Fatalf("Parse: unexpected error (a recovered panic?): %v", err)
				}
				continue
			}
			if p.MessageID == "" {
				t.Fatal("empty MessageID")
			}
			for what, s := range map[string]string{"Text": p.Text, "Subject": p.Subject, "From.Name": p.From.Name} {
				if !utf8.ValidString(s) {
					t.Fatalf("%s is not valid UTF-8: %q", what, s)
				}
				if strings.ContainsRune(s, 0) {
					t.Fatalf("%s contains NUL: %q", what, s)
				}
			}
			if strings.ContainsAny(p.Subject, "\r\n") || strings.Contains(p.Text, "\r") {
				t.Fatalf("line break left in Subject %q or CR in Text", p.Subject)
			}
			if len(p.Problems) > maxProblems {
				t.Fatalf("%d problems", len(p.Problems))
			}
		}
	})
}
