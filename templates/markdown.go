package templates

import (
	"bytes"
	htmltemplate "html/template"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Markdown renders message text as sanitised HTML with inline styles. Mail
// is not written as Markdown, so line breaks are kept as they were typed
// (hard wraps) and bare URLs become links; raw HTML in the text is dropped.
func (r *Renderer) Markdown(src string) htmltemplate.HTML {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		// goldmark fails only when writing fails, which a buffer does not;
		// should it ever, the text still reaches the reader, escaped.
		return htmltemplate.HTML("<p>" + htmltemplate.HTMLEscapeString(src) + "</p>")
	}
	return htmltemplate.HTML(inlineStyles(r.policy.SanitizeBytes(buf.Bytes())))
}

func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(
			extension.Linkify,
			extension.Strikethrough,
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		),
		goldmark.WithRendererOptions(
			html.WithHardWraps(),
			renderer.WithNodeRenderers(util.Prioritized(imageLinks{}, 100)),
		),
	)
}

// imageLinks renders a Markdown image as a link to it. A digest never
// loads a remote image: that would tell the image's host who read the
// digest, and when.
type imageLinks struct{}

func (imageLinks) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindImage, func(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		n := node.(*ast.Image)
		alt := strings.TrimSpace(plainText(n, source))
		if alt == "" {
			alt = "image"
		}
		dest := util.URLEscape(n.Destination, true)
		if len(dest) == 0 || html.IsDangerousURL(dest) {
			_, _ = w.Write(util.EscapeHTML([]byte("[" + alt + "]")))
			return ast.WalkSkipChildren, nil
		}
		_, _ = w.WriteString(`<a href="`)
		_, _ = w.Write(util.EscapeHTML(dest))
		_, _ = w.WriteString(`">`)
		_, _ = w.Write(util.EscapeHTML([]byte("[image: " + alt + "]")))
		_, _ = w.WriteString(`</a>`)
		return ast.WalkSkipChildren, nil
	})
}

// plainText is the text inside n, as an image's alt text.
func plainText(n ast.Node, source []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(source))
		case *ast.String:
			b.Write(c.Value)
		default:
			b.WriteString(plainText(c, source))
		}
	}
	return b.String()
}

// newPolicy allows what the Markdown renderer makes and nothing else: no
// images, no styles or classes of the sender's, links only to web and mail
// addresses.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "em", "b", "i", "del", "s", "code", "pre", "blockquote",
		"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
		"table", "thead", "tbody", "tr", "th", "td")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("align").Matching(bluemonday.CellAlign).OnElements("th", "td")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// Inline styles of the elements Markdown makes; the class lets the dark
// scheme's media query recolour them where a client honours it. Blocks are
// spaced by their top margin, which inlineStyles drops for the first block
// in its parent, so that a message's text has no space above or below.
const (
	monoFont = `font-family:SFMono-Regular,Consolas,'Liberation Mono',Menlo,monospace;font-size:13px;`
	styleA   = "color:#0b5cad;text-decoration:underline;"
)

var mdStyles = map[atom.Atom]string{
	atom.A:          styleA,
	atom.Blockquote: "padding:0 0 0 12px;border-left:3px solid #d0d7de;color:#57606a;",
	atom.Pre:        "padding:8px 10px;background-color:#f6f8fa;border-radius:4px;white-space:pre-wrap;word-wrap:break-word;" + monoFont,
	atom.Code:       "padding:1px 4px;background-color:#f6f8fa;border-radius:3px;" + monoFont,
	atom.Ul:         "padding:0 0 0 22px;",
	atom.Ol:         "padding:0 0 0 22px;",
	atom.H1:         "font-size:17px;",
	atom.H2:         "font-size:16px;",
	atom.H3:         "font-size:15px;",
	atom.H4:         "font-size:15px;",
	atom.H5:         "font-size:14px;",
	atom.H6:         "font-size:14px;",
	atom.Hr:         "border:0;border-top:1px solid #d0d7de;",
	atom.Table:      "border-collapse:collapse;",
	atom.Th:         "border:1px solid #d0d7de;padding:4px 8px;",
	atom.Td:         "border:1px solid #d0d7de;padding:4px 8px;",
}

// blockGap is the space above a block that follows another in its parent.
var blockGap = map[atom.Atom]string{
	atom.P: "10px", atom.Blockquote: "10px", atom.Pre: "10px", atom.Ul: "10px", atom.Ol: "10px",
	atom.H1: "14px", atom.H2: "14px", atom.H3: "12px", atom.H4: "12px", atom.H5: "12px", atom.H6: "12px",
	atom.Hr: "10px", atom.Table: "10px", atom.Li: "4px",
}

var mdClasses = map[atom.Atom]string{
	atom.A: "link", atom.Blockquote: "quote", atom.Pre: "code", atom.Code: "code",
	atom.Th: "cell", atom.Td: "cell", atom.Hr: "rule",
}

var voidElements = map[atom.Atom]bool{atom.Br: true, atom.Hr: true, atom.Img: true, atom.Input: true, atom.Wbr: true}

// inlineStyles gives every element of sanitised HTML its style attribute.
// Sanitised HTML has no style of its own, so nothing is overridden.
func inlineStyles(b []byte) string {
	var out strings.Builder
	out.Grow(len(b) + len(b)/2)
	z := xhtml.NewTokenizer(bytes.NewReader(b))
	pre := 0
	// hasBlock[d]: the element open at depth d already holds a block.
	hasBlock := []bool{false}
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break // io.EOF: the input is in memory and already well-formed
		}
		tok := z.Token()
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			style := mdStyles[tok.DataAtom]
			if tok.DataAtom == atom.Code && pre > 0 {
				style = "" // the <pre> around it is styled already
			}
			if gap, ok := blockGap[tok.DataAtom]; ok {
				d := len(hasBlock) - 1
				if hasBlock[d] {
					style = "margin:" + gap + " 0 0 0;" + style
				} else {
					style = "margin:0;" + style
				}
				hasBlock[d] = true
			}
			if style != "" {
				tok.Attr = append(tok.Attr, xhtml.Attribute{Key: "style", Val: style})
			}
			if c := mdClasses[tok.DataAtom]; c != "" && style != "" {
				tok.Attr = append(tok.Attr, xhtml.Attribute{Key: "class", Val: c})
			}
			if tt == xhtml.StartTagToken && !voidElements[tok.DataAtom] {
				hasBlock = append(hasBlock, false)
				if tok.DataAtom == atom.Pre {
					pre++
				}
			}
		case xhtml.EndTagToken:
			if len(hasBlock) > 1 && !voidElements[tok.DataAtom] {
				hasBlock = hasBlock[:len(hasBlock)-1]
			}
			if tok.DataAtom == atom.Pre && pre > 0 {
				pre--
			}
		}
		out.WriteString(tok.String())
	}
	return out.String()
}
