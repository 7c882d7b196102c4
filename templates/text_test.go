package templates

import (
	"strings"
	"testing"
)

func TestWrapText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          string
		first, rest string
		width       int
		want        string
	}{
		{"short lines keep their breaks", "one\ntwo", "", "", 20, "one\ntwo"},
		{"long line breaks at spaces", "aaa bbb ccc ddd", "", "", 8, "aaa bbb\nccc ddd"},
		{"prefix counts", "aaa bbb ccc", "  ", "  ", 9, "  aaa bbb\n  ccc"},
		{"hanging prefix", "aaa bbb ccc", "* ", "  ", 9, "* aaa bbb\n  ccc"},
		{"list item continues under its text", "- aaa bbb ccc", "", "", 9, "- aaa bbb\n  ccc"},
		{"numbered item", "10. aaa bbb ccc", "", "", 11, "10. aaa bbb\n    ccc"},
		{"quote stays quoted", "> aaa bbb ccc", "", "", 9, "> aaa bbb\n> ccc"},
		{"quoted list", "> - aaa bbb ccc", "", "", 11, "> - aaa bbb\n>   ccc"},
		{"long word stands alone", "see https://example.com/a/very/long/path now", "", "", 12, "see\nhttps://example.com/a/very/long/path\nnow"},
		{"code is not rewrapped", "```\naaa bbb ccc ddd\n```\n    eee fff ggg hhh", "", "", 8, "```\naaa bbb ccc ddd\n```\n    eee fff ggg hhh"},
		{"blank lines without trailing prefix", "a\n\nb", "> ", "> ", 10, "> a\n>\n> b"},
		{"wide characters take two columns", "日本語のテキスト", "", "", 6, "日本語\nのテキ\nスト"},
		{"wide word after a narrow one", "ab 日本語の", "", "", 6, "ab 日\n本語の"},
		{"combining marks take none", "e\u0301e\u0301e\u0301 abc", "", "", 7, "e\u0301e\u0301e\u0301 abc"},
		{"trailing space trimmed", "abc   \n", "", "", 10, "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := wrapText(tc.in, tc.first, tc.rest, tc.width); got != tc.want {
				t.Errorf("wrapText(%q, %d) =\n%s\nwant\n%s", tc.in, tc.width, got, tc.want)
			}
		})
	}
}

func FuzzWrapText(f *testing.F) {
	f.Add("aaa bbb ccc", 8)
	f.Add("> - 日本語のテキスト https://example.com/x", 10)
	f.Add("```\ncode\n```", 4)
	f.Fuzz(func(t *testing.T, s string, w int) {
		w = 4 + abs(w)%80
		out := wrapText(s, "  ", "  ", w)
		// No words are lost or invented (continued quotes repeat their '>').
		squash := func(s string) string { return strings.ReplaceAll(strings.Join(strings.Fields(s), ""), ">", "") }
		if a, b := squash(s), squash(out); a != b {
			t.Fatalf("content changed:\n%q\n%q", a, b)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func TestTidyText(t *testing.T) {
	t.Parallel()
	got := string(tidyText([]byte("\n\na  \n\n\n\nb\n\n")))
	if want := "a\n\nb\n"; got != want {
		t.Errorf("tidyText = %q, want %q", got, want)
	}
}
