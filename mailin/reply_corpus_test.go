package mailin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// replyCorpus is the shape of testdata/reply/expected.json (see its
// SOURCES.md).
type replyCorpus struct {
	Cases []struct {
		File                string  `json:"file"`
		ExpectedVisibleText *string `json:"expected_visible_text"`
		Reference           struct {
			VisibleText *string `json:"visible_text"`
			// Texts over 20,000 characters are given by length and hash.
			VisibleLength int    `json:"visible_text_length_chars"`
			VisibleSHA256 string `json:"visible_text_sha256_utf8"`
		} `json:"reference_output"`
	} `json:"cases"`
}

// normVisible is what the corpus comparison ignores: line endings (CRLF
// made LF), white space at the end of each line, and blank lines at the
// start and end. The upstream library strips the ends of lines it shows.
func normVisible(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// TestSplitReplyCorpus measures SplitReply against the github/email_reply_parser
// fixtures. For each fixture it compares SplitReply(text).New with the
// expected visible text: expected_visible_text where the upstream
// assertions fix it, otherwise reference_output.visible_text (what the
// upstream library shows; for the 766 KB quote, its length in characters
// and SHA-256). Both sides are compared after normVisible: LF line
// endings, no trailing white space on any line, no blank lines at either
// end — nothing else is forgiven. It reports the exact-match rate and
// fails below 97 %.
func TestSplitReplyCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "reply")
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus replyCorpus
	if err := json.Unmarshal(raw, &corpus); err != nil {
		t.Fatalf("expected.json: %v", err)
	}
	if len(corpus.Cases) != 22 {
		t.Fatalf("expected.json has %d cases, want 22", len(corpus.Cases))
	}
	matched := 0
	for _, c := range corpus.Cases {
		name := path.Base(c.File)
		body, err := os.ReadFile(filepath.Join(dir, "emails", name))
		if err != nil {
			t.Fatal(err)
		}
		got := normVisible(SplitReply(string(body)).New)
		ok := false
		var want string
		switch {
		case c.ExpectedVisibleText != nil:
			want = normVisible(*c.ExpectedVisibleText)
			ok = got == want
		case c.Reference.VisibleText != nil:
			want = normVisible(*c.Reference.VisibleText)
			ok = got == want
		case c.Reference.VisibleSHA256 != "":
			sum := sha256.Sum256([]byte(got))
			ok = hex.EncodeToString(sum[:]) == c.Reference.VisibleSHA256 &&
				utf8.RuneCountInString(got) == c.Reference.VisibleLength
			want = fmt.Sprintf("%d characters, SHA-256 %s", c.Reference.VisibleLength, c.Reference.VisibleSHA256)
			if !ok {
				sum := sha256.Sum256([]byte(got))
				got = fmt.Sprintf("%d characters, SHA-256 %x", utf8.RuneCountInString(got), sum)
			}
		default:
			t.Errorf("%s: no expected text", name)
			continue
		}
		if ok {
			matched++
			continue
		}
		t.Errorf("%s: new text differs\n got: %q\nwant: %q", name, trimForLog(got), trimForLog(want))
	}
	rate := 100 * float64(matched) / float64(len(corpus.Cases))
	msg := fmt.Sprintf("SplitReply corpus exact-match rate: %d/%d = %.1f %%", matched, len(corpus.Cases), rate)
	t.Log(msg)
	if testing.Verbose() {
		fmt.Println(msg)
	}
	if rate < 97 {
		t.Errorf("exact-match rate %.1f %% is below 97 %%", rate)
	}
}

func trimForLog(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}
