package templates

import (
	"bytes"
	"fmt"
)

// The names of the notification and answer templates.
const (
	NotifyText = "notify.txt.tmpl" // one message sent as it arrives
	NotifyHTML = "notify.html.tmpl"
	AnswerText = "answer.txt.tmpl" // a short automatic answer (text only)
)

// Notification is what the notification templates see: one new message of
// a thread, sent to one member as it arrives. Every string is plain text
// (the templates escape it), except Message.HTML.
type Notification struct {
	Subject   string // the mail's subject, also the HTML title
	Preheader string // the one line a mail client shows beside the subject
	Thread    string // the thread's subject
	Team      string
	Urgent    bool
	// Why says in one sentence why this came at once, e.g. "You get every
	// message of eng as it arrives."
	Why     string
	Message Message // Renderer.Notification renders its Blocks when nil

	// The reader's own links, as in a digest.
	ReplyMailto    string // mailto: URI with the thread's reply address and subject
	ReplyAddress   string
	URL            string // the thread in the web archive; "" when there is none
	MuteURL        string // "" when there is no web address
	UnsubscribeURL string // "" when there is no web address
}

// Kinds of Answer, as the answer template tells them apart.
const (
	AnswerMuted      = "muted"
	AnswerUnmuted    = "unmuted"
	AnswerFollowed   = "followed"
	AnswerDigestHelp = "digest-help"
	// AnswerUnsubscribed confirms an unsubscription by mail.
	AnswerUnsubscribed = "unsubscribed"
)

// Answer is what the answer template sees: a short automatic answer to a
// member's mail, confirming a thread setting or saying how to reply to a
// digest.
type Answer struct {
	Kind        string // AnswerMuted … AnswerDigestHelp
	Member      string // how the answer addresses its reader: their name, or address
	Team        string
	TeamAddress string
	// Thread is the subject of the thread whose setting changed; "" for
	// AnswerDigestHelp.
	Thread string
	// ReplyAddress is the member's reply address for that thread, where a
	// reply of "unmute", "mute" or "follow" changes it again; "" for
	// AnswerDigestHelp.
	ReplyAddress string
	URL          string // the thread in the web archive; "" when there is none
}

// Notification renders a notification as its text and HTML parts. Its
// message is rendered for it when its Blocks are nil (its HTML from its
// Text as Markdown); n is left as it was.
func (r *Renderer) Notification(n *Notification) (text, html []byte, err error) {
	if n.Message.Blocks == nil {
		v := *n
		if v.Message.Blocks, err = r.Message(v.Message); err != nil {
			return nil, nil, err
		}
		n = &v
	}
	var buf bytes.Buffer
	if err := r.notifyText.Execute(&buf, &notifyTextData{Notification: n}); err != nil {
		return nil, nil, fmt.Errorf("templates: %s: %w", r.where(r.notifyText), err)
	}
	text = tidyText(buf.Bytes())
	var hbuf bytes.Buffer
	if err := r.notifyHTML.Execute(&hbuf, n); err != nil {
		return nil, nil, fmt.Errorf("templates: %s: %w", r.where(r.notifyHTML), err)
	}
	return text, hbuf.Bytes(), nil
}

// Answer renders an automatic answer's text.
func (r *Renderer) Answer(a *Answer) ([]byte, error) {
	var buf bytes.Buffer
	if err := r.answerText.Execute(&buf, &answerTextData{Answer: a}); err != nil {
		return nil, fmt.Errorf("templates: %s: %w", r.where(r.answerText), err)
	}
	return tidyText(buf.Bytes()), nil
}

// notifyTextData and answerTextData are what the text templates see: the
// view, and the numbered references its links become (see textData).
type notifyTextData struct {
	*Notification
	linkRefs
}

type answerTextData struct {
	*Answer
	linkRefs
}

// checkNotify renders samples of the notification and answer templates,
// every answer kind included, so that New refuses a broken override.
func (r *Renderer) checkNotify() error {
	if _, _, err := r.Notification(sampleNotification()); err != nil {
		return err
	}
	for _, kind := range []string{AnswerMuted, AnswerUnmuted, AnswerFollowed, AnswerDigestHelp, AnswerUnsubscribed} {
		a := sampleAnswer()
		a.Kind = kind
		if _, err := r.Answer(a); err != nil {
			return err
		}
	}
	return nil
}

func sampleNotification() *Notification {
	return &Notification{
		Subject: "[eng] [urgent] Re: s", Preheader: "p", Thread: "s", Team: "eng", Urgent: true, Why: "w",
		Message: Message{From: "Bo", Address: "bo@example.com", When: "10:00", Forwarded: "Cy", Text: "*hi*",
			Truncated: true, URL: "https://example.com/t/1", Attachments: []Attachment{{Name: "a.pdf", Size: "1 KB"}}},
		ReplyMailto: "mailto:eng+x@example.com", ReplyAddress: "eng+x@example.com", URL: "https://example.com/t/1",
		MuteURL: "https://example.com/m", UnsubscribeURL: "https://example.com/u",
	}
}

func sampleAnswer() *Answer {
	return &Answer{Kind: AnswerMuted, Member: "Ana", Team: "eng", TeamAddress: "eng@example.com", Thread: "s",
		ReplyAddress: "eng+x@example.com", URL: "https://example.com/t/1"}
}
