package mailin

import (
	"strings"

	"github.com/tidings/tidings/store"
)

// Reading is what the pipeline makes of a message's content: the text it
// shows as the author's, what was quoted or signed, and what kind of post
// it is.
type Reading struct {
	// Kind is store.KindForward for a forward, store.KindReaction for an
	// acknowledgement that answers a message (Ack and Reply), otherwise
	// store.KindMessage.
	Kind string
	// Text is the new text: without quotes and signature; for a forward,
	// the forwarded mail's text. When nothing new is left (the whole mail
	// is a quote), the text as it came.
	Text              string
	Quoted, Signature string
	// Forward is the forwarded original, for KindForward.
	Forward *Forward
	// Ack is set when the new text is only an acknowledgement ("+1",
	// "thanks", 👍): a reaction when the message answers another.
	Ack bool
	// Command is "mute", "unmute" or "follow" when the whole new text is
	// that word: a setting, when sent to a reply address.
	Command string
}

// Read reads p's content. reply says whether the message answers another
// (it has a parent in its thread): only then is an acknowledgement a
// reaction. words are the acknowledgements; nil means the defaults.
func Read(p *Parsed, reply bool, words []string) Reading {
	if words == nil {
		words = DefaultReactionWords
	}
	var r Reading
	if p.Auto == "" {
		if fw, ok := DetectForward(p); ok {
			r.Kind = store.KindForward
			r.Forward = &fw
			r.Text = strings.TrimSpace(fw.Text)
			return r
		}
	}
	sp := SplitReply(p.Text)
	r.Text, r.Quoted, r.Signature = sp.New, sp.Quoted, sp.Signature
	if r.Text == "" {
		r.Text = strings.TrimSpace(p.Text)
	} else {
		r.Ack = IsReaction(r.Text, words)
		r.Command = ReplyCommand(r.Text)
	}
	r.Kind = store.KindMessage
	if r.Ack && reply {
		r.Kind = store.KindReaction
	}
	return r
}

// originalFrom is a forward's original author as stored: the address,
// or the display name when the forward names no address.
func originalFrom(a Address) string {
	if a.Addr != "" {
		return a.Addr
	}
	return a.Name
}

// colonWithin is the index of the first ':' or fullwidth '：' in s, looked
// for only in its first n bytes (a header label is short): -1 when there
// is none there. Header-block checks run on every line of every message,
// and strings.IndexAny with a non-ASCII set scans rune by rune.
func colonWithin(s string, n int) int {
	if len(s) > n {
		s = s[:n]
	}
	i := strings.IndexByte(s, ':')
	if j := strings.Index(s, "："); j >= 0 && (i < 0 || j < i) {
		return j
	}
	return i
}
