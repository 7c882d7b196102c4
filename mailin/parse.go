package mailin

import (
	"errors"
	"time"

	"github.com/tidings/tidings/store"
)

// Limits bound the work Parse does on one message. Zero fields take the
// defaults noted.
type Limits struct {
	MaxDepth       int // MIME nesting depth walked (default 20); deeper parts are not read
	MaxParts       int // parts walked (default 500)
	MaxHeaderBytes int // bytes of one header block (default 256 KiB)
}

// Address is a decoded mailbox.
type Address struct {
	Name string `json:"name,omitempty"`
	Addr string `json:"addr"` // lower-case
}

// Parsed is how tidings reads one message.
type Parsed struct {
	MessageID string // without angle brackets
	Synthetic bool   // MessageID was derived from the content: the mail had none
	From      Address
	// Authors are all the mailboxes of the From field, From first: RFC
	// 5322 section 3.6.2 allows several. Each must be allowed to post.
	Authors []Address
	To, Cc  []Address
	// LoopMarks are the "tidings@<domain>" X-Loop values of mail some
	// tidings instance sent; the pipeline knows which is ours.
	LoopMarks []string
	// DeliveredTo are the envelope recipients a delivering MTA recorded
	// (Delivered-To, X-Original-To, Envelope-To), lower-case.
	DeliveredTo []string
	Subject     string    // decoded, control characters removed
	Date        time.Time // UTC; zero when missing or unparseable
	InReplyTo   []string
	References  []string
	ThreadIndex string // Outlook Thread-Index, as sent
	Text        string // the best plain text; HTML converted when there is no text part
	FromHTML    bool
	Attachments []store.Attachment
	Auto        string // "", AutoReplied, AutoBounce or AutoLoop
	Bulk        bool   // Precedence bulk/list/junk or Auto-Submitted: auto-generated
	Urgent      bool   // [urgent] subject tag or Importance: high
	Truncated   bool   // a limit was hit; the parts read are kept
	// Embedded are the messages attached as message/rfc822 parts, parsed
	// (each also listed in Attachments): the original of a forward.
	Embedded []*Parsed
	Problems []string

	reading *Reading // the pipeline's Read of it, made outside its transaction
}

// Values of Parsed.Auto.
const (
	AutoReplied = "auto-replied"
	AutoBounce  = "bounce"
	// AutoLoop is our own mail come back: it carries our X-Loop marker
	// (bare from older versions; with our domain, as the pipeline tells),
	// or (set by the pipeline, which knows the addresses) it is from one
	// of our own addresses.
	AutoLoop = "loop"
)

// Errors for mail that cannot be taken at all.
var (
	ErrMultipleFrom   = errors.New("mailin: more than one From field")
	ErrHeaderTooLarge = errors.New("mailin: header too large")
)

// Parse reads raw (CRLF or LF line endings). It never panics on input.
func Parse(raw []byte, lim Limits) (*Parsed, error) {
	return parse(raw, lim)
}
