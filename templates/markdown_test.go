package templates

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// newPolicyElements are the elements the sanitiser lets through.
var newPolicyElements = map[string]bool{}

func init() {
	for _, e := range []string{"p", "br", "strong", "em", "b", "i", "del", "s", "code", "pre", "blockquote",
		"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td"} {
		newPolicyElements[e] = true
	}
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, "")
	tests := []struct {
		name    string
		in      string
		want    []string
		wantNot []string
	}{
		{"emphasis and paragraphs", "Hello **world**\n\nsecond",
			[]string{`<p style="margin:0;">Hello <strong>world</strong>`, `<p style="margin:10px 0 0 0;">second</p>`}, nil},
		{"first block in a quote has no gap", "> one\n>\n> two\n\nthree",
			[]string{`<blockquote style="margin:0;padding:0 0 0 12px;`, `<p style="margin:0;">one</p>`, `<p style="margin:10px 0 0 0;">two</p>`, `<p style="margin:10px 0 0 0;">three</p>`}, nil},
		{"line breaks kept as typed", "Ana\nBerlin", []string{"Ana<br"}, nil},
		{"bare URLs become links", "see https://example.com/x",
			[]string{`<a href="https://example.com/x" rel="nofollow noreferrer noopener" target="_blank" style="color:#0b5cad;`}, nil},
		{"remote images are links, never loaded", "![chart](https://tracker.example/p.png)",
			[]string{`<a href="https://tracker.example/p.png"`, `[image: chart]`}, []string{"<img"}},
		{"raw html dropped", `<img src="https://tracker.example/p.png"><script>alert(1)</script><b onclick="x()">b</b>`,
			nil, []string{"<img", "<script", "onclick", "tracker.example"}},
		{"javascript links dropped", "[click](javascript:alert(1))", []string{"click"}, []string{"javascript"}},
		{"data image dropped", "![x](data:image/png;base64,AAAA)", nil, []string{"data:", "<img"}},
		{"quote styled", "> earlier", []string{`<blockquote style="margin:0;padding:0 0 0 12px;border-left:3px solid`}, nil},
		{"code in pre not double-styled", "```\nx := 1\n```", []string{`<pre style=`, `<code>x := 1`}, nil},
		{"inline code styled", "run `make`", []string{`<code style="padding:1px 4px;`}, nil},
		{"tables", "| a | b |\n|---|--:|\n| 1 | 2 |", []string{`<table style="margin:0;border-collapse:collapse;`, `<td align="right" style=`}, nil},
		{"entities stay escaped", "a < b & c > d", []string{"a &lt; b &amp; c &gt; d"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := string(r.Markdown(tc.in))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Markdown(%q) lacks %q:\n%s", tc.in, w, got)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("Markdown(%q) contains %q:\n%s", tc.in, w, got)
				}
			}
		})
	}
}

func FuzzMarkdown(f *testing.F) {
	f.Add("**a** <script>x</script> ![i](http://x/y.png) [l](javascript:x)")
	f.Add("<img src=x onerror=alert(1)>")
	r, err := New("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := string(r.Markdown(s))
		allowed := map[string]bool{"href": true, "rel": true, "target": true, "style": true, "class": true, "align": true, "start": true}
		z := html.NewTokenizer(strings.NewReader(out))
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			tok := z.Token()
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			if !newPolicyElements[tok.Data] && tok.Data != "a" {
				t.Fatalf("Markdown(%q) = %q has element <%s>", s, out, tok.Data)
			}
			for _, a := range tok.Attr {
				if !allowed[a.Key] {
					t.Fatalf("Markdown(%q) = %q has attribute %s", s, out, a.Key)
				}
				if u, err := url.Parse(a.Val); a.Key == "href" && (err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "mailto")) {
					t.Fatalf("Markdown(%q) = %q links to %q", s, out, a.Val)
				}
			}
		}
	})
}
