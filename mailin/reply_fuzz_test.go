package mailin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSplitReply: whatever the text, SplitReply never panics, returns
// valid UTF-8 for valid input, each part is a piece of the input (white
// space aside), and splitting New again changes nothing. IsReaction and
// ReplyCommand run on the same text and must not panic either.
func FuzzSplitReply(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "reply", "emails", "*.txt"))
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if len(raw) <= 16<<10 { // the 766 KB quote would slow every run down
			f.Add(string(raw))
		}
	}
	for _, group := range [][]splitCase{clientCases, shapeCases, digestCases} {
		for i, tc := range group {
			if i%4 == 0 {
				f.Add(tc.text)
			}
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := SplitReply(text)
		if utf8.ValidString(text) {
			for _, part := range []string{got.New, got.Quoted, got.Signature} {
				if !utf8.ValidString(part) {
					t.Fatalf("invalid UTF-8 in %q", part)
				}
			}
		}
		checkSplitInvariants(t, text, got)
		_ = IsReaction(got.New, DefaultReactionWords)
		_ = Reaction(text, DefaultReactionWords)
		if c := ReplyCommand(text); c != "" && !strings.Contains(strings.ToLower(text), c) {
			t.Fatalf("ReplyCommand(%q) = %q", text, c)
		}
	})
}
