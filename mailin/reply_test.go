package mailin

import (
	"strings"
	"testing"
)

// The original that every reply below answers, quoted as each client
// quotes it.
const (
	origEN = "Shall we ship the release on Tuesday?\n\nAna\n"
	origDE = "Sollen wir das Release am Dienstag ausliefern?\n\nAna\n"
)

func quote(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if l == "" {
			b.WriteString(">\n")
		} else {
			b.WriteString("> " + l + "\n")
		}
	}
	return b.String()
}

type splitCase struct {
	name, text string
	new        string
	quoted     string // the first line Quoted must start with ("" : Quoted must be empty)
	sig        string // Signature, exactly
}

// clientCases are replies as the clients write them in plain text, in the
// languages tidings is used in. The bodies follow what each client puts
// around a reply: its attribution or header block, its quoting, its
// signature line.
var clientCases = []splitCase{
	// Gmail (web and Android).
	{name: "gmail/en", text: "Sounds good, let's ship on Tuesday.\n\nOn Fri, Nov 27, 2026 at 9:00 AM Ana Lima <ana@example.com> wrote:\n\n" + quote(origEN),
		new: "Sounds good, let's ship on Tuesday.", quoted: "On Fri, Nov 27, 2026 at 9:00 AM Ana Lima <ana@example.com> wrote:"},
	{name: "gmail/en folded", text: "Works for me.\n\nOn Fri, Nov 27, 2026 at 9:00 AM Ana Maria Lima de Souza Ferreira <\nana.maria.lima@example.com> wrote:\n\n" + quote(origEN),
		new: "Works for me.", quoted: "On Fri, Nov 27, 2026 at 9:00 AM Ana Maria Lima de Souza Ferreira <"},
	{name: "gmail/en signature", text: "Works for me.\n\n-- \nBo Berg\nPlatform team, Example GmbH\n\nOn Fri, Nov 27, 2026 at 9:00 AM Ana Lima <ana@example.com> wrote:\n\n" + quote(origEN),
		new: "Works for me.", quoted: "On Fri, Nov 27, 2026", sig: "-- \nBo Berg\nPlatform team, Example GmbH"},
	{name: "gmail/de", text: "Passt für mich.\n\nAm Fr., 27. Nov. 2026 um 09:00 Uhr schrieb Ana Lima <ana@example.com>:\n\n" + quote(origDE),
		new: "Passt für mich.", quoted: "Am Fr., 27. Nov. 2026"},
	{name: "gmail/de folded", text: "Passt für mich.\n\nAm Fr., 27. Nov. 2026 um 09:00 Uhr schrieb Ana Maria Lima de Souza Ferreira <\nana.maria.lima@example.com>:\n\n" + quote(origDE),
		new: "Passt für mich.", quoted: "Am Fr., 27. Nov. 2026"},
	{name: "gmail/fr", text: "Ça me va.\n\nLe ven. 27 nov. 2026 à 09:00, Ana Lima <ana@example.com> a écrit :\n\n> On livre mardi ?\n",
		new: "Ça me va.", quoted: "Le ven. 27 nov. 2026"},
	{name: "gmail/fr nbsp", text: "Ça me va.\n\nLe ven. 27 nov. 2026 à 09:00, Ana Lima <ana@example.com> a écrit\u00a0:\n\n> On livre mardi ?\n",
		new: "Ça me va.", quoted: "Le ven. 27 nov. 2026"},
	{name: "gmail/es", text: "Me parece bien.\n\nEl vie, 27 nov 2026 a las 9:00, Ana Lima (<ana@example.com>) escribió:\n\n> ¿Lo publicamos el martes?\n",
		new: "Me parece bien.", quoted: "El vie, 27 nov 2026"},
	{name: "gmail/pt", text: "Por mim tudo bem.\n\nEm sex., 27 de nov. de 2026 às 09:00, Ana Lima <ana@example.com> escreveu:\n\n> Vamos publicar na terça?\n",
		new: "Por mim tudo bem.", quoted: "Em sex., 27 de nov."},
	{name: "gmail/nl", text: "Prima voor mij.\n\nOp vr 27 nov 2026 om 09:00 schreef Ana Lima <ana@example.com>:\n\n> Zullen we dinsdag releasen?\n",
		new: "Prima voor mij.", quoted: "Op vr 27 nov 2026"},
	{name: "gmail/sv", text: "Det funkar för mig.\n\nDen fre 27 nov. 2026 kl 09:00 skrev Ana Lima <ana@example.com>:\n\n> Ska vi släppa på tisdag?\n",
		new: "Det funkar för mig.", quoted: "Den fre 27 nov. 2026"},
	{name: "gmail/it", text: "Per me va bene.\n\nIl giorno ven 27 nov 2026 alle ore 09:00 Ana Lima <ana@example.com> ha scritto:\n\n> Rilasciamo martedì?\n",
		new: "Per me va bene.", quoted: "Il giorno ven 27 nov 2026"},
	{name: "gmail/ja", text: "火曜日で大丈夫です。\n\n2026年11月27日(金) 9:00 Ana Lima <ana@example.com>:\n\n> 火曜日にリリースしますか？\n",
		new: "火曜日で大丈夫です。", quoted: "2026年11月27日(金) 9:00 Ana Lima"},
	{name: "gmail/zh", text: "周二可以。\n\nAna Lima <ana@example.com> 于2026年11月27日周五 09:00写道：\n\n> 我们周二发布吗？\n",
		new: "周二可以。", quoted: "Ana Lima <ana@example.com> 于2026年11月27日"},
	{name: "gmail/zh folded", text: "周二可以。\n\nAna Maria Lima de Souza Ferreira <ana.maria.lima@example.com>\n于2026年11月27日周五 09:00写道：\n\n> 我们周二发布吗？\n",
		new: "周二可以。", quoted: "Ana Maria Lima de Souza Ferreira <ana.maria.lima@example.com>"},
	{name: "gmail/zh-tw", text: "星期二可以。\n\nAna Lima <ana@example.com> 於 2026年11月27日 週五 上午9:00寫道：\n\n> 我們星期二發布嗎？\n",
		new: "星期二可以。", quoted: "Ana Lima <ana@example.com> 於"},

	// Apple Mail on the Mac quotes its attribution too.
	{name: "apple/en", text: "Yes, Tuesday.\n\n> On 27 Nov 2026, at 09:00, Ana Lima <ana@example.com> wrote:\n> \n" + quote(origEN),
		new: "Yes, Tuesday.", quoted: "> On 27 Nov 2026, at 09:00"},
	{name: "apple/de", text: "Ja, Dienstag.\n\n> Am 27.11.2026 um 09:00 schrieb Ana Lima <ana@example.com>:\n> \n" + quote(origDE),
		new: "Ja, Dienstag.", quoted: "> Am 27.11.2026"},

	// iOS Mail: the phone's line, then the quote.
	{name: "ios/en", text: "Yes, Tuesday.\n\nSent from my iPhone\n\n> On 27 Nov 2026, at 09:00, Ana Lima <ana@example.com> wrote:\n> \n> \ufeff" + strings.TrimPrefix(quote(origEN), "> "),
		new: "Yes, Tuesday.", quoted: "> On 27 Nov 2026", sig: "Sent from my iPhone"},
	{name: "ios/en ipad", text: "Yes.\n\nSent from my iPad\n\n> On 27 Nov 2026, at 09:00, Ana Lima <ana@example.com> wrote:\n" + quote(origEN),
		new: "Yes.", quoted: "> On 27 Nov 2026", sig: "Sent from my iPad"},
	{name: "ios/de", text: "Ja, Dienstag.\n\nVon meinem iPhone gesendet\n\n> Am 27.11.2026 um 09:00 schrieb Ana Lima <ana@example.com>:\n> \n" + quote(origDE),
		new: "Ja, Dienstag.", quoted: "> Am 27.11.2026", sig: "Von meinem iPhone gesendet"},
	{name: "ios/fr", text: "Oui, mardi.\n\nEnvoyé de mon iPhone\n\n> Le 27 nov. 2026 à 09:00, Ana Lima <ana@example.com> a écrit :\n> \n> On livre mardi ?\n",
		new: "Oui, mardi.", quoted: "> Le 27 nov. 2026", sig: "Envoyé de mon iPhone"},
	{name: "ios/es", text: "Sí, el martes.\n\nEnviado desde mi iPhone\n\n> El 27 nov 2026, a las 9:00, Ana Lima <ana@example.com> escribió:\n> \n> ¿Lo publicamos el martes?\n",
		new: "Sí, el martes.", quoted: "> El 27 nov 2026", sig: "Enviado desde mi iPhone"},
	{name: "ios/pt", text: "Sim, terça.\n\nEnviado do meu iPhone\n\n> Em 27 de nov. de 2026, à(s) 09:00, Ana Lima <ana@example.com> escreveu:\n> \n> Vamos publicar na terça?\n",
		new: "Sim, terça.", quoted: "> Em 27 de nov.", sig: "Enviado do meu iPhone"},
	{name: "ios/nl", text: "Ja, dinsdag.\n\nVerzonden vanaf mijn iPhone\n\n> Op 27 nov. 2026 om 09:00 heeft Ana Lima <ana@example.com> het volgende geschreven:\n> \n> Zullen we dinsdag releasen?\n",
		new: "Ja, dinsdag.", quoted: "> Op 27 nov. 2026", sig: "Verzonden vanaf mijn iPhone"},
	{name: "ios/sv", text: "Ja, tisdag.\n\nSkickat från min iPhone\n\n> 27 nov. 2026 kl. 09:00 skrev Ana Lima <ana@example.com>:\n> \n> Ska vi släppa på tisdag?\n",
		new: "Ja, tisdag.", quoted: "> 27 nov. 2026", sig: "Skickat från min iPhone"},
	{name: "ios/ja", text: "火曜日で大丈夫です。\n\niPhoneから送信\n\n> 2026/11/27 9:00、Ana Lima <ana@example.com>のメール:\n> \n> 火曜日にリリースしますか？\n",
		new: "火曜日で大丈夫です。", quoted: "> 2026/11/27 9:00", sig: "iPhoneから送信"},
	{name: "ios/zh", text: "周二可以。\n\n从我的iPhone发送\n\n> 在 2026年11月27日，09:00，Ana Lima <ana@example.com> 写道：\n> \n> 我们周二发布吗？\n",
		new: "周二可以。", quoted: "> 在 2026年11月27日", sig: "从我的iPhone发送"},
	{name: "ios/it", text: "Sì, martedì.\n\nInviato da iPhone\n\n> Il giorno 27 nov 2026, alle ore 09:00, Ana Lima <ana@example.com> ha scritto:\n> \n> Rilasciamo martedì?\n",
		new: "Sì, martedì.", quoted: "> Il giorno 27 nov 2026", sig: "Inviato da iPhone"},
	{name: "blackberry", text: "Will do.\nSent from my BlackBerry® wireless device\n\n-----Original Message-----\nFrom: Ana Lima <ana@example.com>\nDate: Fri, 27 Nov 2026 09:00:00\nTo: Bo Berg<bo@example.com>\nSubject: Release\n\n" + origEN,
		new: "Will do.", quoted: "-----Original Message-----", sig: "Sent from my BlackBerry® wireless device"},

	// Thunderbird: attribution, '>' quote, the signature below the
	// reply; replying below the quote keeps the quote as context.
	{name: "thunderbird/en top", text: "Yes, Tuesday works.\n\nOn 27/11/2026 09:00, Ana Lima wrote:\n" + quote(origEN),
		new: "Yes, Tuesday works.", quoted: "On 27/11/2026 09:00, Ana Lima wrote:"},
	{name: "thunderbird/en below", text: "On 27/11/2026 09:00, Ana Lima wrote:\n> Shall we ship the release on Tuesday?\n\nYes, Tuesday works.\n\n-- \nBo Berg\n",
		new: "On 27/11/2026 09:00, Ana Lima wrote:\n> Shall we ship the release on Tuesday?\n\nYes, Tuesday works.", sig: "-- \nBo Berg"},
	{name: "thunderbird/de", text: "Ja.\n\nAm 27.11.26 um 09:00 schrieb Ana Lima:\n" + quote(origDE),
		new: "Ja.", quoted: "Am 27.11.26 um 09:00 schrieb Ana Lima:"},
	{name: "thunderbird/fr", text: "Oui.\n\nLe 27/11/2026 à 09:00, Ana Lima a écrit\u00a0:\n> On livre mardi ?\n",
		new: "Oui.", quoted: "Le 27/11/2026 à 09:00"},
	{name: "thunderbird/ja", text: "了解です。\n\nAna Lima さんは書きました:\n> 火曜日にリリースしますか？\n",
		new: "了解です。", quoted: "Ana Lima さんは書きました:"},
	{name: "thunderbird/sv", text: "Ja.\n\nDen 2026-11-27 kl. 09:00, skrev Ana Lima:\n> Ska vi släppa på tisdag?\n",
		new: "Ja.", quoted: "Den 2026-11-27 kl. 09:00, skrev Ana Lima:"},
	{name: "thunderbird/sv short", text: "Ja.\n\nAna Lima skrev:\n> Ska vi släppa på tisdag?\n",
		new: "Ja.", quoted: "Ana Lima skrev:"},
	{name: "thunderbird/en short", text: "Yes.\n\nAna Lima wrote:\n> Shall we?\n",
		new: "Yes.", quoted: "Ana Lima wrote:"},

	// K-9 Mail and other Android clients.
	{name: "k9", text: "Fine by me.\n\nSent from my Android device with K-9 Mail. Please excuse my brevity.\n\nOn November 27, 2026 9:00:00 AM GMT+01:00, Ana Lima <ana@example.com> wrote:\n>Shall we ship the release on Tuesday?\n",
		new: "Fine by me.", quoted: "On November 27, 2026 9:00:00 AM GMT+01:00", sig: "Sent from my Android device with K-9 Mail. Please excuse my brevity."},
	{name: "android/samsung", text: "Fine by me.\n\nSent from my Galaxy\n\n-------- Original message --------\nFrom: Ana Lima <ana@example.com>\nDate: 27/11/2026 09:00 (GMT+01:00)\nTo: Bo Berg <bo@example.com>\nSubject: Release\n\n" + origEN,
		new: "Fine by me.", quoted: "-------- Original message --------", sig: "Sent from my Galaxy"},

	// Outlook (desktop, web, mobile) writes a header block and leaves the
	// original unmarked below it.
	{name: "outlook/en", text: "Sounds good.\n\nBo\n\nFrom: Ana Lima <ana@example.com>\nSent: Friday, November 27, 2026 9:00 AM\nTo: Bo Berg <bo@example.com>\nSubject: Release\n\n" + origEN,
		new: "Sounds good.\n\nBo", quoted: "From: Ana Lima <ana@example.com>"},
	{name: "outlook/en no blank line", text: "Sounds good.\nBo\nFrom: Ana Lima <ana@example.com>\nSent: Friday, November 27, 2026 9:00 AM\nTo: Bo Berg <bo@example.com>\nSubject: Release\n\n" + origEN,
		new: "Sounds good.\nBo", quoted: "From: Ana Lima <ana@example.com>"},
	{name: "outlook/en cc wrapped", text: "Sounds good.\n\nFrom: Ana Lima <ana@example.com>\nSent: Friday, November 27, 2026 9:00 AM\nTo: Bo Berg <bo@example.com>; Cy <cy@example.com>;\n Dmitri <dmitri@example.com>\nCc: eng@example.com\nSubject: Release\n\n" + origEN,
		new: "Sounds good.", quoted: "From: Ana Lima"},
	{name: "outlook/de", text: "Passt.\n\nVon: Ana Lima <ana@example.com>\nGesendet: Freitag, 27. November 2026 09:00\nAn: Bo Berg <bo@example.com>\nBetreff: Release\n\n" + origDE,
		new: "Passt.", quoted: "Von: Ana Lima"},
	{name: "outlook/fr", text: "Ça marche.\n\nDe : Ana Lima <ana@example.com>\nEnvoyé : vendredi 27 novembre 2026 09:00\nÀ : Bo Berg <bo@example.com>\nObjet : Release\n\nOn livre mardi ?\n",
		new: "Ça marche.", quoted: "De : Ana Lima"},
	{name: "outlook/es", text: "De acuerdo.\n\nDe: Ana Lima <ana@example.com>\nEnviado el: viernes, 27 de noviembre de 2026 9:00\nPara: Bo Berg <bo@example.com>\nAsunto: Release\n\n¿Lo publicamos el martes?\n",
		new: "De acuerdo.", quoted: "De: Ana Lima"},
	{name: "outlook/pt", text: "Combinado.\n\nDe: Ana Lima <ana@example.com>\nEnviado: sexta-feira, 27 de novembro de 2026 09:00\nPara: Bo Berg <bo@example.com>\nAssunto: Release\n\nVamos publicar na terça?\n",
		new: "Combinado.", quoted: "De: Ana Lima"},
	{name: "outlook/nl", text: "Prima.\n\nVan: Ana Lima <ana@example.com>\nVerzonden: vrijdag 27 november 2026 09:00\nAan: Bo Berg <bo@example.com>\nOnderwerp: Release\n\nZullen we dinsdag releasen?\n",
		new: "Prima.", quoted: "Van: Ana Lima"},
	{name: "outlook/sv", text: "Toppen.\n\nFrån: Ana Lima <ana@example.com>\nSkickat: den 27 november 2026 09:00\nTill: Bo Berg <bo@example.com>\nÄmne: Release\n\nSka vi släppa på tisdag?\n",
		new: "Toppen.", quoted: "Från: Ana Lima"},
	{name: "outlook/ja", text: "承知しました。\n\n差出人: Ana Lima <ana@example.com>\n送信日時: 2026年11月27日 9:00\n宛先: Bo Berg <bo@example.com>\n件名: Release\n\n火曜日にリリースしますか？\n",
		new: "承知しました。", quoted: "差出人: Ana Lima"},
	{name: "outlook/zh", text: "好的。\n\n发件人: Ana Lima <ana@example.com>\n发送时间: 2026年11月27日 9:00\n收件人: Bo Berg <bo@example.com>\n主题: Release\n\n我们周二发布吗？\n",
		new: "好的。", quoted: "发件人: Ana Lima"},
	{name: "outlook/zh full-width", text: "好的。\n\n发件人：Ana Lima <ana@example.com>\n发送时间：2026年11月27日 9:00\n收件人：Bo Berg <bo@example.com>\n主题：Release\n\n我们周二发布吗？\n",
		new: "好的。", quoted: "发件人：Ana Lima"},
	{name: "outlook/it", text: "Va bene.\n\nDa: Ana Lima <ana@example.com>\nInviato: venerdì 27 novembre 2026 09:00\nA: Bo Berg <bo@example.com>\nOggetto: Release\n\nRilasciamo martedì?\n",
		new: "Va bene.", quoted: "Da: Ana Lima"},
	{name: "outlook/bold", text: "Yes.\n\n*From:* Ana Lima <ana@example.com>\n*Sent:* Friday, November 27, 2026 9:00 AM\n*To:* Bo Berg <bo@example.com>\n*Subject:* Release\n\n" + origEN,
		new: "Yes.", quoted: "*From:* Ana Lima"},
	{name: "outlook/web rule", text: "Sounds good.\n\n________________________________\nFrom: Ana Lima <ana@example.com>\nSent: Friday, November 27, 2026 9:00 AM\nTo: Bo Berg <bo@example.com>\nSubject: Release\n\n" + origEN,
		new: "Sounds good.", quoted: "________________________________"},
	{name: "outlook/ios", text: "Sounds good.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\nFrom: Ana Lima <ana@example.com>\nSent: Friday, November 27, 2026 9:00:00 AM\nTo: Bo Berg <bo@example.com>\nSubject: Release\n\n" + origEN,
		new: "Sounds good.", quoted: "________________________________", sig: "Get Outlook for iOS<https://aka.ms/o0ukef>"},
	{name: "outlook/android", text: "Sounds good.\n\nSent from Outlook for Android<https://aka.ms/AAb9ysg>\n________________________________\nFrom: Ana Lima <ana@example.com>\nSent: Friday, November 27, 2026 9:00:00 AM\nTo: Bo Berg <bo@example.com>\nSubject: Release\n\n" + origEN,
		new: "Sounds good.", quoted: "________________________________", sig: "Sent from Outlook for Android<https://aka.ms/AAb9ysg>"},
	{name: "outlook/ios de", text: "Passt.\n\nOutlook für iOS beziehen<https://aka.ms/o0ukef>\n________________________________\nVon: Ana Lima <ana@example.com>\nGesendet: Freitag, November 27, 2026 9:00:00 AM\nAn: Bo Berg <bo@example.com>\nBetreff: Release\n\n" + origDE,
		new: "Passt.", quoted: "________________________________", sig: "Outlook für iOS beziehen<https://aka.ms/o0ukef>"},
	{name: "outlook/mac", text: "Yes.\n\nFrom: Ana Lima <ana@example.com>\nDate: Friday, 27 November 2026 at 09:00\nTo: Bo Berg <bo@example.com>\nSubject: Release\n\n" + origEN,
		new: "Yes.", quoted: "From: Ana Lima"},
	{name: "outlook/original message", text: "Agreed.\n\n-----Original Message-----\nFrom: Ana Lima [mailto:ana@example.com]\nSent: Friday, November 27, 2026 9:00 AM\nTo: Bo Berg\nSubject: Release\n\n" + origEN,
		new: "Agreed.", quoted: "-----Original Message-----"},
	{name: "outlook/original message de", text: "Einverstanden.\n\n-----Ursprüngliche Nachricht-----\nVon: Ana Lima <ana@example.com>\nGesendet: Freitag, 27. November 2026 09:00\n\n" + origDE,
		new: "Einverstanden.", quoted: "-----Ursprüngliche Nachricht-----"},
	{name: "outlook/original message fr", text: "D'accord.\n\n-----Message d'origine-----\nDe : Ana Lima\n\nOn livre mardi ?\n", new: "D'accord.", quoted: "-----Message d'origine-----"},
	{name: "outlook/original message es", text: "Vale.\n\n-----Mensaje original-----\nDe: Ana Lima\n\n¿Lo publicamos?\n", new: "Vale.", quoted: "-----Mensaje original-----"},
	{name: "outlook/original message pt", text: "Certo.\n\n-----Mensagem original-----\nDe: Ana Lima\n\nVamos?\n", new: "Certo.", quoted: "-----Mensagem original-----"},
	{name: "outlook/original message nl", text: "Akkoord.\n\n-----Oorspronkelijk bericht-----\nVan: Ana Lima\n\nZullen we?\n", new: "Akkoord.", quoted: "-----Oorspronkelijk bericht-----"},
	{name: "outlook/original message sv", text: "Okej.\n\n-----Ursprungligt meddelande-----\nFrån: Ana Lima\n\nSka vi?\n", new: "Okej.", quoted: "-----Ursprungligt meddelande-----"},
	{name: "outlook/original message ja", text: "了解です。\n\n-----Original Message-----\n差出人: Ana Lima\n\nリリースしますか？\n", new: "了解です。", quoted: "-----Original Message-----"},
	{name: "outlook/original message ja2", text: "了解です。\n\n-----元のメッセージ-----\n差出人: Ana Lima\n\nリリースしますか？\n", new: "了解です。", quoted: "-----元のメッセージ-----"},
	{name: "outlook/original message zh", text: "好的。\n\n-----原始邮件-----\n发件人: Ana Lima\n\n发布吗？\n", new: "好的。", quoted: "-----原始邮件-----"},
	{name: "outlook/original message it", text: "Va bene.\n\n-----Messaggio originale-----\nDa: Ana Lima\n\nRilasciamo?\n", new: "Va bene.", quoted: "-----Messaggio originale-----"},
	{name: "outlook/web rule any language", text: "Sopii.\n\n________________________________\nLähettäjä: Ana Lima <ana@example.com>\nLähetetty: perjantai 27. marraskuuta 2026 9.00\nVastaanottaja: Bo Berg <bo@example.com>\nAihe: Release\n\n" + origEN,
		new: "Sopii.", quoted: "________________________________"},
	{name: "windows mail", text: "OK for Tuesday.\n\nSent from Mail for Windows\n\nFrom: Ana Lima\nSent: Friday, 27 November 2026 09:00\nTo: Bo Berg\nSubject: Release\n\n" + origEN,
		new: "OK for Tuesday.", quoted: "From: Ana Lima", sig: "Sent from Mail for Windows"},

	// Others.
	{name: "proton", text: "Tuesday it is.\n\nSent with Proton Mail secure email.\n\nOn Friday, November 27th, 2026 at 09:00, Ana Lima <ana@example.com> wrote:\n\n" + quote(origEN),
		new: "Tuesday it is.", quoted: "On Friday, November 27th, 2026", sig: "Sent with Proton Mail secure email."},
	{name: "yahoo", text: "Fine.\n\n    On Friday, November 27, 2026, 09:00:00 AM GMT+1, Ana Lima <ana@example.com> wrote:\n\n Shall we ship the release on Tuesday?\n",
		new: "Fine.", quoted: "On Friday, November 27, 2026"},
	{name: "yahoo/de", text: "Passt.\n\n    Am Freitag, 27. November 2026, 09:00:00 MEZ hat Ana Lima <ana@example.com> Folgendes geschrieben:\n\n" + origDE,
		new: "Passt.", quoted: "Am Freitag, 27. November 2026"},
	{name: "unmarked quote below attribution", text: "Agreed.\n\nOn Fri, 27 Nov 2026 at 09:00, Ana Lima <ana@example.com> wrote:\n\nShall we ship the release on Tuesday?\n",
		new: "Agreed.", quoted: "On Fri, 27 Nov 2026"},
}

// shapeCases are the shapes a reply takes, whatever the client.
var shapeCases = []splitCase{
	{name: "no quote", text: "Hi all,\n\nthe build is green again.\n", new: "Hi all,\n\nthe build is green again."},
	{name: "crlf", text: "Yes.\r\n\r\nOn Fri, Nov 27, 2026 at 9:00 AM Ana Lima <ana@example.com> wrote:\r\n\r\n> Shall we?\r\n", new: "Yes.", quoted: "On Fri, Nov 27, 2026"},
	{name: "only a quote", text: "On Fri, Nov 27, 2026 at 9:00 AM Ana Lima <ana@example.com> wrote:\n\n" + quote(origEN), new: "", quoted: "On Fri, Nov 27, 2026"},
	{name: "only a signature", text: "-- \nBo Berg\n", new: "", sig: "-- \nBo Berg"},
	{name: "empty", text: "", new: ""},
	{name: "sig delimiter without space", text: "Done.\n\n--\nBo\n", new: "Done.", sig: "--\nBo"},
	{name: "sign-off dash name", text: "Done, see the log.\n\n-Bo\n", new: "Done, see the log.", sig: "-Bo"},
	{name: "sign-off dash dash name", text: "Done, see the log.\n\n-- Tim\n", new: "Done, see the log.", sig: "-- Tim"},
	{name: "dashed list stays", text: "Steps:\n\n-Move the database\n-Update DNS\n\nThen we are done.\n", new: "Steps:\n\n-Move the database\n-Update DNS\n\nThen we are done."},
	{name: "dashed list at the end stays", text: "Steps:\n\n-Move the database\n-Update DNS\n-Restart the workers\n", new: "Steps:\n\n-Move the database\n-Update DNS\n-Restart the workers"},
	{name: "markdown rule stays", text: "Part one.\n\n---\n\nPart two.\n", new: "Part one.\n\n---\n\nPart two."},
	{name: "sent from a sentence stays", text: "Here it is.\n\nSent from my desk, since the phone is dead.\n", new: "Here it is.\n\nSent from my desk, since the phone is dead."},
	{name: "on without wrote stays", text: "On Friday, 27 Nov 2026 we ship:\n\nthe new importer.\n", new: "On Friday, 27 Nov 2026 we ship:\n\nthe new importer."},
	{name: "header lines in text stay", text: "Plan:\nFrom: Monday on\nTo: the new cluster\nSubject: to review\n", new: "Plan:\nFrom: Monday on\nTo: the new cluster\nSubject: to review"},
	{name: "from line in text stays", text: "From: the team's point of view, yes.\nTo: be decided.\n", new: "From: the team's point of view, yes.\nTo: be decided."},
	{name: "inline reply", text: "On Fri, Nov 27, 2026 at 9:00 AM Ana Lima <ana@example.com> wrote:\n> Shall we ship on Tuesday?\n\nYes.\n\n> And who writes the notes?\n\nI do.\n\n> Ana\n> -- \n> Ana Lima\n",
		new: "On Fri, Nov 27, 2026 at 9:00 AM Ana Lima <ana@example.com> wrote:\n> Shall we ship on Tuesday?\n\nYes.\n\n> And who writes the notes?\n\nI do.", quoted: "> Ana"},
	{name: "quote with trailing signature", text: "Yes.\n\n> Shall we?\n\n-- \nBo\n", new: "Yes.", quoted: "> Shall we?", sig: "-- \nBo"},
	{name: "mailing list footer", text: "Fixed in 1.4.\n\n_______________________________________________\neng mailing list\neng@lists.example.com\n", new: "Fixed in 1.4.", sig: "_______________________________________________\neng mailing list\neng@lists.example.com"},
	{name: "signature then quote then footer", text: "Fixed.\n\n-Bo\n\nOn Fri, Nov 27, 2026 at 9:00 AM Ana wrote:\n> Is it fixed?\n\n_______________\nlist footer\n",
		new: "Fixed.", quoted: "On Fri, Nov 27, 2026", sig: "-Bo"},
}

// digestCases quote our own digest (see digest/testdata/digest.txt).
const digestText = `tidings · Monday 30 November 2026
For Ana Lima: 1 urgent · 2 waiting on you (1 overdue) · 26 updates in 8
threads

== Waiting on you ==

* Release 4.2 — who signs off?
  eng · Bo Berg, Cy · 2 new
  Waiting on you · 2 business days (overdue)

  Cy, Fri 16:20:
    Ping @ana — we would like to tag on Tuesday.

  Bo Berg, Fri 16:45:
    +1, the notes are final from my side.

  Reply [4] · View thread [5] · Mute [6]

________
You get this digest at 09:00 Europe/Berlin, mon-fri. To answer a thread,
use its Reply link: your reply goes to the thread's team.
Unsubscribe [23]

Links:
[4] mailto:eng+ortj6abs3lhlqhrduwaq@example.com?subject=Re:%20Release%204.2
[5] https://tidings.example.com/threads/102
`

var digestCases = []splitCase{
	{name: "digest/gmail", text: "I'll sign off today.\n\nOn Mon, Nov 30, 2026 at 9:00 AM tidings <eng@example.com> wrote:\n\n" + quote(digestText),
		new: "I'll sign off today.", quoted: "On Mon, Nov 30, 2026"},
	{name: "digest/outlook", text: "I'll sign off today.\n\nFrom: tidings <eng@example.com>\nSent: Monday, November 30, 2026 9:00 AM\nTo: Ana Lima <ana@example.com>\nSubject: [tidings] 2 waiting on you · 9 updates · Mon 30 Nov\n\n" + digestText,
		new: "I'll sign off today.", quoted: "From: tidings <eng@example.com>"},
	{name: "digest/pasted", text: "I'll sign off today.\n\n" + digestText, new: "I'll sign off today.", quoted: "tidings · Monday 30 November 2026"},
	{name: "digest/thread pasted", text: "I'll sign off today.\n\n" + digestText[strings.Index(digestText, "* Release"):strings.Index(digestText, "________")],
		new: "I'll sign off today.", quoted: "* Release 4.2"},
	{name: "digest/header lines quoted", text: "I'll sign off today.\n\n> From: tidings <eng@example.com>\n> Date: Mon, 30 Nov 2026 09:00:00 +0100\n> Subject: [tidings] 2 waiting on you\n>\n" + quote(digestText),
		new: "I'll sign off today.", quoted: "> From: tidings"},
	{name: "digest/inline", text: quote(digestText[:strings.Index(digestText, "  Bo Berg")]) + "\nI'll sign off today.\n\n" + quote(digestText[strings.Index(digestText, "  Bo Berg"):]),
		new: strings.TrimSpace(quote(digestText[:strings.Index(digestText, "  Bo Berg")])) + "\n\nI'll sign off today.", quoted: ">   Bo Berg, Fri 16:45:"},
}

func TestSplitReply(t *testing.T) {
	t.Parallel()
	for _, group := range [][]splitCase{clientCases, shapeCases, digestCases} {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				checkSplit(t, tc)
			})
		}
	}
}

func checkSplit(t *testing.T, tc splitCase) {
	t.Helper()
	got := SplitReply(tc.text)
	if got.New != tc.new {
		t.Errorf("New\n got %q\nwant %q", got.New, tc.new)
	}
	if tc.quoted == "" && got.Quoted != "" || !strings.HasPrefix(got.Quoted, tc.quoted) {
		t.Errorf("Quoted\n got %q\nwant it to start with %q", got.Quoted, tc.quoted)
	}
	if got.Signature != tc.sig {
		t.Errorf("Signature\n got %q\nwant %q", got.Signature, tc.sig)
	}
	checkSplitInvariants(t, tc.text, got)
}

// checkSplitInvariants checks what holds for every text: each part is a
// piece of the input (white space aside), New is trimmed, and New has
// nothing more to strip.
func checkSplitInvariants(t *testing.T, text string, got Split) {
	t.Helper()
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	in := norm(text)
	for name, part := range map[string]string{"New": got.New, "Quoted": got.Quoted, "Signature": got.Signature} {
		if part != strings.TrimSpace(part) {
			t.Errorf("%s is not trimmed: %q", name, part)
		}
		if !strings.Contains(in, norm(part)) {
			t.Errorf("%s is not part of the input: %q", name, part)
		}
	}
	if again := SplitReply(got.New); again.New != got.New {
		t.Errorf("SplitReply(New).New = %q, want New unchanged: %q", again.New, got.New)
	}
}
