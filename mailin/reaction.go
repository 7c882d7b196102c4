package mailin

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultReactionWords are the acknowledgements that make a reply a
// reaction when no list is configured: lower case, in English, German,
// French, Spanish, Portuguese, Dutch, Swedish, Italian, Japanese and
// Chinese. Emoji, "+1" and "-1" always count and need no entry. Treat it
// as read-only: IsReaction never changes its words argument.
var DefaultReactionWords = []string{
	// English
	"thanks", "thank you", "thanks a lot", "thanks so much", "thank you so much", "many thanks",
	"thx", "ty", "tysm", "cheers", "got it", "agreed", "agree", "lgtm", "sgtm", "sounds good",
	"ack", "ok", "okay", "k", "kk", "noted", "will do", "great", "perfect", "awesome", "nice",
	"cool", "roger", "looks good", "looks good to me", "sounds great", "makes sense", "yep",
	"thanks all", "thanks everyone", "thank you all", "great work", "nice work", "well done",
	// German
	"danke", "danke schön", "dankeschön", "danke sehr", "vielen dank", "besten dank",
	"alles klar", "einverstanden", "verstanden", "passt", "klingt gut", "geht klar", "super",
	"prima", "top", "gut", "sehr gut",
	// French
	"merci", "merci beaucoup", "merci bien", "mille mercis", "d'accord", "d'acc",
	"parfait", "entendu", "bien reçu", "reçu", "ça marche", "génial", "très bien", "nickel",
	// Spanish
	"gracias", "muchas gracias", "mil gracias", "de acuerdo", "vale", "perfecto", "genial",
	"entendido", "recibido", "muy bien",
	// Portuguese
	"obrigado", "obrigada", "muito obrigado", "muito obrigada", "valeu", "combinado",
	"beleza", "perfeito", "de acordo", "certo", "recebido", "ótimo",
	// Dutch
	"bedankt", "dank je", "dank je wel", "dankjewel", "dank u", "dank u wel", "dankuwel",
	"akkoord", "helder", "duidelijk", "klinkt goed", "begrepen", "oké",
	// Swedish
	"tack", "tack så mycket", "tusen tack", "tackar", "okej", "toppen", "perfekt",
	"uppfattat", "låter bra", "kanon",
	// Italian
	"grazie", "grazie mille", "d'accordo", "perfetto", "ricevuto", "va bene", "ottimo",
	// Japanese
	"ありがとう", "ありがとうございます", "ありがとうございました", "どうも", "了解", "了解です",
	"了解しました", "承知しました", "承知いたしました", "かしこまりました", "いいね", "オッケー",
	// Chinese
	"谢谢", "谢谢你", "多谢", "感谢", "謝謝", "謝謝你", "多謝", "感謝", "好的", "好", "收到",
	"明白", "同意", "没问题", "沒問題", "赞", "讚", "可以",
}

// Limits of a reaction: an acknowledgement is short.
const (
	maxReactionBytes   = 300
	maxReactionPhrases = 4
)

// IsReaction reports whether newText (a reply's new text, see SplitReply)
// is only an acknowledgement: emoji alone (with skin tones, ZWJ
// sequences, flags, keycaps), ":+1:"-style short codes and reactionEmoticons,
// "+1", "-1", or up to four of words in a row ("ok, thanks!"), compared
// without regard to case, with punctuation such as ! . , and emoji around
// them. A question mark or any other word makes it a message: "Thanks for
// the writeup, I'll review tomorrow" and "ok but what about Friday?" are
// not reactions. Quotes that a reply below them keeps as context are not
// read ("> Shall we?\n\n+1" is a reaction). One name signing it off is
// allowed, on its own last line
// ("thanks!\n\nBo") or after a comma ("Thanks, Ana"), when the name is
// capitalised and neither a weekday, a month, nor one of words.
func IsReaction(newText string, words []string) bool {
	return Reaction(newText, words) != ""
}

// Reaction returns the short form of a reaction as digests show it, or
// "" when newText is no reaction (see IsReaction): "👍" for "+1" and
// ":+1:", "👎" for "-1", the first emoji as written when there are only
// emoji, otherwise the acknowledgement as written, without its sign-off,
// its white space collapsed ("Thanks!", "LGTM 👍").
func Reaction(newText string, words []string) string {
	s := ownText(newText)
	if s == "" || len(s) > maxReactionBytes || !utf8.ValidString(s) {
		return ""
	}
	ack := stripSignOff(s, words)
	toks, ok := reactionTokens(ack)
	if !ok || len(toks) == 0 {
		return ""
	}
	var text []string
	first := ""
	for _, tk := range toks {
		switch tk.kind {
		case reactTokWord:
			text = append(text, tk.text)
		default:
			if first == "" {
				first = tk.short
			}
		}
	}
	if len(text) > 0 {
		if !reactionCovered(text, words) {
			return ""
		}
		return strings.Join(strings.Fields(ack), " ")
	}
	return first
}

// ReplyCommand returns "mute", "unmute" or "follow" when the whole of
// newText is that word (in any case, with white space and punctuation
// around it; quotes kept as context aside), else "".
func ReplyCommand(newText string) string {
	s := strings.TrimFunc(ownText(newText), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r)
	})
	switch w := strings.ToLower(s); w {
	case "mute", "unmute", "follow":
		return w
	}
	return ""
}

// Kinds of reaction tokens.
const (
	reactTokWord = iota
	reactTokEmoji
)

type reactionToken struct {
	kind  int
	text  string // reactTokWord: lower case
	short string // reactTokEmoji: what Reaction shows for it
}

// reactionEmoticons and short codes that stand for an emoji, and what a digest
// shows for them.
var reactionEmoticons = []struct{ text, emoji string }{
	{":thumbsup:", "👍"}, {":thumbsdown:", "👎"}, {":+1:", "👍"}, {":-1:", "👎"},
	{":-)", "🙂"}, {":)", "🙂"}, {":-D", "😄"}, {":D", "😄"}, {";-)", "😉"}, {";)", "😉"},
	{"<3", "❤️"}, {"^^", "😊"}, {"^_^", "😊"},
}

// reactionShortCodes are common ":name:" codes (GitHub, Slack); others are shown
// as written.
var reactionShortCodes = map[string]string{
	"tada": "🎉", "heart": "❤️", "smile": "😄", "pray": "🙏", "clap": "👏", "rocket": "🚀",
	"100": "💯", "white_check_mark": "✅", "eyes": "👀", "ok_hand": "👌", "fire": "🔥",
	"raised_hands": "🙌", "muscle": "💪", "slightly_smiling_face": "🙂", "joy": "😂",
}

// reactionTokens cuts s into words and emoji, dropping the punctuation an
// acknowledgement may carry; ok is false when s holds anything else (a
// question mark, a number, a symbol).
func reactionTokens(s string) ([]reactionToken, bool) {
	var toks []reactionToken
	for i := 0; i < len(s); {
		rest := s[i:]
		if tk, n := reactionEmoticonAt(rest); n > 0 {
			toks = append(toks, tk)
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(rest)
		switch {
		case (r == '+' || r == '-') && strings.HasPrefix(rest[1:], "1") && !reactionContinues(rest[2:]) && (i == 0 || !reactionContinuesBefore(s[:i])):
			e := "👍"
			if r == '-' {
				e = "👎"
			}
			toks = append(toks, reactionToken{kind: reactTokEmoji, short: e})
			i += 2
		case isReactionEmojiStart(rest):
			n := reactionEmojiCluster(rest)
			toks = append(toks, reactionToken{kind: reactTokEmoji, short: rest[:n]})
			i += n
		case unicode.IsLetter(r):
			n := reactionWordLen(rest)
			toks = append(toks, reactionToken{kind: reactTokWord, text: strings.ToLower(rest[:n])})
			i += n
		case unicode.IsSpace(r) || strings.ContainsRune("!¡.,…~;:-–—*_\"'“”„«»！。，、～·()（）「」『』", r):
			i += size
		default:
			return nil, false
		}
	}
	return toks, true
}

func reactionEmoticonAt(s string) (reactionToken, int) {
	for _, e := range reactionEmoticons {
		if strings.HasPrefix(s, e.text) && !reactionContinues(s[len(e.text):]) {
			return reactionToken{kind: reactTokEmoji, short: e.emoji}, len(e.text)
		}
	}
	if len(s) > 2 && s[0] == ':' {
		end := strings.IndexByte(s[1:], ':')
		if end > 0 && end <= 30 {
			code := s[1 : 1+end]
			if strings.Trim(code, "abcdefghijklmnopqrstuvwxyz0123456789_+-") == "" {
				short, ok := reactionShortCodes[code]
				if !ok {
					short = s[:end+2]
				}
				return reactionToken{kind: reactTokEmoji, short: short}, end + 2
			}
		}
	}
	return reactionToken{}, 0
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// reactionContinues reports whether s starts with a letter or digit: "+1"
// must not be the start of "+10" or "+1st".
func reactionContinues(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func reactionContinuesBefore(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// reactionWordLen is the length of the word at the start of s: letters, marks and
// digits, with an apostrophe or hyphen inside ("d'accord", "k-9").
func reactionWordLen(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		switch {
		case unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r):
			n += size
		case (r == '\'' || r == '’' || r == '-') && n > 0 && reactionContinues(s[n+size:]):
			n += size
		default:
			return n
		}
	}
	return n
}

// isReactionEmojiStart reports whether s starts with an emoji: a pictograph, a
// regional indicator (flags) or a keycap ("1️⃣").
func isReactionEmojiStart(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	if isEmojiPictograph(r) {
		return true
	}
	if r >= '0' && r <= '9' || r == '#' || r == '*' {
		rest := strings.TrimPrefix(s[size:], "\ufe0f")
		return strings.HasPrefix(rest, "\u20e3")
	}
	return false
}

// isEmojiPictograph reports the code points that are emoji on their own
// (Unicode's Extended_Pictographic, roughly, and regional indicators).
func isEmojiPictograph(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, // reactionEmoticons, symbols, flags' regional indicators, skin tones
		r >= 0x2600 && r <= 0x27BF, // miscellaneous symbols, dingbats (☀ ✅ ❤)
		r >= 0x2300 && r <= 0x23FF, // ⌚ ⏰
		r >= 0x2B00 && r <= 0x2BFF, // ⭐ ⬆
		r >= 0x2190 && r <= 0x21FF, // arrows
		r == 0x00A9, r == 0x00AE, r == 0x203C, r == 0x2049, r == 0x2122, r == 0x2139,
		r == 0x24C2, r >= 0x25AA && r <= 0x25FE, r == 0x2934, r == 0x2935,
		r == 0x3030, r == 0x303D, r == 0x3297, r == 0x3299:
		return true
	}
	return false
}

// reactionEmojiCluster is the length of the emoji sequence at the start of s: the
// pictograph with its variation selector, skin tone, keycap mark, tag
// characters (subdivision flags) and ZWJ-joined followers.
func reactionEmojiCluster(s string) int {
	r, n := utf8.DecodeRuneInString(s)
	if isRegionalIndicator(r) {
		// A flag is a pair of them.
		if r2, size := utf8.DecodeRuneInString(s[n:]); isRegionalIndicator(r2) {
			n += size
		}
	}
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		switch {
		case r == 0xFE0F || r == 0xFE0E || r == 0x20E3 || r >= 0x1F3FB && r <= 0x1F3FF || r >= 0xE0020 && r <= 0xE007F:
			n += size
		case r == 0x200D:
			n += size
			if n < len(s) {
				r2, size2 := utf8.DecodeRuneInString(s[n:])
				if isEmojiPictograph(r2) {
					n += size2
				}
			}
		default:
			return n
		}
	}
	return n
}

// reactionCovered reports whether the words in a row are one to
// maxReactionPhrases of the acknowledgements in list. A run of CJK text
// ("好的谢谢") may be several of them without spaces between.
func reactionCovered(text []string, list []string) bool {
	phrases := make([][]string, 0, len(list))
	single := make(map[string]bool, len(list))
	for _, w := range list {
		toks, ok := reactionTokens(strings.TrimSpace(w))
		if !ok {
			continue
		}
		var p []string
		for _, tk := range toks {
			if tk.kind == reactTokWord {
				p = append(p, tk.text)
			}
		}
		if len(p) == 0 {
			continue
		}
		phrases = append(phrases, p)
		if len(p) == 1 {
			single[p[0]] = true
		}
	}
	// least[i] is the fewest phrases that cover text[i:], or -1.
	least := make([]int, len(text)+1)
	for i := len(text) - 1; i >= 0; i-- {
		least[i] = -1
		try := func(next, cost int) {
			if next <= len(text) && least[next] >= 0 && cost > 0 {
				if c := least[next] + cost; least[i] < 0 || c < least[i] {
					least[i] = c
				}
			}
		}
		for _, p := range phrases {
			if len(p) <= len(text)-i && reactionEqualWords(p, text[i:i+len(p)]) {
				try(i+len(p), 1)
			}
		}
		if least[i] < 0 {
			try(i+1, reactionSplitCJK(text[i], single))
		}
	}
	return least[0] > 0 && least[0] <= maxReactionPhrases
}

func reactionEqualWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// reactionSplitCJK returns the fewest single-word phrases that make up w, a word
// written without spaces, or 0.
func reactionSplitCJK(w string, single map[string]bool) int {
	if len(w) > 120 {
		return 0
	}
	least := make([]int, len(w)+1) // over byte offsets at rune starts
	for i := len(w) - 1; i >= 0; i-- {
		if !utf8.RuneStart(w[i]) {
			continue
		}
		for j := i + 1; j <= len(w); j++ {
			if j < len(w) && !utf8.RuneStart(w[j]) {
				continue
			}
			if (j == len(w) || least[j] > 0) && single[w[i:j]] {
				c := 1
				if j < len(w) {
					c += least[j]
				}
				if least[i] == 0 || c < least[i] {
					least[i] = c
				}
			}
		}
	}
	return least[0]
}

// stripSignOff removes one name signing an acknowledgement off: a last
// line of its own ("Bo", "-Ana Lima") or a name after the last comma
// ("Thanks, Ana"). A weekday, a month or an acknowledgement is no name:
// "ok\nFriday" stays as it is, and is then no reaction.
func stripSignOff(s string, words []string) string {
	if i := strings.LastIndexByte(s, '\n'); i > 0 {
		if isSignOffName(s[i+1:], words) {
			return strings.TrimSpace(s[:i])
		}
		return s
	}
	if i := strings.LastIndexAny(s, ",，"); i > 0 {
		_, size := utf8.DecodeRuneInString(s[i:])
		name := strings.TrimRightFunc(s[i+size:], func(r rune) bool {
			return unicode.IsSpace(r) || r == '!' || r == '.' || isEmojiPictograph(r) || r == 0xFE0F || r >= 0x1F3FB && r <= 0x1F3FF
		})
		if len(strings.Fields(name)) == 1 && isSignOffName(name, words) {
			return strings.TrimSpace(s[:i])
		}
	}
	return s
}

// signOffNotNames are capitalised words that answer rather than sign: weekdays,
// days and months in the languages of DefaultReactionWords, yes and no.
var signOffNotNames = reactionWordSet(`monday tuesday wednesday thursday friday saturday sunday
	mon tue tues wed thu thur thurs fri sat sun today tomorrow tonight yesterday
	january february march april may june july august september october november december
	montag dienstag mittwoch donnerstag freitag samstag sonntag heute morgen
	lundi mardi mercredi jeudi vendredi samedi dimanche demain
	lunes martes miércoles jueves viernes sábado domingo mañana hoy
	segunda terça quarta quinta sexta amanhã hoje
	maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
	måndag tisdag onsdag torsdag fredag lördag söndag imorgon idag
	lunedì martedì mercoledì giovedì venerdì sabato domenica domani oggi
	yes no nope sure maybe`)

func reactionWordSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// isSignOffName reports a name of one or two capitalised words, with an
// optional dash before it.
func isSignOffName(s string, words []string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "-–—~ ")
	if s == "" || utf8.RuneCountInString(s) > 30 {
		return false
	}
	f := strings.Fields(s)
	if len(f) > 2 {
		return false
	}
	for _, w := range f {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) {
			return false
		}
		for _, c := range w {
			if !unicode.IsLetter(c) && c != '.' && c != '-' && c != '\'' && c != '’' {
				return false
			}
		}
		lw := strings.ToLower(strings.TrimRight(w, "."))
		if signOffNotNames[lw] {
			return false
		}
		for _, x := range words {
			if strings.EqualFold(strings.TrimSpace(x), lw) {
				return false
			}
		}
	}
	return true
}
