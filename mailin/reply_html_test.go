package mailin

import (
	"strings"
	"testing"
)

// htmlMail wraps an HTML body in a whole message with no plain-text part,
// as some clients send.
func htmlMail(body string) []byte {
	return []byte("From: Bo Berg <bo@example.com>\r\nTo: eng@example.com\r\nSubject: Re: Release\r\n" +
		"Message-ID: <reply-1@example.com>\r\nIn-Reply-To: <orig-1@example.com>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0100\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body)
}

// TestSplitReplyHTML parses HTML-only replies as Gmail, Outlook (desktop
// and web), Apple Mail, Thunderbird and Yahoo write them, and splits the
// text Parse makes of them.
func TestSplitReplyHTML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, html     string
		new, quoted    string // quoted: what Quoted starts with
		sig, notInNew  string
		quotedContains string
	}{
		{
			name: "gmail",
			html: `<div dir="ltr">Sounds good, let&#39;s ship on Tuesday.<br clear="all"><div><br></div><span class="gmail_signature_prefix">-- </span><br>` +
				`<div dir="ltr" class="gmail_signature"><div dir="ltr">Bo Berg<div>Platform team</div></div></div></div><br>` +
				`<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Fri, Nov 27, 2026 at 9:00 AM Ana Lima &lt;<a href="mailto:ana@example.com">ana@example.com</a>&gt; wrote:<br></div>` +
				`<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">Shall we ship the release on Tuesday?<div><br></div><div>Ana</div></div></blockquote></div>`,
			new: "Sounds good, let's ship on Tuesday.", quoted: "On Fri, Nov 27, 2026", sig: "--\nBo Berg\nPlatform team",
			quotedContains: "> Shall we ship the release on Tuesday?",
		},
		{
			name: "gmail signature without prefix",
			html: `<div dir="ltr">Yes.<br><div><br></div><div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature">Bo Berg</div></div>` +
				`<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">Am Fr., 27. Nov. 2026 um 09:00 Uhr schrieb Ana Lima &lt;ana@example.com&gt;:<br></div><blockquote class="gmail_quote">Sollen wir?</blockquote></div>`,
			new: "Yes.", quoted: "Am Fr., 27. Nov. 2026", sig: "-- \nBo Berg",
		},
		{
			name: "outlook desktop",
			html: `<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta charset=utf-8><style><!-- p.MsoNormal {margin:0cm;} --></style></head>` +
				`<body lang=DE><div class=WordSection1><p class=MsoNormal>Passt f&uuml;r mich.<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Bo<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>` +
				`<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>Von:</b> Ana Lima &lt;ana@example.com&gt; <br><b>Gesendet:</b> Freitag, 27. November 2026 09:00<br><b>An:</b> Bo Berg &lt;bo@example.com&gt;<br><b>Betreff:</b> Release<o:p></o:p></p></div></div>` +
				`<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Sollen wir das Release am Dienstag ausliefern?<o:p></o:p></p></div></body></html>`,
			new: "Passt für mich.\n\nBo", quoted: "Von: Ana Lima", notInNew: "Sollen wir",
		},
		{
			name: "outlook web",
			html: `<html><body><div dir="ltr"><div style="font-family: Aptos, sans-serif; font-size: 12pt;">Sounds good.</div>` +
				`<div id="Signature"><div>Bo Berg</div><div>Platform team</div></div>` +
				`<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">` +
				`<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000"><b>Od:</b> Ana Lima &lt;ana@example.com&gt;<br><b>Wysłane:</b> piątek, 27 listopada 2026 09:00<br><b>Do:</b> Bo Berg &lt;bo@example.com&gt;<br><b>Temat:</b> Release</font><div>&nbsp;</div></div>` +
				`<div dir="ltr">Shall we ship the release on Tuesday?</div></div></body></html>`,
			new: "Sounds good.", quoted: outlookRule, sig: "-- \nBo Berg\nPlatform team", quotedContains: "Shall we ship",
		},
		{
			name: "outlook mobile",
			html: `<html><body><div dir="auto">Sounds good.</div><div dir="auto"><br></div><div id="ms-outlook-mobile-signature" dir="auto">Get <a href="https://aka.ms/o0ukef">Outlook for iOS</a></div>` +
				`<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif"><b>From:</b> Ana Lima &lt;ana@example.com&gt;<br><b>Sent:</b> Friday, November 27, 2026 9:00:00 AM<br><b>To:</b> Bo Berg &lt;bo@example.com&gt;<br><b>Subject:</b> Release</font><div>&nbsp;</div></div>` +
				`<div>Shall we ship the release on Tuesday?</div></body></html>`,
			new: "Sounds good.", quoted: outlookRule, sig: "-- \nGet Outlook for iOS (https://aka.ms/o0ukef)",
		},
		{
			name: "apple mail",
			html: `<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body dir="auto">Yes, Tuesday.<br><br><div dir="ltr">Sent from my iPhone</div>` +
				`<div dir="ltr"><br><blockquote type="cite">On 27 Nov 2026, at 09:00, Ana Lima &lt;ana@example.com&gt; wrote:<br><br></blockquote></div>` +
				`<blockquote type="cite"><div dir="ltr">Shall we ship the release on Tuesday?<div><br></div><div>Ana</div></div></blockquote></body></html>`,
			new: "Yes, Tuesday.", quoted: "> On 27 Nov 2026", sig: "Sent from my iPhone",
		},
		{
			name: "apple mail mac",
			html: `<html><head></head><body style="overflow-wrap: break-word;">Ja, Dienstag.<br id="lineBreakAtBeginningOfMessage"><div><br><blockquote type="cite"><div>Am 27.11.2026 um 09:00 schrieb Ana Lima &lt;ana@example.com&gt;:</div><br class="Apple-interchange-newline">` +
				`<div><div>Sollen wir das Release am Dienstag ausliefern?</div></div></blockquote></div><br></body></html>`,
			new: "Ja, Dienstag.", quoted: "> Am 27.11.2026",
		},
		{
			name: "ios signature container",
			html: `<html><body dir="auto"><div dir="ltr">Oui, mardi.</div><div dir="ltr"><br id="lineBreakAtBeginningOfSignature"><div dir="ltr" id="AppleMailSignature">Envoyé de mon iPhone</div><div dir="ltr"><br><blockquote type="cite">Le 27 nov. 2026 à 09:00, Ana Lima &lt;ana@example.com&gt; a écrit&nbsp;:<br><br></blockquote></div>` +
				`<blockquote type="cite"><div dir="ltr">On livre mardi ?</div></blockquote></div></body></html>`,
			new: "Oui, mardi.", quoted: "> Le 27 nov. 2026", sig: "-- \nEnvoyé de mon iPhone",
		},
		{
			name: "thunderbird",
			html: `<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body><p>Yes, Tuesday works.</p><div class="moz-signature">-- <br>Bo Berg</div>` +
				`<div class="moz-cite-prefix">On 27/11/2026 09:00, Ana Lima wrote:<br></div><blockquote type="cite" cite="mid:orig-1@example.com"><p>Shall we ship the release on Tuesday?</p><p>Ana</p></blockquote></body></html>`,
			new: "Yes, Tuesday works.", quoted: "On 27/11/2026 09:00, Ana Lima wrote:", sig: "-- \nBo Berg",
		},
		{
			name: "thunderbird pre signature",
			html: `<html><body><p>Ja.</p><pre class="moz-signature" cols="72">-- ` + "\n" + `Bo Berg</pre><div class="moz-cite-prefix">Am 27.11.26 um 09:00 schrieb Ana Lima:<br></div><blockquote type="cite">Sollen wir?</blockquote></body></html>`,
			new:  "Ja.", quoted: "Am 27.11.26 um 09:00 schrieb Ana Lima:", sig: "-- \nBo Berg",
		},
		{
			name: "yahoo",
			html: `<html><body><div class="ydp1" style="font-family:Helvetica Neue, Helvetica, Arial, sans-serif;font-size:16px;"><div dir="ltr">Fine by me.</div></div>` +
				`<div id="yahoo_quoted_1234" class="yahoo_quoted"><div style="font-family:'Helvetica Neue', Helvetica, Arial, sans-serif;font-size:13px;color:#26282a;">` +
				`<div>Am Freitag, 27. November 2026, 09:00:00 MEZ hat Ana Lima &lt;ana@example.com&gt; Folgendes geschrieben:</div><div><br></div><div><br></div>` +
				`<div><div dir="ltr">Sollen wir das Release am Dienstag ausliefern?</div></div></div></div></body></html>`,
			new: "Fine by me.", quoted: "> Am Freitag, 27. November 2026", quotedContains: "> Sollen wir",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(htmlMail(tt.html), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !p.FromHTML {
				t.Fatal("the text did not come from HTML")
			}
			got := SplitReply(p.Text)
			if got.New != tt.new {
				t.Errorf("New\n got %q\nwant %q\ntext %q", got.New, tt.new, p.Text)
			}
			if !strings.HasPrefix(got.Quoted, tt.quoted) || tt.quoted == "" && got.Quoted != "" {
				t.Errorf("Quoted\n got %q\nwant it to start with %q", got.Quoted, tt.quoted)
			}
			if !strings.Contains(got.Quoted, tt.quotedContains) {
				t.Errorf("Quoted %q lacks %q", got.Quoted, tt.quotedContains)
			}
			if got.Signature != tt.sig {
				t.Errorf("Signature\n got %q\nwant %q", got.Signature, tt.sig)
			}
			if tt.notInNew != "" && strings.Contains(got.New, tt.notInNew) {
				t.Errorf("New %q holds %q", got.New, tt.notInNew)
			}
		})
	}
}
