package mailin

import (
	"strings"
	"testing"
)

func TestHTMLToText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, html, want string
	}{
		{"paragraphs", "<p>One</p><p>Two</p>", "One\n\nTwo"},
		{"line breaks", "a<br>b<br/><br>c", "a\nb\n\nc"},
		{"gmail divs", `<div dir="ltr"><div>Hi team,</div><div><br></div><div>Ship it.</div></div>`, "Hi team,\n\nShip it."},
		{"whitespace collapsed", "<p>  many\n\t spaces   here </p>", "many spaces here"},
		{"entities", "<p>Fish &amp; chips &lt;3 &eacute;t&eacute; &#128077;</p>", "Fish & chips <3 été 👍"},
		{"nbsp kept as space", "a&nbsp;&nbsp;b", "a  b"},
		{"unordered list", "<ul><li>one</li><li>two</li></ul>", "- one\n- two"},
		{"ordered list", "<ol start=3><li>three</li><li>four</li></ol>", "3. three\n4. four"},
		{"nested list", "<ul><li>a<ul><li>b</li></ul></li></ul>", "- a\n  - b"},
		{"link", `See <a href="https://example.com/x">the doc</a>.`, "See the doc (https://example.com/x)."},
		{"link same as text", `<a href="https://example.com/">https://example.com</a>`, "https://example.com"},
		{"mailto", `<a href="mailto:ana@example.com?subject=hi">Ana</a>`, "Ana (ana@example.com)"},
		{"mailto same", `<a href="mailto:ana@example.com">ana@example.com</a>`, "ana@example.com"},
		{"anchor and script links hidden", `<a href="#top">top</a> <a href="javascript:x()">x</a>`, "top x"},
		{"image link without text", `<a href="https://t.example/"><img src="logo.png"></a>text`, "text"},
		{"emoji image", `Great <img alt="👍" src="e.png">`, "Great 👍"},
		{"image alt", `<img alt="Quarterly chart" src="c.png">`, "[Quarterly chart]"},
		{"script style head skipped", `<html><head><title>T</title><style>p{}</style></head><body><script>var x=1;</script><p>Body</p></body></html>`, "Body"},
		{"head without end", `<head><title>T</title><meta charset=utf-8><p>Body</p>`, "Body"},
		{"comments skipped", `a<!-- hidden -->b<!--[if mso]>x<![endif]-->`, "ab"},
		{"blockquote", `<div>Yes.</div><div class="gmail_quote">On Mon, Ana wrote:<blockquote>Shall we?<br>Soon?</blockquote></div>`, "Yes.\nOn Mon, Ana wrote:\n> Shall we?\n> Soon?"},
		{"nested blockquote", `<blockquote>a<blockquote>b</blockquote>c</blockquote>`, "> a\n> > b\n> c"},
		{"blockquote paragraphs", `<blockquote><p>a</p><p>b</p></blockquote><p>after</p>`, "> a\n>\n> b\n\nafter"},
		{"pre keeps spacing", "<pre>a  b\n  c</pre>", "a  b\n  c"},
		{"table rows", "<table><tr><td>Name</td><td>Qty</td></tr><tr><td>Pen</td><td>3</td></tr></table>", "Name Qty\nPen 3"},
		{"headings", "<h1>Title</h1>text", "Title\n\ntext"},
		{"invisible filler removed", "Hi\u200b\u034f\u00ad there", "Hi there"},
		{"unclosed tags", "<p>a<b>b<i>c", "abc"},
		{"outlook", `<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta charset=utf-8><style><!-- p.MsoNormal {margin:0in;} --></style><!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]--></head>` +
			`<body lang=EN-US><div class=WordSection1><p class=MsoNormal>Hi Ana,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Sounds good.<o:p></o:p></p>` +
			`<p class=MsoNormal>Bo<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><div><div style='border:none;border-top:solid #E1E1E1 1.0pt'><p class=MsoNormal><b>From:</b> Ana &lt;ana@example.com&gt; <br><b>Sent:</b> Monday, November 30, 2026 9:12 AM<br><b>Subject:</b> Plan<o:p></o:p></p></div></div>` +
			`<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Shall we?<o:p></o:p></p></div></body></html>`,
			"Hi Ana,\n\nSounds good.\nBo\n\nFrom: Ana <ana@example.com>\nSent: Monday, November 30, 2026 9:12 AM\nSubject: Plan\n\nShall we?"},
		{"many br collapse", "a<br><br><br><br><br>b", "a\n\nb"},
		{"empty paragraphs collapse", "<p>a</p><p>&nbsp;</p><p> </p><p>&nbsp;</p><p>b</p>", "a\n\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := cleanTextBlanks(htmlToText([]byte(tt.html)), 1)
			if got != tt.want {
				t.Errorf("htmlToText(%q)\n got %q\nwant %q", tt.html, got, tt.want)
			}
		})
	}
}

func TestHTMLToTextDeepNesting(t *testing.T) {
	t.Parallel()
	// The tokenizer does not recurse: 100,000 open elements cost no stack.
	html := strings.Repeat("<div><blockquote><ul><li>", 25000) + "deep"
	got := htmlToText([]byte(html))
	if !strings.Contains(got, "deep") {
		t.Fatalf("text lost in deep nesting: %q", got[max(0, len(got)-100):])
	}
}
