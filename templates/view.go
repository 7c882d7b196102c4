package templates

import "html/template"

// Digest is what the digest templates see: one member's digest, ready to
// lay out. Every string is plain text (the templates escape it), except
// Message.HTML.
type Digest struct {
	Subject   string // the mail's subject, also the HTML title
	Preheader string // the one line a mail client shows beside the subject
	Member    string // how the digest addresses its reader: their name, or address
	Date      string // the local date of the digest, e.g. "Monday 30 November 2026"
	Summary   string // e.g. "2 waiting on you · 9 updates in 4 threads"
	Sections  []Section
	More      int // threads left out by the digest's size limit, over all sections
	// Schedule says when digests come, e.g. "09:00 Europe/Berlin, mon-fri".
	Schedule       string
	UnsubscribeURL string // "" when the instance has no web address
}

// Section is one part of a digest: Urgent, Waiting on you, Your threads, New
// threads or Other activity.
type Section struct {
	Key     string // stable name for styling: urgent, waiting, yours, new, other
	Title   string
	Compact bool // one line per thread, no message text (Other activity)
	Threads []Thread
	More    int // threads of this section left out by the size limit
}

// Thread is one thread of a section, with what is new in it.
type Thread struct {
	Subject      string
	Team         string
	Participants string // e.g. "Ana Lima, Bo, you and 3 others"
	New          int    // new messages, reactions included
	Urgent       bool
	Age          string // e.g. "3 business days" (Waiting on you only)
	Overdue      bool   // past the end of the next business day since addressed
	Messages     []Message
	More         int // earlier new messages not shown
	Reactions    []Reaction
	Compact      bool   // shown as one line (its section is Compact)
	URL          string // the thread in the web archive; "" when there is none
	// Blocks is what the thread shows, its links aside, as the digest
	// templates include it. Renderer.Digest renders it when nil; a caller
	// showing a thread alike in many digests renders it once with
	// Renderer.Thread and sets it.
	Blocks *Blocks

	// The reader's own links, which Blocks leaves out.
	ReplyMailto  string // mailto: URI with the thread's reply address and subject
	ReplyAddress string
	MuteURL      string // "" when there is no web address
}

// Message is one new message of a thread. Nothing in it may depend on the
// reader, so that it can be rendered once for every digest that shows it.
type Message struct {
	From        string // display name, or address
	Address     string
	When        string        // local time, e.g. "Mon 14:05"
	Forwarded   string        // the original author of a forward, if any
	Text        string        // plain text (Markdown source), as the text part shows it
	HTML        template.HTML // rendered and sanitised; when empty the renderer makes it from Text
	Truncated   bool          // Text was cut to the digest's limit
	URL         string        // where the whole message can be read; may be ""
	Attachments []Attachment
	// Blocks is the message as the digest templates include it.
	// Renderer.Digest renders it when nil; a caller showing one message in
	// many digests renders it once with Renderer.Message and sets it.
	Blocks *Blocks
}

// Blocks is a message or a thread rendered for the two parts of a digest.
type Blocks struct {
	Text string        // wrapped lines; the last one not ended
	HTML template.HTML // a block of the HTML part
}

// Attachment names one attached file.
type Attachment struct {
	Name string
	Size string // e.g. "1.2 MB"
}

// Reaction is one aggregated reaction: "👍 3 — Ana, Bo, Cy".
type Reaction struct {
	Emoji string
	Count int
	Names string
}
