package mailin

import (
	"strings"
	"testing"
	"time"
)

// fwdCase is one inline forward: the mail's text and subject, and what
// DetectForward must find (ok false: no forward).
type fwdCase struct {
	name      string
	subject   string
	text      string
	inReplyTo bool
	auto      string

	ok      bool
	from    Address
	date    string // RFC 3339; "" for the zero time
	subj    string
	note    string
	body    string // "" when not checked
	anyDate bool   // the date is not checked
}

func runFwdCases(t *testing.T, cases []fwdCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := &Parsed{Subject: c.subject, Text: c.text, Auto: c.auto}
			if c.inReplyTo {
				p.InReplyTo = []string{"answered@example.com"}
			}
			f, ok := DetectForward(p)
			if ok != c.ok {
				t.Fatalf("DetectForward = %v, want %v (%+v)", ok, c.ok, f)
			}
			if !ok {
				if f != (Forward{}) {
					t.Errorf("no forward, but a Forward: %+v", f)
				}
				return
			}
			if f.From != c.from {
				t.Errorf("From = %+v, want %+v", f.From, c.from)
			}
			if f.Subject != c.subj {
				t.Errorf("Subject = %q, want %q", f.Subject, c.subj)
			}
			if f.Note != c.note {
				t.Errorf("Note = %q, want %q", f.Note, c.note)
			}
			if c.body != "" && f.Text != c.body {
				t.Errorf("Text = %q, want %q", f.Text, c.body)
			}
			if !c.anyDate {
				var want time.Time
				if c.date != "" {
					var err error
					if want, err = time.Parse(time.RFC3339, c.date); err != nil {
						t.Fatal(err)
					}
				}
				if !f.Date.Equal(want) || f.Date.Location() != time.UTC {
					t.Errorf("Date = %v, want %v in UTC", f.Date, want.UTC())
				}
			}
		})
	}
}

var ada = Address{Name: "Ada Lovelace", Addr: "ada@example.org"}

// TestDetectForwardClients: the forwards of each client, in the languages
// they are localised to, written here after their shape.
func TestDetectForwardClients(t *testing.T) {
	t.Parallel()
	const body = "The numbers are in.\n\nSee the sheet."
	runFwdCases(t, []fwdCase{
		{
			name: "gmail en", subject: "Fwd: Budget 2027",
			text: "FYI\n\n---------- Forwarded message ---------\nFrom: Ada Lovelace <ada@example.org>\n" +
				"Date: Mon, Nov 30, 2026 at 9:14 AM\nSubject: Budget 2027\nTo: <team@example.com>\n\n" + body + "\n",
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget 2027", note: "FYI", body: body,
		},
		{
			name: "gmail de", subject: "Fwd: Haushalt",
			text: "---------- Weitergeleitete Nachricht ---------\nVon: Ada Lovelace <ada@example.org>\n" +
				"Date: Mo., 30. Nov. 2026 um 09:14 Uhr\nSubject: Haushalt\nTo: <team@example.com>\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Haushalt", body: body,
		},
		{
			name: "gmail fr",
			text: "---------- Message transféré ---------\nDe : Ada Lovelace <ada@example.org>\n" +
				"Date: lun. 30 nov. 2026 à 09:14\nSubject: Budget\nTo: <team@example.com>\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", body: body,
		},
		{
			name: "gmail es",
			text: "---------- Mensaje reenviado ---------\nDe: Ada Lovelace <ada@example.org>\n" +
				"Date: mar, 1 dic 2026 a las 9:14\nSubject: Presupuesto\nTo: <team@example.com>\n\n" + body,
			ok: true, from: ada, date: "2026-12-01T09:14:00Z", subj: "Presupuesto", body: body,
		},
		{
			name: "gmail pt-BR",
			text: "---------- Mensagem encaminhada ---------\nDe: Ada Lovelace <ada@example.org>\n" +
				"Date: seg., 30 de nov. de 2026 às 09:14\nSubject: Orçamento\nTo: <team@example.com>\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Orçamento", body: body,
		},
		{
			name: "gmail nl",
			text: "---------- Doorgestuurd bericht ---------\nVan: Ada Lovelace <ada@example.org>\n" +
				"Date: ma 30 nov. 2026 om 09:14\nSubject: Begroting\nTo: <team@example.com>\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Begroting", body: body,
		},
		{
			name: "gmail sv",
			text: "---------- Vidarebefordrat meddelande ---------\nFrån: Ada Lovelace <ada@example.org>\n" +
				"Date: mån 30 nov. 2026 kl 09:14\nSubject: Budget\nTo: <team@example.com>\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", body: body,
		},
		{
			name: "gmail ja",
			text: "---------- 転送されたメッセージ ---------\nFrom: 山田太郎 <taro@example.jp>\n" +
				"Date: 2026年11月30日(月) 9:14\nSubject: 予算\nTo: <team@example.com>\n\n本文です。",
			ok: true, from: Address{Name: "山田太郎", Addr: "taro@example.jp"}, date: "2026-11-30T09:14:00Z",
			subj: "予算", body: "本文です。",
		},
		{
			name: "gmail zh", subject: "转发：预算",
			text: "---------- 转发的邮件 ---------\n发件人： 张三 <zhang@example.cn>\n" +
				"日期：2026年11月30日周一 下午9:14\n主题：预算\n收件人：<team@example.com>\n\n正文。",
			ok: true, from: Address{Name: "张三", Addr: "zhang@example.cn"}, date: "2026-11-30T21:14:00Z",
			subj: "预算", body: "正文。",
		},
		{
			name: "apple mail en, quoted", subject: "Fwd: Budget",
			text: "> Begin forwarded message:\n> \n> From: Ada Lovelace <ada@example.org>\n> Subject: Budget\n" +
				"> Date: 30 November 2026 at 09:14:00 CET\n> To: team@example.com\n> \n> The numbers are in.\n>\n> See the sheet.\n",
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Budget", body: body,
		},
		{
			name: "apple mail de",
			text: "Zur Info.\n\nAnfang der weitergeleiteten Nachricht:\n\nVon: Ada Lovelace <ada@example.org>\n" +
				"Betreff: Haushalt\nDatum: 30. November 2026 um 09:14:00 MEZ\nAn: team@example.com\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Haushalt", note: "Zur Info.", body: body,
		},
		{
			name: "apple mail fr",
			text: "> Début du message réexpédié :\n> \n> De: Ada Lovelace <ada@example.org>\n> Objet: Budget\n" +
				"> Date: 30 novembre 2026 à 09:14:00 UTC+1\n> À: team@example.com\n> \n> " + "Les chiffres.",
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Budget", body: "Les chiffres.",
		},
		{
			name: "apple mail es",
			text: "> Inicio del mensaje reenviado:\n> \n> De: Ada Lovelace <ada@example.org>\n> Asunto: Presupuesto\n" +
				"> Fecha: 30 de noviembre de 2026, 9:14:00 CET\n> Para: team@example.com\n> \n> Cifras.",
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Presupuesto", body: "Cifras.",
		},
		{
			name: "apple mail pt",
			text: "> Início da mensagem reencaminhada:\n> \n> De: Ada Lovelace <ada@example.org>\n> Assunto: Orçamento\n" +
				"> Data: 30 de novembro de 2026, 09:14:00 WET\n> Para: team@example.com\n> \n> Números.",
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Orçamento", body: "Números.",
		},
		{
			name: "apple mail nl",
			text: "> Begin doorgestuurd bericht:\n> \n> Van: Ada Lovelace <ada@example.org>\n> Onderwerp: Begroting\n" +
				"> Datum: 30 november 2026 om 09:14:00 CET\n> Aan: team@example.com\n> \n> Cijfers.",
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Begroting", body: "Cijfers.",
		},
		{
			name: "apple mail sv",
			text: "> Vidarebefordrat brev:\n> \n> Från: Ada Lovelace <ada@example.org>\n> Ämne: Budget\n" +
				"> Datum: 30 november 2026 09:14:00 CET\n> Till: team@example.com\n> \n> Siffror.",
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Budget", body: "Siffror.",
		},
		{
			name: "apple mail ja",
			text: "> 転送されたメッセージ:\n> \n> 差出人: 山田太郎 <taro@example.jp>\n> 件名: 予算\n" +
				"> 日付: 2026年11月30日 9:14:00 JST\n> 宛先: team@example.com\n> \n> 本文です。",
			ok: true, from: Address{Name: "山田太郎", Addr: "taro@example.jp"}, date: "2026-11-30T00:14:00Z",
			subj: "予算", body: "本文です。",
		},
		{
			name: "thunderbird en",
			text: "-------- Forwarded Message --------\nSubject: \tBudget\nDate: \tMon, 30 Nov 2026 09:14:00 +0100\n" +
				"From: \tAda Lovelace <ada@example.org>\nTo: \tteam@example.com\n\n\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Budget", body: body,
		},
		{
			name: "thunderbird de",
			text: "-------- Weitergeleitete Nachricht --------\nBetreff: \tHaushalt\nDatum: \tMon, 30 Nov 2026 09:14:00 +0100\n" +
				"Von: \tAda Lovelace <ada@example.org>\nAn: \tteam@example.com\nKopie (CC): \tbob@example.com\n\n\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Haushalt", body: body,
		},
		{
			name: "thunderbird fr",
			text: "Pour info\n\n-------- Message transféré --------\nSujet : \tBudget\nDate : \tMon, 30 Nov 2026 09:14:00 +0100\n" +
				"De : \tAda Lovelace <ada@example.org>\nPour : \tteam@example.com\n\n\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Budget", note: "Pour info", body: body,
		},
		{
			name: "yahoo, the header on the separator's line",
			text: "  ----- Forwarded Message ----- From: Ada Lovelace <ada@example.org>To: \"team@example.com\" <team@example.com>" +
				"Sent: Monday, November 30, 2026, 09:14:00 AM GMT+1Subject: Budget: Q4\n " + body,
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Budget: Q4", body: body,
		},
		{
			name: "yahoo de",
			text: "   ----- Weitergeleitete Nachricht ----- Von: Ada Lovelace <ada@example.org>An: team@example.com" +
				"Gesendet: Montag, 30. November 2026, 09:14:00 MEZBetreff: Haushalt\n " + body,
			ok: true, from: ada, date: "2026-11-30T08:14:00Z", subj: "Haushalt", body: body,
		},
		{
			name: "nested forwards: the outer one, the inner kept in the text", subject: "Fwd: Fwd: Budget",
			text: "---------- Forwarded message ---------\nFrom: Ada Lovelace <ada@example.org>\nDate: Mon, Nov 30, 2026 at 9:14 AM\n" +
				"Subject: Fwd: Budget\nTo: <bob@example.com>\n\nSee below.\n\n---------- Forwarded message ---------\n" +
				"From: Carol <carol@example.net>\nDate: Sun, Nov 29, 2026 at 8:00 AM\nSubject: Budget\nTo: <ada@example.org>\n\nNumbers.",
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget",
			body: "See below.\n\n---------- Forwarded message ---------\nFrom: Carol <carol@example.net>\nDate: Sun, Nov 29, 2026 at 8:00 AM\n" +
				"Subject: Budget\nTo: <ada@example.org>\n\nNumbers.",
		},
		{
			name: "the original subject is taken from the mail when the block has none", subject: "Fwd: Budget",
			text: "---------- Forwarded message ---------\nFrom: ada@example.org\nDate: Mon, Nov 30, 2026 at 9:14 AM\n" +
				"To: <team@example.com>\n\n" + body,
			ok: true, from: Address{Addr: "ada@example.org"}, date: "2026-11-30T09:14:00Z", subj: "Budget", body: body,
		},
		{
			name: "a bounce is never a forward", subject: "Fwd: Budget", auto: AutoBounce,
			text: "---------- Forwarded message ---------\nFrom: Ada Lovelace <ada@example.org>\nDate: Mon, Nov 30, 2026 at 9:14 AM\n" +
				"Subject: Budget\nTo: <team@example.com>\n\n" + body,
		},
		{
			name: "an out-of-office is never a forward", subject: "Automatic reply: Budget", auto: AutoReplied,
			text: "I am away.\n\n-----Original Message-----\nFrom: Ada Lovelace <ada@example.org>\nSent: Monday, November 30, 2026 9:14 AM\n" +
				"To: Team <team@example.com>\nSubject: Budget\n\n" + body,
		},
		{
			name: "a separator with no header block is no forward", subject: "Fwd: Budget",
			text: "---------- Forwarded message ---------\nThe numbers are in.",
		},
		{
			name: "plain mail", subject: "Budget",
			text: "Hello,\n\nFrom: the finance team, with love.\nDate: whenever you like\n",
		},
	})
}

// TestDetectForwardOutlook: Outlook's blocks are forwards by the subject,
// or at the very top of a mail that is no reply; otherwise they are the
// history of a reply.
func TestDetectForwardOutlook(t *testing.T) {
	t.Parallel()
	const body = "The numbers are in."
	block := "From: Ada Lovelace <ada@example.org>\nSent: Monday, November 30, 2026 9:14 AM\n" +
		"To: Team <team@example.com>\nSubject: Budget\n\n" + body
	original := "-----Original Message-----\n" + block
	rule := "________________________________\n" + block
	long := strings.Repeat("A line of a real answer, not a note.\n", 10) + "\n"
	runFwdCases(t, []fwdCase{
		{name: "FW: with a note", subject: "FW: Budget", text: "Please see below.\n\n" + block,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", note: "Please see below.", body: body},
		{name: "FW: under a long note", subject: "FW: Budget", text: long + block,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", note: strings.TrimSpace(long), body: body},
		{name: "FW: with In-Reply-To", subject: "FW: Budget", text: block, inReplyTo: true,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", body: body},
		{name: "Original Message, WG:", subject: "WG: Haushalt",
			text: "-----Ursprüngliche Nachricht-----\nVon: Ada Lovelace <ada@example.org>\nGesendet: Montag, 30. November 2026 09:14\n" +
				"An: Team <team@example.com>\nBetreff: Haushalt\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Haushalt", body: body},
		{name: "TR:", subject: "TR: Budget",
			text: "De : Ada Lovelace <ada@example.org>\nEnvoyé : lundi 30 novembre 2026 09:14\nÀ : Team <team@example.com>\nObjet : Budget\n\n" + body,
			ok:   true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", body: body},
		{name: "RV:", subject: "RV: Presupuesto",
			text: "De: Ada Lovelace <ada@example.org>\nEnviado el: lunes, 30 de noviembre de 2026 9:14\nPara: Team <team@example.com>\nAsunto: Presupuesto\n\n" + body,
			ok:   true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Presupuesto", body: body},
		{name: "ENC:", subject: "ENC: Orçamento",
			text: "De: Ada Lovelace <ada@example.org>\nEnviada em: segunda-feira, 30 de novembro de 2026 09:14\nPara: Team <team@example.com>\nAssunto: Orçamento\n\n" + body,
			ok:   true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Orçamento", body: body},
		{name: "Doorst:", subject: "Doorst: Begroting",
			text: "Van: Ada Lovelace <ada@example.org>\nVerzonden: maandag 30 november 2026 09:14\nAan: Team <team@example.com>\nOnderwerp: Begroting\n\n" + body,
			ok:   true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Begroting", body: body},
		{name: "I:", subject: "I: Bilancio",
			text: "Da: Ada Lovelace <ada@example.org>\nInviato: lunedì 30 novembre 2026 09:14\nA: Team <team@example.com>\nOggetto: Bilancio\n\n" + body,
			ok:   true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Bilancio", body: body},
		{name: "PD:", subject: "PD: Budżet",
			text: "Od: Ada Lovelace <ada@example.org>\nWysłano: poniedziałek, 30 listopada 2026 09:14\nDo: Team <team@example.com>\nTemat: Budżet\n\n" + body,
			ok:   true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budżet", body: body},
		{name: "VB:, bold labels", subject: "VB: Budget",
			text: "*Från:* Ada Lovelace <ada@example.org>\n*Skickat:* den 30 november 2026 09:14\n*Till:* Team <team@example.com>\n*Ämne:* Budget\n\n" + body,
			ok:   true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", body: body},
		{name: "[mailto:] and on behalf of", subject: "FW: Budget",
			text: "From: Ada Lovelace [mailto:ada@example.org] on behalf of Finance [mailto:finance@example.org]\n" +
				"Sent: 30 November 2026 09:14\nTo: Team\nSubject: Budget\n\n" + body,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", body: body},
		{name: "a name and no address", subject: "FW: Budget",
			text: "-----Original Message-----\nFrom: Ada Lovelace\nSent: 30 November 2026 09:14\nTo: Team\nSubject: Budget\n\n" + body,
			ok:   true, from: Address{Name: "Ada Lovelace"}, date: "2026-11-30T09:14:00Z", subj: "Budget", body: body},
		{name: "at the very top, no subject marker", subject: "Budget", text: block,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", body: body},
		{name: "rule under a short note, no subject marker", subject: "Budget", text: "FYI\n\n" + rule,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", note: "FYI", body: body},
		{name: "original message at the top, no subject", text: original,
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", body: body},

		{name: "RE: reply", subject: "RE: Budget", text: "Agreed.\n\n" + block},
		{name: "Re: reply with Original Message", subject: "Re: Budget", text: "Agreed.\n\n" + original},
		{name: "AW: reply", subject: "AW: Haushalt", text: "Einverstanden.\n\n" + rule},
		{name: "In-Reply-To, block at the top", subject: "Budget", text: block, inReplyTo: true},
		{name: "In-Reply-To, note above", subject: "Budget", text: "Agreed.\n\n" + rule, inReplyTo: true},
		{name: "below a long answer", subject: "Budget", text: long + rule},
		{name: "Re: Fwd: is a reply", subject: "Re: Fwd: Budget", text: "Agreed.\n\n" + original},
		{name: "a forward quoted in a reply's history is no forward", subject: "RE: Budget",
			text: "Agreed.\n\n" + block + "\n\n---------- Forwarded message ---------\nFrom: Carol <carol@example.net>\n" +
				"Date: Sun, Nov 29, 2026 at 8:00 AM\nSubject: Budget\nTo: <ada@example.org>\n\nNumbers."},
	})
}

// TestDetectForwardQuoted: forwards written inside quotes, and replies
// that quote a forward.
func TestDetectForwardQuoted(t *testing.T) {
	t.Parallel()
	gmail := "---------- Forwarded message ---------\nFrom: Ada Lovelace <ada@example.org>\nDate: Mon, Nov 30, 2026 at 9:14 AM\n" +
		"Subject: Budget\nTo: <team@example.com>\n\nThe numbers are in."
	quote := func(s, prefix string) string {
		return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
	}
	runFwdCases(t, []fwdCase{
		{name: "quoted gmail forward", subject: "Fwd: Budget", text: "Have a look.\n\n" + quote(gmail, "> "),
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", note: "Have a look.", body: "The numbers are in."},
		{name: "twice quoted, no space", subject: "Fwd: Budget", text: quote(gmail, ">>"),
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", body: "The numbers are in."},
		{name: "separator plain, header quoted (Apple Mail)", subject: "Fwd: Budget",
			text: "Begin forwarded message:\n\n> From: Ada Lovelace <ada@example.org>\n> Subject: Budget\n" +
				"> Date: 30 November 2026 at 09:14:00 GMT\n> To: team@example.com\n>\n> The numbers are in.",
			ok: true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", body: "The numbers are in."},
		{name: "a reply quoting a forward", subject: "Re: Fwd: Budget", inReplyTo: true,
			text: "Thanks!\n\nOn Mon, Nov 30, 2026 at 9:20 AM Bob <bob@example.com> wrote:\n" + quote(gmail, "> ")},
		{name: "a reply quoting a forward, attribution wrapped", subject: "Re: Budget",
			text: "Thanks!\n\nOn Mon, Nov 30, 2026 at 9:20 AM Bob <bob@example.com>\nwrote:\n\n" + quote(gmail, "> ")},
		{name: "a quoted forward in a reply without attribution", subject: "Re: Budget", inReplyTo: true,
			text: "Thanks!\n\n" + quote(gmail, "> ")},
		{name: "Outlook for Mac: the attribution under FW:", subject: "FW: Budget",
			text: "See below.\n\nOn 30/11/2026, 09:14, \"Ada Lovelace\" <ada@example.org> wrote:\n\n    The numbers are in.\n\n    See the sheet.\n",
			ok:   true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", note: "See below.",
			body: "The numbers are in.\n\nSee the sheet."},
		{name: "Outlook for Mac, German", subject: "WG: Haushalt",
			text: "Am 30.11.26, 09:14 schrieb Ada Lovelace <ada@example.org>:\n\n    Die Zahlen.\n",
			ok:   true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Haushalt", body: "Die Zahlen."},
		{name: "a note that ends like an attribution", subject: "Fwd: Budget",
			text: "Here is what ada@example.org wrote on 30 Nov:\n\n" + gmail,
			ok:   true, from: ada, date: "2026-11-30T09:14:00Z", subj: "Budget", note: "Here is what ada@example.org wrote on 30 Nov:",
			body: "The numbers are in."},
		{name: "an attribution without FW: is a reply", subject: "Budget",
			text: "Agreed.\n\nOn 30/11/2026, 09:14, \"Ada Lovelace\" <ada@example.org> wrote:\n\n    The numbers are in.\n"},
	})
}

// TestDetectForwardEmbedded: message/rfc822 attachments, built as real
// MIME and read by Parse.
func TestDetectForwardEmbedded(t *testing.T) {
	t.Parallel()
	attached := func(outer, inner string) string {
		return "From: Bob <bob@example.com>\r\nTo: team@example.com\r\nSubject: " + outer + "\r\n" +
			"Message-ID: <outer@example.com>\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
			"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHave a look at this one.\r\n" +
			inner + "--b1--\r\n"
	}
	rfc822 := func(from, subject, date, text string) string {
		return "--b1\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\n\r\n" +
			"From: " + from + "\r\nTo: bob@example.com\r\nSubject: " + subject + "\r\nDate: " + date + "\r\n" +
			"Message-ID: <original@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n"
	}
	cases := []struct {
		name string
		raw  string
		ok   bool
		want Forward
	}{
		{
			name: "one attached message",
			raw:  attached("Fwd: Budget", rfc822("Ada Lovelace <Ada@Example.org>", "Budget", "Mon, 30 Nov 2026 09:14:00 +0100", "The numbers are in.")),
			ok:   true,
			want: Forward{From: ada, Date: time.Date(2026, 11, 30, 8, 14, 0, 0, time.UTC), Subject: "Budget",
				Note: "Have a look at this one.", Text: "The numbers are in."},
		},
		{
			name: "an encoded subject, a forward marker inside the original",
			raw: attached("Fwd: Café", rfc822("Ada Lovelace <ada@example.org>", "=?UTF-8?Q?Fwd:_Caf=C3=A9?=",
				"Mon, 30 Nov 2026 09:14:00 +0000", "Menu.")),
			ok: true,
			want: Forward{From: ada, Date: time.Date(2026, 11, 30, 9, 14, 0, 0, time.UTC), Subject: "Café",
				Note: "Have a look at this one.", Text: "Menu."},
		},
		{
			name: "several attached messages: the first is the original",
			raw: attached("Fwd: two", rfc822("Ada Lovelace <ada@example.org>", "First", "Mon, 30 Nov 2026 09:14:00 +0000", "One.")+
				rfc822("Carol <carol@example.net>", "Second", "Tue, 1 Dec 2026 09:14:00 +0000", "Two.")),
			ok: true,
			want: Forward{From: ada, Date: time.Date(2026, 11, 30, 9, 14, 0, 0, time.UTC), Subject: "First",
				Note: "Have a look at this one.", Text: "One."},
		},
		{
			name: "the attached message has no subject: the mail's, unmarked",
			raw:  attached("Fwd: Budget", rfc822("Ada Lovelace <ada@example.org>", "", "Mon, 30 Nov 2026 09:14:00 +0000", "Numbers.")),
			ok:   true,
			want: Forward{From: ada, Date: time.Date(2026, 11, 30, 9, 14, 0, 0, time.UTC), Subject: "Budget",
				Note: "Have a look at this one.", Text: "Numbers."},
		},
		{
			name: "the attachment wins over an inline forward; the note stays the note",
			raw: strings.Replace(attached("Fwd: Budget", rfc822("Ada Lovelace <ada@example.org>", "Budget", "Mon, 30 Nov 2026 09:14:00 +0000", "Numbers.")),
				"Have a look at this one.\r\n",
				"Have a look at this one.\r\n\r\n---------- Forwarded message ---------\r\nFrom: Carol <carol@example.net>\r\n"+
					"Date: Sun, Nov 29, 2026 at 8:00 AM\r\nSubject: Other\r\nTo: <bob@example.com>\r\n\r\nOther text.\r\n", 1),
			ok: true,
			want: Forward{From: ada, Date: time.Date(2026, 11, 30, 9, 14, 0, 0, time.UTC), Subject: "Budget",
				Note: "Have a look at this one.", Text: "Numbers."},
		},
		{
			name: "a bounce carries the mail it returns: no forward",
			raw: "From: MAILER-DAEMON@example.com\r\nTo: bob@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
				"Message-ID: <dsn@example.com>\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n" +
				"--b1\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n" +
				"--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; example.com\r\n\r\n" +
				"Final-Recipient: rfc822; nobody@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n" +
				rfc822("Bob <bob@example.com>", "Budget", "Mon, 30 Nov 2026 09:14:00 +0000", "Numbers.") + "--b1--\r\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(c.raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			f, ok := DetectForward(p)
			if ok != c.ok {
				t.Fatalf("DetectForward = %v, want %v (Auto %q, %d embedded)", ok, c.ok, p.Auto, len(p.Embedded))
			}
			if f != c.want {
				t.Errorf("got  %+v\nwant %+v", f, c.want)
			}
		})
	}
}

// TestParseLooseDate: the dates of forwarded header blocks as clients
// write them.
func TestParseLooseDate(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"Mon, Nov 30, 2026 at 9:14 AM", "2026-11-30T09:14:00Z"},
		{"Mon, Nov 30, 2026 at 9:14 PM", "2026-11-30T21:14:00Z"},
		{"Monday, November 30, 2026 12:05 AM", "2026-11-30T00:05:00Z"},
		{"Monday, November 30, 2026 9:14 AM", "2026-11-30T09:14:00Z"},
		{"30. November 2026 um 09:14:00 MEZ", "2026-11-30T08:14:00Z"},
		{"30. Juli 2026 um 09:14:00 MESZ", "2026-07-30T07:14:00Z"},
		{"lundi 30 novembre 2026 09:14", "2026-11-30T09:14:00Z"},
		{"mardi 1 décembre 2026 09:14", "2026-12-01T09:14:00Z"},
		{"mar, 1 dic 2026 10:00", "2026-12-01T10:00:00Z"},
		{"martes, 1 de diciembre de 2026 10:00 CET", "2026-12-01T09:00:00Z"},
		{"Mon, 30 Nov 2026 09:14:00 +0100", "2026-11-30T08:14:00Z"},
		{"30 Nov 2026 09:14:00 -0500 (EST)", "2026-11-30T14:14:00Z"},
		{"2026-11-30T09:14:00+01:00", "2026-11-30T08:14:00Z"},
		{"2026-11-30 09:14", "2026-11-30T09:14:00Z"},
		{"30/11/2026 09:14", "2026-11-30T09:14:00Z"},
		{"11/30/2026 9:14 PM", "2026-11-30T21:14:00Z"},
		{"02/10/2026 4:52 PM EST", "2026-02-10T21:52:00Z"},
		{"02/10/2026 16:52", "2026-10-02T16:52:00Z"},
		{"30.11.2026 09:14", "2026-11-30T09:14:00Z"},
		{"30.11.26, 09:14", "2026-11-30T09:14:00Z"},
		{"2026. november 30. 9:14", "2026-11-30T09:14:00Z"},
		{"2026. nov. 30., H, 9:14", "2026-11-30T09:14:00Z"},
		{"2026年11月30日 9:14", "2026-11-30T09:14:00Z"},
		{"2026年11月30日周一 下午9:14", "2026-11-30T21:14:00Z"},
		{"2026년 11월 30일 (월) 오후 9:14", "2026-11-30T21:14:00Z"},
		{"30 ноября 2026 г. в 9:14", "2026-11-30T09:14:00Z"},
		{"30 листопада 2026 р. о 09:14", "2026-11-30T09:14:00Z"},
		{"30 listopada 2026 o 09:14", "2026-11-30T09:14:00Z"},
		{"30. listopadu 2026 9:14", "2026-11-30T09:14:00Z"},
		{"30. listopada 2026. u 09:14", "2026-10-30T09:14:00Z"}, // Croatian: October
		{"30. studenoga 2026. u 09:14", "2026-11-30T09:14:00Z"},
		{"30. marraskuuta 2026 klo 9.14", "2026-11-30T09:14:00Z"},
		{"ma 30. marrask. 2026 klo 9.14", "2026-11-30T09:14:00Z"},
		{"30. nov. 2026 kl. 09.14", "2026-11-30T09:14:00Z"},
		{"30. nov. 2026 kl. 09.14.30 CET", "2026-11-30T08:14:30Z"},
		{"30 Kasım 2026 Pazartesi 09:14", "2026-11-30T09:14:00Z"},
		{"30 noiembrie 2026, 09:14:00 EET", "2026-11-30T07:14:00Z"},
		{"30 de novembro de 2026 às 09:14", "2026-11-30T09:14:00Z"},
		{"30 novembre 2026 alle ore 09:14", "2026-11-30T09:14:00Z"},
		{"30 november 2026 om 09:14", "2026-11-30T09:14:00Z"},
		{"30 dets 2026 kell 09:14", "2026-12-30T09:14:00Z"},
		{"Am 30.11.2026 um 09:14 schrieb", "2026-11-30T09:14:00Z"},
		{"Thu, 6 April 2023 at 16:17", "2023-04-06T16:17:00Z"},
		{"30 November 2026", "2026-11-30T00:00:00Z"},
		{"", ""},
		{"hello", ""},
		{"sometime next week", ""},
		{"31 April 2026 10:00", ""},
		{"30 Foo 2026 10:00", ""},
		{"99/99/2026", ""},
	}
	for _, c := range cases {
		got := parseLooseDate(c.in)
		var want time.Time
		if c.want != "" {
			var err error
			if want, err = time.Parse(time.RFC3339, c.want); err != nil {
				t.Fatal(err)
			}
		}
		if !got.Equal(want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("parseLooseDate(%q) = %v, want %v", c.in, got, want.UTC())
		}
	}
}

// TestForwardSubject: the markers a subject says forward or reply with.
func TestForwardSubject(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want   string
		fwd, reply bool
	}{
		{"Fwd: Budget", "Budget", true, false},
		{"FW: Budget", "Budget", true, false},
		{"Fw: Budget", "Budget", true, false},
		{"WG: Haushalt", "Haushalt", true, false},
		{"TR: Budget", "Budget", true, false},
		{"RV: Presupuesto", "Presupuesto", true, false},
		{"Rv: Presupuesto", "Presupuesto", true, false},
		{"ENC: Orçamento", "Orçamento", true, false},
		{"Doorst: Begroting", "Begroting", true, false},
		{"Doorgestuurd: Begroting", "Begroting", true, false},
		{"VS: Budsjett", "Budsjett", true, false},
		{"VB: Budget", "Budget", true, false},
		{"VL: Budjetti", "Budjetti", true, false},
		{"I: Bilancio", "Bilancio", true, false},
		{"PD: Budżet", "Budżet", true, false},
		{"Přeposlat: Rozpočet", "Rozpočet", true, false},
		{"İLT: Bütçe", "Bütçe", true, false},
		{"Redir.: Buget", "Buget", true, false},
		{"转发: 预算", "预算", true, false},
		{"转发：预算", "预算", true, false},
		{"轉寄: 預算", "預算", true, false},
		{"転送: 予算", "予算", true, false},
		{"Fwd: Fwd: FW: Budget", "Budget", true, false},
		{"FW[2]: Budget", "Budget", true, false},
		{"[EXTERNAL] FW: Budget", "Budget", true, false},
		{"Budget (fwd)", "Budget", true, false},
		{"Fwd: Re: Budget", "Re: Budget", true, false},
		{"Re: Budget", "Re: Budget", false, true},
		{"RE: Fwd: Budget", "RE: Fwd: Budget", false, true},
		{"AW: Haushalt", "AW: Haushalt", false, true},
		{"SV: Budget", "SV: Budget", false, true},
		{"[team] Re: Budget", "[team] Re: Budget", false, true},
		{"Info: Budget", "Info: Budget", false, false},
		{"Budget", "Budget", false, false},
		{"", "", false, false},
	}
	for _, c := range cases {
		if got := forwardSubject(c.in); got != c.want {
			t.Errorf("forwardSubject(%q) = %q, want %q", c.in, got, c.want)
		}
		if fwd, reply := subjectSays(c.in); fwd != c.fwd || reply != c.reply {
			t.Errorf("subjectSays(%q) = %v, %v; want %v, %v", c.in, fwd, reply, c.fwd, c.reply)
		}
	}
}

// TestLooseAddress: authors as forwarded header blocks write them.
func TestLooseAddress(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Address
	}{
		{"Ada Lovelace <ada@example.org>", ada},
		{"\"Ada Lovelace\" <ADA@example.org>", ada},
		{"'Ada Lovelace' <ada@example.org>", ada},
		{"« Ada Lovelace » <ada@example.org>", ada},
		{"„Ada Lovelace” <ada@example.org>", ada},
		{"Ada Lovelace [mailto:ada@example.org]", ada},
		{"Ada Lovelace (ada@example.org)", ada},
		{"Ada Lovelace <ada@example.org<mailto:ada@example.org>>", ada},
		{"Ada Lovelace<mailto:ada@example.org> <ada@example.org<mailto:ada@example.org>> on behalf of x@example.org<mailto:x@example.org>", ada},
		{"*Ada Lovelace* <ada@example.org>", ada},
		{"Lovelace, Ada <ada@example.org>", Address{Name: "Lovelace, Ada", Addr: "ada@example.org"}},
		{"ada@example.org", Address{Addr: "ada@example.org"}},
		{"<ada@example.org>", Address{Addr: "ada@example.org"}},
		{"'ada@example.org' <ada@example.org>", Address{Addr: "ada@example.org"}},
		{"ada@example.org (Ada Lovelace)", ada},
		{"Ada Lovelace", Address{Name: "Ada Lovelace"}},
		{"=?UTF-8?Q?Ad=C3=A1?= <ada@example.org>", Address{Name: "Adá", Addr: "ada@example.org"}},
		{"", Address{}},
	}
	for _, c := range cases {
		if got := looseAddress(c.in); got != c.want {
			t.Errorf("looseAddress(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

// TestDetectForwardHTML: HTML-only forwards, read by Parse into text first.
func TestDetectForwardHTML(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, html string }{
		{"outlook", `<div>FYI</div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in">` +
			`<p class="MsoNormal"><b>From:</b> Ada Lovelace &lt;ada@example.org&gt; <br><b>Sent:</b> Monday, November 30, 2026 9:14 AM<br>` +
			`<b>To:</b> Team &lt;team@example.com&gt;<br><b>Subject:</b> Budget</p></div><p>The numbers are in.</p>`},
		{"gmail", `<div dir="ltr">FYI<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>` +
			`From: <strong class="gmail_sendername" dir="auto">Ada Lovelace</strong> <span dir="auto">&lt;<a href="mailto:ada@example.org">ada@example.org</a>&gt;</span><br>` +
			`Date: Mon, Nov 30, 2026 at 9:14 AM<br>Subject: Budget<br>To: &lt;<a href="mailto:team@example.com">team@example.com</a>&gt;<br></div><br><br>` +
			`<div dir="ltr">The numbers are in.</div></div></div>`},
		{"apple mail", `<html><body><div>FYI</div><div><br><blockquote type="cite"><div>Begin forwarded message:</div><br>` +
			`<div><span><b>From: </b></span><span>Ada Lovelace &lt;<a href="mailto:ada@example.org">ada@example.org</a>&gt;<br></span></div>` +
			`<div><span><b>Subject: </b></span><span><b>Budget</b><br></span></div><div><span><b>Date: </b></span><span>30 November 2026 at 09:14:00 GMT<br></span></div>` +
			`<div><span><b>To: </b></span><span>team@example.com<br></span></div><br><div>The numbers are in.</div></blockquote></div></body></html>`},
	}
	want := Forward{From: ada, Date: time.Date(2026, 11, 30, 9, 14, 0, 0, time.UTC), Subject: "Budget", Note: "FYI", Text: "The numbers are in."}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			raw := "From: Bob <bob@example.com>\r\nSubject: FW: Budget\r\nMessage-ID: <h@example.com>\r\n" +
				"Content-Type: text/html; charset=utf-8\r\n\r\n" + c.html
			p, err := Parse([]byte(raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			f, ok := DetectForward(p)
			if !ok || f != want {
				t.Errorf("DetectForward = %v, %+v\nwant %+v\ntext read from the HTML:\n%s", ok, f, want, p.Text)
			}
		})
	}
}
