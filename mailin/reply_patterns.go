package mailin

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lines mail clients write above a quote and below a reply, in the
// languages teams write in. Go's regexp runs in time linear in its input,
// and no pattern here sees a line longer than maxPatternLine.

// replyWS is white space including the no-break spaces French puts before a
// colon.
const replyWS = `[\s\x{a0}\x{202f}]`

// anchoredAttribution matches a whole attribution line, from its first
// word to its colon: "On Fri, 27 Nov 2026 at 09:00, Ana <ana@example.com>
// wrote:" and its equivalents (Gmail, Apple Mail, Thunderbird, K-9, iOS).
var anchoredAttribution = regexp.MustCompile(`(?i)^(?:` +
	`on\b.{4,}\bwrote|` + // English
	`.+\bwrote` + replyWS + `+on\b.*|` + // Thunderbird: "Ana wrote on 27/11/2026 09:00:"
	`am\b.{4,}\b(?:schrieb\b.*|geschrieben)|` + // German (Yahoo: "… hat Ana Folgendes geschrieben:")
	`le\b.{4,}\ba` + replyWS + `+écrit|` + // French
	`el\b.{4,}\bescribió|` + // Spanish
	`em\b.{4,}\bescreveu|` + // Portuguese
	`op\b.{4,}\b(?:schreef\b.*|geschreven)|` + // Dutch (Gmail; Apple Mail: "heeft … het volgende geschreven")
	`(?:den\b|\d).{4,}\bskrev\b.*|` + // Swedish
	`il\b.{4,}\bha` + replyWS + `+scritto|` + // Italian
	`\d{4}` + replyWS + `*年` + replyWS + `*\d{1,2}` + replyWS + `*月` + replyWS + `*\d{1,2}` + replyWS + `*日.*@.*|` + // Japanese Gmail: "2026年11月27日(金) 9:00 Ana <a@b>:"
	`\d{4}/\d{1,2}/\d{1,2}.*(?:のメール|さんは書きました|さんが書きました)|` + // Japanese Apple Mail, Thunderbird
	`.*(?:さんは書きました|さんが書きました)|` +
	`.*(?:写道|寫道)|` + // Chinese: "在 2026年11月27日 …写道：", "… 於 … 寫道："
	`.*님이` + replyWS + `*작성|` + // Korean
	`.*\b(?:пишет|написал|написала|написал\(а\))` + // Russian
	`)` + replyWS + `*[:：]` + replyWS + `*$`)

// attributionWords are the words (or characters) of which every
// attribution has one, lower case: a cheap test before the pattern.
var attributionWords = []string{
	"wrote", "schrieb", "écrit", "escribió", "escreveu", "schreef", "geschreven", "skrev", "scritto",
	"年", "のメール", "さん", "写道", "寫道", "님이", "пиш", "напис",
}

func hasAttributionWord(s string) bool {
	s = strings.ToLower(s)
	for _, w := range attributionWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// softAttribution matches the shorter lines some clients write above a
// quote ("Ana Lima wrote:", "Ana skrev:", "… <ana@example.com>:"). Only
// taken right above a '>' quote.
var softAttribution = regexp.MustCompile(`(?i)(?:` +
	`\bwrote|\bwrites|\bschrieb\b.*|\ba` + replyWS + `+écrit|\bescribió|\bescreveu|\bschreef\b.*|\bgeschreven|` +
	`\bskrev\b.*|\bha` + replyWS + `+scritto|さんは書きました|さんが書きました|のメール|写道|寫道|님이` + replyWS + `*작성|` +
	`пишет|написал|написала|\(а\)|` +
	`<[^<>@\s]+@[^<>\s]+>` +
	`)` + replyWS + `*[:：]` + replyWS + `*$`)

// originalMessageSep matches Outlook's (and Thunderbird's) separator above
// an unmarked quote, in its languages.
var originalMessageSep = regexp.MustCompile(`(?i)^` + replyWS + `*-{2,}` + replyWS + `*(?:` +
	`original message|ursprüngliche nachricht|originalnachricht|message d'origine|message original|` +
	`mensaje original|mensagem original|oorspronkelijk bericht|origineel bericht|ursprungligt meddelande|` +
	`messaggio originale|元のメッセージ|オリジナル メッセージ|原始邮件|原始郵件|原始信件|邮件原件|` +
	`원본 메시지|исходное сообщение` +
	`)` + replyWS + `*-{2,}` + replyWS + `*$`)

func isOriginalMessage(line string) bool { return originalMessageSep.MatchString(line) }

// Kinds of the fields in a quoted header block.
const (
	qhOther = iota
	qhFrom
	qhDate
)

// quoteHeaderKeys are the field names of the header block Outlook (and Outlook
// for Mac, Thunderbird's "Original Message") writes above a quote, lower
// case, in its languages.
var quoteHeaderKeys = map[string]int{
	// From
	"from": qhFrom, "von": qhFrom, "de": qhFrom, "van": qhFrom, "från": qhFrom, "fra": qhFrom,
	"da": qhFrom, "od": qhFrom, "от": qhFrom, "差出人": qhFrom, "送信者": qhFrom, "发件人": qhFrom,
	"寄件者": qhFrom, "寄件人": qhFrom, "보낸 사람": qhFrom, "expéditeur": qhFrom, "remitente": qhFrom,
	// Sent, Date
	"sent": qhDate, "date": qhDate, "gesendet": qhDate, "datum": qhDate, "envoyé": qhDate,
	"enviado": qhDate, "enviado el": qhDate, "enviada em": qhDate, "fecha": qhDate, "data": qhDate,
	"verzonden": qhDate, "skickat": qhDate, "sendt": qhDate, "inviato": qhDate, "送信日時": qhDate,
	"日付": qhDate, "发送时间": qhDate, "日期": qhDate, "时间": qhDate, "寄件日期": qhDate,
	"보낸 날짜": qhDate, "отправлено": qhDate, "дата": qhDate, "wysłano": qhDate,
	// To, Cc, Subject, …
	"to": qhOther, "an": qhOther, "à": qhOther, "a": qhOther, "para": qhOther, "aan": qhOther,
	"till": qhOther, "til": qhOther, "宛先": qhOther, "收件人": qhOther, "收件者": qhOther,
	"받는 사람": qhOther, "кому": qhOther, "do": qhOther,
	"cc": qhOther, "kopie": qhOther, "kopia": qhOther, "抄送": qhOther, "副本": qhOther, "копия": qhOther,
	"subject": qhOther, "betreff": qhOther, "objet": qhOther, "asunto": qhOther, "assunto": qhOther,
	"onderwerp": qhOther, "ämne": qhOther, "oggetto": qhOther, "件名": qhOther, "主题": qhOther,
	"主旨": qhOther, "제목": qhOther, "тема": qhOther, "temat": qhOther, "emne": qhOther,
	"reply-to": qhOther, "antwort an": qhOther, "répondre à": qhOther, "importance": qhOther,
	"wichtigkeit": qhOther, "priorité": qhOther,
}

// quoteHeaderKey reports whether line is a field of a quoted header block
// ("From: Ana", "*Sent:* Friday", "De : Ana", "差出人: Ana") and its kind.
func quoteHeaderKey(line string) (int, bool) {
	s := strings.TrimLeftFunc(line, func(r rune) bool { return r == '*' || unicode.IsSpace(r) })
	colon := colonWithin(s, 32)
	if colon <= 0 || colon > 24 {
		return 0, false
	}
	key := strings.TrimRight(s[:colon], " \t*\u00a0\u202f")
	_, size := utf8.DecodeRuneInString(s[colon:])
	rest := strings.TrimLeft(s[colon+size:], "*")
	if r, _ := utf8.DecodeRuneInString(rest); rest != "" && size == 1 && !unicode.IsSpace(r) {
		return 0, false // "From:x" is no header line as clients write them
	}
	kind, ok := quoteHeaderKeys[strings.ToLower(key)]
	return kind, ok
}

// headerLabel matches a line of a header block in any language: a label
// of a few words, a colon, a value ("Od: Ana", "*Lähettäjä:* Ana").
var headerLabel = regexp.MustCompile(`^\*{0,2}\p{L}[\p{L}\p{M} .'-]{0,30}\*{0,2}` + replyWS + `?[:：]\*{0,2}(?:` + replyWS + `|$)`)

// quotedDigestTitle matches our digest's first line: "tidings · Monday 30
// November 2026" (digest/render.go formats the date).
var quotedDigestTitle = regexp.MustCompile(`^\S{1,40} · \p{L}+ \d{1,2} \p{L}+ \d{4}$`)

// quotedDigestLinks matches the link line under each thread of our digest.
var quotedDigestLinks = regexp.MustCompile(`^[ \t]*Reply \[\d+\](?: · View thread \[\d+\])?(?: · Mute \[\d+\])?[ \t]*$`)

// replySigPhrase is the line a phone or mail app appends: prefix, then at most
// words words of a device or app name, then suffix. app asks for the
// name's first word to be a known app or device, for phrases that a
// sentence might begin with ("Sent from the office …").
type replySigPhrase struct {
	prefix, suffix string
	words          int
	app            bool
}

var replySigPhrases = []replySigPhrase{
	{prefix: "sent from my ", words: 4},
	{prefix: "sent from ", words: 5, app: true},
	{prefix: "sent with ", words: 5, app: true},
	{prefix: "sent via ", words: 5, app: true},
	{prefix: "sent using ", words: 5, app: true},
	{prefix: "get outlook for ", words: 2},
	{prefix: "von ", suffix: " gesendet", words: 5},
	{prefix: "gesendet von meinem ", words: 4},
	{prefix: "gesendet von ", words: 5, app: true},
	{prefix: "gesendet mit ", words: 6, app: true},
	{prefix: "outlook für ", suffix: " beziehen", words: 2},
	{prefix: "envoyé de mon ", words: 4},
	{prefix: "envoyé depuis mon ", words: 4},
	{prefix: "envoyé de ", words: 5, app: true},
	{prefix: "envoyé depuis ", words: 5, app: true},
	{prefix: "envoyé à partir de ", words: 5, app: true},
	{prefix: "télécharger outlook pour ", words: 2},
	{prefix: "obtenir outlook pour ", words: 2},
	{prefix: "enviado desde mi ", words: 4},
	{prefix: "enviado desde ", words: 5, app: true},
	{prefix: "obtener outlook para ", words: 2},
	{prefix: "enviado do meu ", words: 4},
	{prefix: "enviado de meu ", words: 4},
	{prefix: "enviado do ", words: 5, app: true},
	{prefix: "obter o outlook para ", words: 2},
	{prefix: "obtenha o outlook para ", words: 2},
	{prefix: "verzonden vanaf mijn ", words: 4},
	{prefix: "verstuurd vanaf mijn ", words: 4},
	{prefix: "verzonden met ", words: 5, app: true},
	{prefix: "verstuurd met ", words: 5, app: true},
	{prefix: "outlook voor ", suffix: " downloaden", words: 2},
	{prefix: "skickat från min ", words: 4},
	{prefix: "skickat från ", words: 5, app: true},
	{prefix: "hämta outlook för ", words: 2},
	{prefix: "inviato dal mio ", words: 4},
	{prefix: "inviato da ", words: 5, app: true},
	{prefix: "scarica outlook per ", words: 2},
	{suffix: "から送信", words: 4, app: true},
	{prefix: "outlook for ", suffix: " を入手", words: 2},
	{prefix: "outlook for ", suffix: "を入手", words: 2},
	{prefix: "从我的", suffix: "发送", words: 3},
	{prefix: "从我的", suffix: "發送", words: 3},
	{prefix: "發自我的", words: 3},
	{prefix: "发自我的", words: 3},
	{prefix: "寄自我的", words: 3},
	{prefix: "來自我的", words: 3},
	{prefix: "从", suffix: "发送", words: 3, app: true},
}

// sigStarts are the first bytes (ASCII lower-cased) of the phrases'
// prefixes, and sigEnds the phrases with no prefix: a line neither starting
// with one nor holding the other is no phone's line, which spares lower-
// casing every line of every message.
var sigStarts, sigEnds = func() (starts [256]bool, ends []string) {
	for _, p := range replySigPhrases {
		if p.prefix == "" {
			ends = append(ends, p.suffix)
			continue
		}
		starts[p.prefix[0]] = true
	}
	starts['s'] = true // K-9's "sent from my android …"
	return starts, ends
}()

// mayBeMobileSignature is the cheap test before isMobileSignature's own.
func mayBeMobileSignature(s string) bool {
	c := s[0]
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	if sigStarts[c] {
		return true
	}
	for _, e := range sigEnds {
		if strings.Contains(s, e) {
			return true
		}
	}
	return false
}

// replySigApps are the first words of app and device names after "Sent from",
// "Enviado desde" and the like.
var replySigApps = map[string]bool{
	"outlook": true, "mail": true, "yahoo": true, "gmail": true, "proton": true, "protonmail": true,
	"aol": true, "samsung": true, "galaxy": true, "bluemail": true, "spark": true, "windows": true,
	"zoho": true, "iphone": true, "ipad": true, "android": true, "blackberry": true, "huawei": true,
	"xiaomi": true, "fairemail": true, "k-9": true, "superhuman": true, "thunderbird": true,
	"edison": true, "newton": true, "airmail": true, "tutanota": true, "tuta": true, "fastmail": true,
	"der": true, "web.de": true, "gmx": true, "libero": true, "mobile": true, "my": true, "mi": true,
	"meu": true, "mijn": true, "min": true, "mon": true, "ios": true, "pixel": true,
}

// isMobileSignature reports the line a phone or mail app appends to what
// it sends: "Sent from my iPhone", "Von meinem iPhone gesendet",
// "iPhoneから送信", "Get Outlook for iOS<https://aka.ms/o0ukef>", K-9's
// "Sent from my Android device with K-9 Mail. Please excuse my brevity."
// A sentence that starts alike ("Sent from my desk, which …") is not one.
func isMobileSignature(line string) bool {
	s := strings.TrimSpace(line)
	if len(s) < 4 || len(s) > 160 || !mayBeMobileSignature(s) {
		return false
	}
	s = strings.ToLower(s)
	// A link the app adds: "Get Outlook for iOS<https://aka.ms/o0ukef>".
	for _, br := range []string{"<>", "()"} {
		if strings.HasSuffix(s, br[1:]) {
			if i := strings.LastIndex(s, br[:1]); i > 0 {
				s = strings.TrimSpace(s[:i])
			}
		}
	}
	if strings.Contains(s, "k-9 mail") && (strings.HasPrefix(s, "sent from my android") || strings.HasPrefix(s, "sent from my phone")) {
		return true
	}
	s = strings.TrimRight(s, ".!。 ")
	for _, p := range replySigPhrases {
		if !strings.HasPrefix(s, p.prefix) || !strings.HasSuffix(s, p.suffix) || len(s) < len(p.prefix)+len(p.suffix) {
			continue
		}
		mid := strings.TrimSpace(s[len(p.prefix) : len(s)-len(p.suffix)])
		if mid == "" || strings.ContainsAny(mid, ",;:!?\"()[]") {
			continue
		}
		words := strings.Fields(mid)
		if len(words) > p.words {
			continue
		}
		if p.app && !replySigApps[words[0]] && !replySigApps[strings.TrimRight(words[0], "0123456789")] &&
			!strings.HasPrefix(words[0], "iphone") && !strings.HasPrefix(words[0], "ipad") {
			continue
		}
		return true
	}
	return false
}
