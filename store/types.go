package store

import "time"

// Team is one team address served by the instance.
type Team struct {
	Name    string    `json:"name"`
	Address string    `json:"address"`         // lower-case addr-spec, e.g. eng@example.com
	Allow   []string  `json:"allow,omitempty"` // outside senders: "a@b.c" or "@domain"
	Created time.Time `json:"created"`
}

// Delivery modes of a member for one team.
const (
	ModeDigest    = "digest"
	ModeImmediate = "immediate"
	ModeOff       = "off"
)

// Member is a person, with the schedule of their digest and a mode per team.
type Member struct {
	Address string            `json:"address"` // lower-case addr-spec
	Name    string            `json:"name,omitempty"`
	Zone    string            `json:"tz"`    // IANA zone, e.g. Europe/Berlin
	Start   string            `json:"start"` // local start of the working day, "HH:MM"
	Days    string            `json:"days"`  // working days, e.g. "mon-fri" or "mon,tue,thu"
	Teams   map[string]string `json:"teams"` // team name -> mode
	Joined  time.Time         `json:"joined"`
	Muted   []uint64          `json:"muted,omitempty"` // thread IDs left out of their digests
	// Aliases are the member's other addresses (lower-case): mail from
	// them is the member's. See Tx.MemberByAddress.
	Aliases []string `json:"aliases,omitempty"`
	// Followed are threads the member asked to follow by mail: shown among
	// their own threads, and never muted.
	Followed []uint64 `json:"followed,omitempty"`
}

// Attachment describes one attached file of a message.
type Attachment struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// Message kinds.
const (
	KindMessage  = "message"
	KindForward  = "forward"
	KindReaction = "reaction"
)

// Message is one stored mail as it was parsed, with a reference to its raw bytes.
type Message struct {
	Seq         uint64       `json:"seq"` // assigned by the store, increasing
	Team        string       `json:"team"`
	MessageID   string       `json:"message_id"` // without angle brackets
	Synthetic   bool         `json:"synthetic,omitempty"`
	From        string       `json:"from"`
	FromName    string       `json:"from_name,omitempty"`
	To          []string     `json:"to,omitempty"`
	Cc          []string     `json:"cc,omitempty"`
	Subject     string       `json:"subject"`
	Date        time.Time    `json:"date"`     // from the Date header, UTC; Received when missing or over a day ahead
	Received    time.Time    `json:"received"` // when the store took it, UTC
	InReplyTo   string       `json:"in_reply_to,omitempty"`
	References  []string     `json:"references,omitempty"`
	ThreadIndex string       `json:"thread_index,omitempty"`
	Kind        string       `json:"kind"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Auto        string       `json:"auto,omitempty"` // "", "auto-replied" or "bounce": kept out of threads
	Bulk        bool         `json:"bulk,omitempty"` // list/bulk/auto-generated: content, never answered
	Urgent      bool         `json:"urgent,omitempty"`
	Size        int          `json:"size"`
	Hash        string       `json:"hash"` // hex SHA-256 of the raw bytes
	// Thread and Parent come from the thread forest when the message is
	// read, never from the stored record, so that merging threads touches
	// only the forest.
	Thread uint64 `json:"-"` // 0 while unthreaded
	Parent string `json:"-"` // Message-ID of the parent in the thread tree
	// A forward's original: author ("Name <addr>" or either), date and
	// subject, and the forwarder's own note above it (Text is the
	// original's text).
	OriginalFrom    string    `json:"original_from,omitempty"`
	OriginalDate    time.Time `json:"original_date,omitzero"`
	OriginalSubject string    `json:"original_subject,omitempty"`
	Note            string    `json:"note,omitempty"`
	// Via says how a message reached its thread when not by its own
	// headers: "reply-address" (a member's per-thread address) or
	// "digest-reply" (a reply to a digest that quoted one thread).
	Via string `json:"via,omitempty"`
}

// Thread is a conversation within one team.
type Thread struct {
	ID      uint64    `json:"id"`
	Team    string    `json:"team"`
	Subject string    `json:"subject"`
	Created time.Time `json:"created"`
	LastAt  time.Time `json:"last_at"`
	Count   int       `json:"count"` // real (non-placeholder) messages
}

// Node is a position in a team's thread forest: a message seen (Seq > 0) or
// one only named by References (a placeholder, Seq == 0).
type Node struct {
	MessageID string    `json:"mid"`
	Parent    string    `json:"parent,omitempty"`
	Thread    uint64    `json:"thread"`
	Seq       uint64    `json:"seq,omitempty"`
	Date      time.Time `json:"date,omitempty"`
}
