package mailin

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readAll drains a source, failing the test on a fatal error.
func readAll(t *testing.T, src Source) []SourceMessage {
	t.Helper()
	var out []SourceMessage
	for {
		m, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, m)
		if len(out) > 10000 {
			t.Fatal("source does not end")
		}
	}
	if _, err := src.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
	return out
}

func TestMboxFixture(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/source/team.mbox")
	if err != nil {
		t.Fatal(err)
	}
	for _, variant := range []struct {
		name string
		data []byte
		eol  string
	}{
		{"lf", data, "\n"},
		{"crlf", bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")), "\r\n"},
	} {
		t.Run(variant.name, func(t *testing.T) {
			t.Parallel()
			nl := func(s string) string { return strings.ReplaceAll(s, "\n", variant.eol) }
			src := NewMbox(bytes.NewReader(variant.data), "team.mbox", SourceOptions{})
			msgs := readAll(t, src)
			if len(msgs) != 3 {
				t.Fatalf("got %d messages, want 3", len(msgs))
			}
			wantOrigins := []string{"team.mbox:1", "team.mbox:15", "team.mbox:26"}
			for i, m := range msgs {
				if m.Err != nil {
					t.Errorf("message %d: %v", i, m.Err)
				}
				if m.Origin != wantOrigins[i] {
					t.Errorf("message %d origin %q, want %q", i, m.Origin, wantOrigins[i])
				}
				if bytes.HasPrefix(m.Raw, []byte("From ")) {
					t.Errorf("message %d keeps its separator line", i)
				}
			}
			body1 := nl("Here is the plan.\n\nFrom the top: we ship on Friday.\n>From here on the line was escaped twice.\nFrom inside a paragraph is not a separator:\nno empty line comes before it.\n")
			if !bytes.HasSuffix(msgs[0].Raw, []byte(body1)) {
				t.Errorf("message 1 body:\n%q\nwant suffix\n%q", msgs[0].Raw, body1)
			}
			if !bytes.HasPrefix(msgs[0].Raw, []byte(nl("From: Ana <ana@example.com>\n"))) {
				t.Errorf("message 1 starts %q", msgs[0].Raw[:30])
			}
			// Of the two empty lines before the next "From ", one is the
			// separator's and one the message's.
			if want := nl("Sounds good.\n\n"); !bytes.HasSuffix(msgs[1].Raw, []byte(want)) {
				t.Errorf("message 2 ends %q, want %q", tail(msgs[1].Raw), want)
			}
			if want := "without a newline."; !bytes.HasSuffix(msgs[2].Raw, []byte(want)) {
				t.Errorf("message 3 ends %q, want %q", tail(msgs[2].Raw), want)
			}
			if done, total := src.Progress(); done != int64(len(variant.data)) || total != 0 {
				t.Errorf("Progress = %d/%d, want %d/0 (size unknown for a stream)", done, total, len(variant.data))
			}
		})
	}
}

func tail(b []byte) []byte {
	if len(b) > 30 {
		return b[len(b)-30:]
	}
	return b
}

// writeMboxrd is the writer side of the format, to check that reading
// undoes exactly what writing does.
func writeMboxrd(w *bytes.Buffer, msgs [][]byte) {
	esc := regexp.MustCompile(`(?m)^(>*From )`)
	for _, m := range msgs {
		w.WriteString("From tidings@example.com Thu Jan  1 00:00:00 2026\n")
		w.Write(esc.ReplaceAll(m, []byte(">$1")))
		if !bytes.HasSuffix(m, []byte("\n")) {
			w.WriteString("\n")
		}
		w.WriteString("\n")
	}
}

func TestMboxRoundTrip(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/source/eml/*.eml")
	if err != nil || len(files) < 3 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	var msgs [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, stripFromLine(raw))
	}
	// Lines that need escaping, at the start, in the middle and at the end.
	msgs = append(msgs,
		[]byte("Subject: escapes\n\nFrom me\n>From you\n>>>From them\n\nFrom the end\n"),
		[]byte("Subject: no final newline\n\nlast"),
		[]byte("Subject: long line\n\n"+strings.Repeat("x", 200<<10)+"\nFrom after a long line\n"),
	)
	var buf bytes.Buffer
	writeMboxrd(&buf, msgs)
	got := readAll(t, NewMbox(&buf, "rt", SourceOptions{}))
	if len(got) != len(msgs) {
		t.Fatalf("read %d messages, wrote %d", len(got), len(msgs))
	}
	for i := range msgs {
		want := msgs[i]
		if !bytes.HasSuffix(want, []byte("\n")) {
			want = append(bytes.Clone(want), '\n') // the writer had to add one
		}
		if !bytes.Equal(got[i].Raw, want) {
			t.Errorf("message %d (%d bytes) differs after the round trip: got %d bytes", i, len(want), len(got[i].Raw))
		}
	}
}

func TestMboxLimitsAndErrors(t *testing.T) {
	t.Parallel()
	t.Run("too large skipped, the rest read", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		writeMboxrd(&buf, [][]byte{
			[]byte("Subject: a\n\nsmall\n"),
			[]byte("Subject: b\n\n" + strings.Repeat("big line\n", 100)),
			[]byte("Subject: c\n\nsmall again\n"),
		})
		got := readAll(t, NewMbox(&buf, "x", SourceOptions{MaxMessageBytes: 200}))
		if len(got) != 3 {
			t.Fatalf("got %d messages", len(got))
		}
		if got[0].Err != nil || got[2].Err != nil || !bytes.Contains(got[2].Raw, []byte("small again")) {
			t.Errorf("small messages: %v %v %q", got[0].Err, got[2].Err, got[2].Raw)
		}
		if !errors.Is(got[1].Err, ErrMessageTooLarge) || got[1].Raw != nil {
			t.Errorf("big message: err %v, %d bytes", got[1].Err, len(got[1].Raw))
		}
	})
	t.Run("not an mbox", func(t *testing.T) {
		t.Parallel()
		src := NewMbox(strings.NewReader("Subject: hi\n\nbody\n"), "x", SourceOptions{})
		if _, err := src.Next(); !errors.Is(err, ErrNotMbox) {
			t.Errorf("err = %v, want ErrNotMbox", err)
		}
		if _, err := src.Next(); !errors.Is(err, ErrNotMbox) {
			t.Errorf("second Next err = %v, want the same error again", err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		t.Parallel()
		if got := readAll(t, NewMbox(strings.NewReader(""), "x", SourceOptions{})); len(got) != 0 {
			t.Errorf("got %d messages from an empty file", len(got))
		}
		if got := readAll(t, NewMbox(strings.NewReader("\n\n"), "x", SourceOptions{})); len(got) != 0 {
			t.Errorf("got %d messages from empty lines", len(got))
		}
	})
	t.Run("empty message", func(t *testing.T) {
		t.Parallel()
		got := readAll(t, NewMbox(strings.NewReader("From a\n\nFrom b\nSubject: x\n\ny\n"), "x", SourceOptions{}))
		if len(got) != 2 || !errors.Is(got[0].Err, ErrEmptyMessage) || got[1].Err != nil {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("separator line longer than the buffer", func(t *testing.T) {
		t.Parallel()
		in := "From " + strings.Repeat("a", 100<<10) + "\nSubject: x\n\nbody\n\nFrom " + strings.Repeat("b", 100<<10) + "\nSubject: y\n\nbody\n"
		got := readAll(t, NewMbox(strings.NewReader(in), "x", SourceOptions{}))
		if len(got) != 2 || string(got[0].Raw) != "Subject: x\n\nbody\n" || string(got[1].Raw) != "Subject: y\n\nbody\n" {
			t.Errorf("got %d messages: %q", len(got), got)
		}
	})
}

func TestOpenMbox(t *testing.T) {
	t.Parallel()
	src, err := OpenMbox("testdata/source/team.mbox", SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := readAll(t, src); len(got) != 3 {
		t.Errorf("got %d messages, want 3", len(got))
	}
	fi, _ := os.Stat("testdata/source/team.mbox")
	if done, total := src.Progress(); done != fi.Size() || total != fi.Size() {
		t.Errorf("Progress = %d/%d, want %d/%d", done, total, fi.Size(), fi.Size())
	}
	if _, err := OpenMbox("testdata/source/nope.mbox", SourceOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := OpenMbox("testdata/source/eml", SourceOptions{}); err == nil {
		t.Errorf("a directory opened as an mbox")
	}
}

func TestOpenMaildir(t *testing.T) {
	t.Parallel()
	t.Run("fixture", func(t *testing.T) {
		t.Parallel()
		src, err := OpenMaildir("testdata/source/maildir", SourceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, src)
		// cur/ before new/; Maildir++ subfolders (".My Folder") are not this mailbox.
		want := []string{
			"testdata/source/maildir/cur/1491941793.M41850P8566V0000000000000015I0000000004F3030E_0.mx1.example.com,S=10956;2,STln",
			"testdata/source/maildir/new/1234567890.M20046P2137.mailserver,S=4542,W=4642;2,Sb",
		}
		if len(got) != len(want) {
			t.Fatalf("got %d messages: %+v", len(got), got)
		}
		// The upstream fixture's files hold one letter each, not mail: they
		// are read, and refused as not being messages.
		for i := range want {
			if got[i].Origin != want[i] || !errors.Is(got[i].Err, ErrNotAMessage) {
				t.Errorf("message %d: %q err %v raw %q", i, got[i].Origin, got[i].Err, got[i].Raw)
			}
		}
		if done, total := src.Progress(); done != 2 || total != 2 {
			t.Errorf("Progress = %d/%d", done, total)
		}
	})
	t.Run("skips tmp and dotfiles, reads plain directories", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		files := map[string]string{
			"cur/1.a:2,S":     "Subject: one\n\n1\n",
			"new/2.b":         "From x@example.com Thu Jan  1 00:00:00 2026\nSubject: two\n\n2\n",
			"tmp/3.c":         "Subject: still being written\n",
			".hidden":         "Subject: editor file\n",
			"archive/old.eml": "Subject: old\n\nold\n",
			"archive/empty":   "\n",
			"archive/notes":   "remember the milk\n",
			// Beside cur/ and new/ live the mail server's own files.
			"dovecot-uidlist":     "3 V1234 N5\n1 :a\n",
			"dovecot.index.cache": "\x00\x01binary",
		}
		for name, body := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		src, err := OpenMaildir(dir, SourceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, src)
		var names []string
		for _, m := range got {
			rel, _ := filepath.Rel(dir, m.Origin)
			names = append(names, rel)
		}
		if strings.Join(names, " ") != "archive/empty archive/notes archive/old.eml cur/1.a:2,S new/2.b" {
			t.Fatalf("read %v", names)
		}
		if !errors.Is(got[0].Err, ErrEmptyMessage) {
			t.Errorf("empty file: err %v", got[0].Err)
		}
		if !errors.Is(got[1].Err, ErrNotAMessage) {
			t.Errorf("file without a header: err %v", got[1].Err)
		}
		if string(got[4].Raw) != "Subject: two\n\n2\n" {
			t.Errorf("leading From line kept: %q", got[3].Raw)
		}
	})
	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		if _, err := OpenMaildir("testdata/source/nope", SourceOptions{}); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("missing dir: %v", err)
		}
		if _, err := OpenMaildir("testdata/source/team.mbox", SourceOptions{}); err == nil {
			t.Errorf("a file opened as a Maildir")
		}
	})
}

func TestOpenFiles(t *testing.T) {
	t.Parallel()
	paths := []string{"testdata/source/eml/raw_email.eml", "testdata/source/eml/basic_email_lf.eml"}
	src, err := OpenFiles(paths, SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, src)
	if len(got) != 2 || got[0].Origin != paths[0] || got[1].Origin != paths[1] {
		t.Fatalf("got %+v", got)
	}
	if !bytes.HasPrefix(got[0].Raw, []byte("MIME-Version: 1.0")) {
		t.Errorf("mbox From line not dropped: %q", got[0].Raw[:40])
	}
	if !bytes.HasPrefix(got[1].Raw, []byte("Delivered-To: ")) {
		t.Errorf("file without From line changed: %q", got[1].Raw[:40])
	}

	small, err := OpenFiles(paths[:1], SourceOptions{MaxMessageBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, small); len(got) != 1 || !errors.Is(got[0].Err, ErrMessageTooLarge) {
		t.Errorf("over the limit: %+v", got)
	}

	if _, err := OpenFiles([]string{paths[0], "testdata/source/missing.eml"}, SourceOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := OpenFiles([]string{"testdata/source/eml"}, SourceOptions{}); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
}

func FuzzMbox(f *testing.F) {
	data, _ := os.ReadFile("testdata/source/team.mbox")
	f.Add(data)
	f.Add([]byte("From a\n\n>From b\n\nFrom c\r\n\r\nFrom d"))
	f.Fuzz(func(t *testing.T, in []byte) {
		src := NewMbox(bytes.NewReader(in), "fuzz", SourceOptions{MaxMessageBytes: 1 << 10})
		total := 0
		for n := 0; ; n++ {
			m, err := src.Next()
			if err != nil {
				break
			}
			total += len(m.Raw)
			if n > len(in)+1 {
				t.Fatalf("more messages than bytes")
			}
		}
		if total > len(in) {
			t.Fatalf("read %d bytes of messages from %d bytes of input", total, len(in))
		}
	})
}
