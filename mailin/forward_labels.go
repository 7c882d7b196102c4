package mailin

import (
	"sort"
	"strings"
)

// The words mail clients write around an inline forward, in the languages
// they are localised to. All lower case; see normLabel and normPhrase for
// how text is brought to this form before it is looked up.

// fwdField is what a line of a forwarded header block gives.
type fwdField int

const (
	fieldNone fwdField = iota
	fieldFrom
	fieldTo
	fieldCc
	fieldDate // Date, and Outlook's Sent
	fieldSubject
	fieldOther // Reply-To, Bcc, Importance …: part of the block, not read
)

// fwdLabels maps the labels of a forwarded header block to their field;
// fwdLabelsByLen are its keys, longest first, and maxLabelLen the longest
// in bytes. Built once and only read.
var (
	fwdLabels      = buildLabels()
	fwdLabelsByLen = labelsByLen(fwdLabels)
	maxLabelLen    = len(fwdLabelsByLen[0])
	labelsByFirst  = indexLabels(fwdLabelsByLen)
)

// indexLabels files the labels (longest first) under their first byte.
func indexLabels(labels []string) [256][]string {
	var idx [256][]string
	for _, l := range labels {
		idx[l[0]] = append(idx[l[0]], l)
	}
	return idx
}

func buildLabels() map[string]fwdField {
	m := map[string]fwdField{}
	add := func(f fwdField, labels ...string) {
		for _, l := range labels {
			m[l] = f
		}
	}
	add(fieldFrom, "from", "von", "de", "da", "van", "fra", "från", "od", "feladó", "lähettäjä", "от", "від",
		"від кого", "kimden", "gönderen", "šalje", "expeditorul", "expeditor", "de la", "saatja", "nadawca",
		"mittente", "送信元", "差出人", "发件人", "寄件者", "寄件人", "보낸 사람", "afzender", "avsändare", "absender",
		"expéditeur", "remitente", "remetente", "odesílatel", "odosielateľ", "αποστολέας", "από", "sender",
		"відправник", "отправитель", "pošiljatelj", "pošiljalac")
	add(fieldTo, "to", "an", "à", "a", "para", "aan", "til", "till", "do", "komu", "címzett", "vastaanottaja",
		"кому", "kime", "prima", "destinatarul", "destinatar", "către", "adresat", "adresaci", "pour", "送信先",
		"宛先", "收件人", "收件者", "받는 사람", "saaja", "pre", "destinatario", "destinatari", "destinatário",
		"empfänger", "ontvanger", "mottagare", "modtager", "mottaker", "προς", "recipient", "recipients",
		"одержувач", "получатель", "primatelj")
	add(fieldCc, "cc", "kopie", "kopie (cc)", "kopie an", "kopia", "kopi", "kopio", "kópia", "másolat",
		"másolatot kap", "копия", "копія", "bilgi", "dw", "copie à", "copie", "copia", "cópia", "抄送", "副本",
		"참조", "κοιν", "cc (kopie)", "kopia do", "kopija")
	add(fieldDate, "date", "datum", "fecha", "data", "dato", "päivämäärä", "päiväys", "dátum", "дата", "tarih",
		"dată", "日付", "日期", "날짜", "kuupäev", "ημερομηνία", "sent", "sent at", "gesendet", "envoyé", "enviado",
		"enviada", "inviato", "verzonden", "skickat", "sendt", "lähetetty", "odesláno", "odoslané", "wysłano",
		"wysłane", "elküldve", "отправлено", "відправлено", "надіслано", "gönderilen", "gönderildi",
		"gönderme tarihi", "trimis", "poslano", "послано", "saadetud", "送信日時", "发送时间", "發送時間",
		"傳送時間", "寄件日期", "보낸 날짜", "στάλθηκε", "data e hora", "datum en tijd", "enviado el",
		"enviada el", "enviado em", "enviada em", "inviato il", "envoyé le", "gesendet am")
	add(fieldSubject, "subject", "betreff", "objet", "asunto", "assunto", "oggetto", "onderwerp", "emne", "ämne",
		"temat", "předmět", "predmet", "tárgy", "aihe", "тема", "konu", "subiectul", "subiect", "naslov",
		"sujet", "件名", "主题", "主旨", "제목", "teema", "θέμα", "tema")
	add(fieldOther, "reply-to", "antwort an", "répondre à", "responder a", "rispondi a", "antwoord aan",
		"svara till", "svar til", "bcc", "bkopie", "cco", "ccn", "blindkopie", "udw", "importance",
		"wichtigkeit", "priority", "priorität", "attachments", "anlagen", "anhang", "pièces jointes",
		"importancia", "datos adjuntos", "allegati", "bijlagen", "bilagor", "vedhæftede filer", "liitteet",
		"załączniki", "přílohy", "mellékletek", "вложения", "ekler", "添付ファイル", "附件", "organization",
		"organisation", "message-id")
	return m
}

// labelsByLen lists the labels longest first, so that "Data:" is not read
// as "Da" and a stray "ta:".
func labelsByLen(m map[string]fwdField) []string {
	out := make([]string, 0, len(m))
	for l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// fwdKeywords mark the phrase of a separator line as a forward's:
// "---------- Forwarded message ---------", "Begin forwarded message:",
// "-------- Weitergeleitete Nachricht --------", "Début du message
// réexpédié :" and their kin. A phrase is taken when it contains one.
var fwdKeywords = []string{
	"forward", "fwd", "weitergeleitet", "transféré", "transfere", "réexpédié", "reexpedie", "reenviado",
	"encaminhad", "inoltrat", "doorgestuurd", "vidarebefordra", "videresend", "edelleenlähet", "välitet",
	"przekaza", "przekazyw", "przesłan", "přeposla", "přeposíla", "preposla", "továbbított", "redirecționat",
	"redirecţionat", "redirectionat", "message transmis", "пересыла", "переслан", "переадрес", "перенаправл",
	"пересила", "iletil", "ileti başlangıcı", "proslijeđen", "proslijeđen", "転送", "转发", "轉寄", "轉發",
	"전달", "edastatud", "προωθ",
}

// origKeywords mark "-----Original Message-----" and its translations:
// what Outlook writes above both forwards and replies.
var origKeywords = []string{
	"original", "origine", "ursprüngl", "oorspronkelijk", "ursprungligt", "oprindelig", "opprinnelig",
	"alkuperäinen", "původní", "pôvodn", "oryginaln", "eredeti", "исходн", "оригинал", "вихідн", "orijinal",
	"izvorn", "元のメッセージ", "原始", "원본", "αρχικό", "algne",
}

// wroteWords end the attribution line of a quoted reply ("On … wrote:",
// "Am … schrieb …:", "Le … a écrit :").
var wroteWords = []string{
	"wrote", "writes", "schrieb", "a écrit", "escribió", "escreveu", "ha scritto", "scrisse", "schreef",
	"geschreven", "skrev", "kirjoitti", "napsal", "napísal", "napisał", "napisal", "írta", "написал",
	"написала", "написав", "yazdı", "a scris", "kirjutas", "έγραψε", "写道", "寫道", "のメッセージ", "작성",
}

// fwdPrefixes are the subject prefixes, lower case and without the colon,
// that say a mail is a forward: English (Fwd, Fw), German (WG), French
// (TR), Spanish and Portuguese (RV, Enc, Reenv), Dutch (Doorst,
// Doorgestuurd), the Nordic languages (VS, VB, VL, Videresend), Italian
// (I, Inoltro), Polish (PD), Czech (Přeposlat), Romanian (Redir), Turkish
// (İLT), Greek (ΠΡΘ), Russian (Пересл), Chinese (转发, 轉寄, 轉發),
// Japanese (転送) and Korean (전달).
var fwdPrefixes = map[string]bool{
	"fwd": true, "fw": true, "wg": true, "tr": true, "rv": true, "enc": true, "reenv": true, "doorst": true,
	"doorgestuurd": true, "vs": true, "vb": true, "vl": true, "videresend": true, "i": true, "inoltro": true,
	"pd": true, "přeposlat": true, "redir": true, "ilt": true, "πρθ": true, "пересл": true, "转发": true,
	"轉寄": true, "轉發": true, "転送": true, "전달": true, "weiterleitung": true, "továbbítás": true,
}

// replyPrefix reports whether a subject prefix says reply: the markers of
// replyPrefixes (subject.go) that are not forward markers.
func replyPrefix(word string) bool {
	return replyPrefixes[word] && !fwdPrefixes[word]
}

// normLabel brings the label of a header line to the form of fwdLabels:
// lower case, emphasis ("*From:*") and spare white space removed.
func normLabel(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '*', '\u0307': // bold markers; the dot lower-casing "İ" leaves
			return -1
		case '\t', '\u00a0':
			return ' '
		}
		return r
	}, strings.ToLower(s))
	return strings.Join(strings.Fields(s), " ")
}

// containsAny reports whether s contains one of words.
func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
