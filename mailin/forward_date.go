package mailin

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Dates in forwarded header blocks are written for people, in the
// forwarder's language: "Wed, Oct 27, 2021 at 9:31 AM", "26. Oktober 2021
// um 14:25:08 OESZ", "mer. 27 oct. 2021 à 09:31", "ke 27. lokak. 2021 klo
// 9.31", "2022年9月19日月曜日 17:55:44 -0400", "28/10/2021 12:46". parseLooseDate
// reads them by the shape of each word, as lenientDate does for headers,
// with month names in the languages of fwdLabels.

// monthStems are the beginnings of month names and their abbreviations,
// lower case. A word is a month when one of these begins it; the longest
// wins. Where languages disagree ("listopad" is November in Czech and
// Polish, October in Croatian) the larger wins.
var monthStems = map[string]int{
	// English, German, Dutch, the Nordic languages, Estonian, Slovak, Hungarian
	"jan": 1, "jän": 1, "jaan": 1, "feb": 2, "febr": 2, "veebr": 2, "mar": 3, "mär": 3, "mrz": 3, "márc": 3,
	"maart": 3, "mrt": 3, "apr": 4, "ápr": 4, "may": 5, "mai": 5, "mei": 5, "maj": 5, "máj": 5, "jun": 6,
	"jún": 6, "jul": 7, "júl": 7, "aug": 8, "sep": 9, "szep": 9, "okt": 10, "oct": 10, "nov": 11, "dec": 12,
	"dez": 12, "des": 12, "dets": 12,
	// French, Spanish, Portuguese, Italian, Romanian
	"janv": 1, "ene": 1, "gen": 1, "ian": 1, "fév": 2, "fev": 2, "mars": 3, "avr": 4, "abr": 4, "mag": 5,
	"maio": 5, "juin": 6, "giu": 6, "iun": 6, "juil": 7, "lug": 7, "iul": 7, "août": 8, "aout": 8, "ago": 8,
	"set": 9, "ott": 10, "out": 10, "noi": 11, "déc": 12, "dic": 12,
	// Finnish
	"tammi": 1, "helmi": 2, "maalis": 3, "huhti": 4, "touko": 5, "kesä": 6, "heinä": 7, "elo": 8, "syys": 9,
	"loka": 10, "marras": 11, "joulu": 12,
	// Polish
	"sty": 1, "lut": 2, "kwi": 4, "czerw": 6, "lip": 7, "sier": 8, "wrz": 9, "paź": 10, "lis": 11,
	"listopad": 11, "gru": 12,
	// Czech
	"led": 1, "úno": 2, "břez": 3, "dub": 4, "květ": 5, "červen": 6, "červn": 6, "červenc": 7, "srp": 8, "srpen": 8,
	"srpn": 8, "září": 9, "říj": 10, "prosin": 12,
	// Croatian
	"siječ": 1, "velj": 2, "ožu": 3, "trav": 4, "svib": 5, "lipanj": 6, "lipnj": 6, "srpanj": 7, "srpnj": 7,
	"kolovoz": 8, "ruj": 9, "stu": 11, "stud": 11,
	// Turkish
	"oca": 1, "şub": 2, "nis": 4, "haz": 6, "tem": 7, "ağu": 8, "eyl": 9, "eki": 10, "kas": 11, "ara": 12,
	// Russian, Ukrainian
	"янв": 1, "фев": 2, "мар": 3, "апр": 4, "май": 5, "мая": 5, "июн": 6, "июл": 7, "авг": 8, "сен": 9,
	"окт": 10, "ноя": 11, "дек": 12, "січ": 1, "лют": 2, "бер": 3, "квіт": 4, "трав": 5, "черв": 6, "лип": 7,
	"серп": 8, "вер": 9, "жовт": 10, "лист": 11, "груд": 12,
	// Greek
	"ιαν": 1, "φεβ": 2, "μαρ": 3, "απρ": 4, "μαΐ": 5, "μαι": 5, "ιουν": 6, "ιουλ": 7, "αυγ": 8, "σεπ": 9,
	"οκτ": 10, "νοε": 11, "δεκ": 12,
}

// croatianMonths are the stems Croatian reads otherwise than Polish or
// Czech ("listopada" is October in Croatian, November in Polish). Croatian
// dates are told by the dot after the year: "26. listopada 2021. u 14:25".
var croatianMonths = map[string]int{"lis": 10, "listopad": 10, "lip": 6, "srp": 7, "stu": 11}

// maxStemRunes is the length of the longest month stem in runes.
const maxStemRunes = 8

// monthWord reads a month name or abbreviation in any language of
// monthStems and returns the month and the stem that matched; 0 when w is
// none.
func monthWord(w string) (int, string) {
	if utf8.RuneCountInString(w) < 3 {
		return 0, ""
	}
	// The ends of w's first maxStemRunes runes; the longest beginning is
	// tried first.
	var ends [maxStemRunes]int
	n := 0
	for i := range w {
		if i > 0 {
			ends[n] = i
			n++
			if n == maxStemRunes {
				break
			}
		}
	}
	if n < maxStemRunes {
		ends[n] = len(w)
		n++
	}
	for k := n - 1; k >= 0; k-- {
		if m, ok := monthStems[w[:ends[k]]]; ok {
			return m, w[:ends[k]]
		}
	}
	return 0, ""
}

// fwdZones are zone names clients write in other languages (German MEZ,
// OESZ; Czech SEČ), beside the English ones of zones (parse_date.go).
var fwdZones = map[string]int{
	"mez": 1, "mesz": 2, "wez": 0, "wesz": 1, "oez": 2, "oesz": 3, "seč": 1, "selč": 2,
	"hec": 1, "hae": 2, "msd": 4, "eat": 3, "ict": 7, "pht": 8, "wib": 7, "brt": -3, "art": -3, "cat": 2,
	"sast": 2, "nzt": 12, "aet": 10, "pt": -8, "et": -5, "ct": -6, "mt": -7,
}

// zoneWord reads a zone token: +hhmm, GMT+3, UTC-05:00, or a known name.
func zoneWord(t string) (int, bool) {
	if t == "" {
		return 0, false
	}
	if t[0] == '+' || t[0] == '-' || strings.HasPrefix(t, "gmt") || strings.HasPrefix(t, "utc") {
		if t == "gmt" || t == "utc" {
			return 0, true
		}
		if t[0] != '+' && t[0] != '-' && len(t) > 3 && t[3] != '+' && t[3] != '-' {
			return 0, false
		}
		return parseZone(t)
	}
	if off, ok := zones[t]; ok {
		return off * 3600, true
	}
	if off, ok := fwdZones[t]; ok {
		return off * 3600, true
	}
	return 0, false
}

// ampmWord reports a marker of the afternoon (pm) or morning (am).
func ampmWord(t string) (pm, ok bool) {
	switch t {
	case "am", "a.m.", "a.m", "午前", "上午", "오전", "vorm.", "πμ", "π.μ.":
		return false, true
	case "pm", "p.m.", "p.m", "午後", "下午", "오후", "nachm.", "μμ", "μ.μ.":
		return true, true
	}
	return false, false
}

// parseLooseDate reads a date as people write it in many languages and
// returns it in UTC; the zero time when it finds no day, month and year.
// Without a zone the time is read as UTC, and without a time as midnight.
// Day and month written as numbers are read day first, unless AM/PM (the
// American clock) is written or the first cannot be a month.
func parseLooseDate(v string) time.Time {
	if len(v) > 200 {
		return time.Time{}
	}
	s := strings.ToLower(v)
	toks := strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == '(' || r == ')' || r == '[' || r == ']' || r == '，'
	})
	var (
		year, month, day = -1, -1, -1
		hour, min, sec   = -1, 0, 0
		dotH, dotM, dotS = -1, 0, 0 // "9.31", "14.25.08": a time only without a colon time
		offset           int
		haveZone         bool
		pm, havePM       bool
		numDate          []int // a numeric date a/b/c, resolved at the end
		numDateSep       byte
		nums             []int
		yearFirst        bool // a year came before any other number (Hungarian, CJK)
		yearDot          bool // the year was written "2021." (Croatian, Hungarian)
		monthStem        string
	)
	setTime := func(t string) bool {
		h, mi, se, rest, ok := parseClock(t)
		if !ok || h > 24 || mi > 59 || se > 60 {
			return false
		}
		hour, min, sec = h, mi, se
		if rest != "" {
			if p, ok := ampmWord(rest); ok {
				pm, havePM = p, true
			} else if off, ok := zoneWord(rest); ok && !haveZone {
				offset, haveZone = off, true
			}
		}
		return true
	}
	for _, t := range toks {
		// A morning or afternoon marker glued to the time: "下午9:31".
		for _, m := range []string{"上午", "下午", "午前", "午後", "오전", "오후"} {
			if rest, ok := strings.CutPrefix(t, m); ok {
				pm, havePM = m == "下午" || m == "午後" || m == "오후", true
				t = rest
				break
			}
		}
		if t = strings.TrimRight(t, ":;"); t == "" {
			continue
		}
		if y, m, d, ok := cjkDate(t); ok {
			year, month, day = y, m, d
			if len(nums) == 0 {
				yearFirst = true
			}
			continue
		}
		if n, mark, ok := cjkPart(t); ok {
			// "2026년 11월 30일": the parts apart.
			switch mark {
			case "年", "년":
				year, yearFirst = n, len(nums) == 0
			case "月", "월":
				month = n
			case "日", "일":
				day = n
			}
			continue
		}
		switch {
		case len(t) >= 10 && isDigits(t[:4]) && t[4] == '-':
			if tm, ok := parseISO(t); ok {
				return tm
			}
			if y, m, d, ok := parseYMD(t[:10]); ok {
				year, month, day = y, m, d
				if len(t) > 11 && (t[10] == 't' || t[10] == ' ') {
					setTime(t[11:])
				}
			}
			continue
		case strings.IndexByte(t, ':') > 0 && hour < 0 && t[0] >= '0' && t[0] <= '9':
			if setTime(t) {
				continue
			}
		}
		if a, ok := splitNumbers(t); ok {
			switch {
			case len(a) == 3 && (a[0].n >= 1000 || a[2].n >= 1000 || a[1].sep != '.' || year < 0 && a[1].n >= 1 && a[1].n <= 12):
				numDate, numDateSep = []int{a[0].n, a[1].n, a[2].n}, a[1].sep
				if a[0].n >= 1000 {
					numDate = []int{a[2].n, a[1].n, a[0].n} // y-m-d: written back to front, read as d.m.y
					numDateSep = 'y'
				}
			case len(a) == 3 && dotH < 0:
				dotH, dotM, dotS = a[0].n, a[1].n, a[2].n
			case len(a) == 2 && a[1].sep == '.' && a[1].digits == 2 && dotH < 0:
				dotH, dotM = a[0].n, a[1].n
			}
			continue
		}
		if d := strings.TrimRight(t, "."); isDigits(d) {
			n := atoi(d)
			if len(d) == 4 && year < 0 {
				year, yearDot = n, len(d) < len(t)
				if len(nums) == 0 && month < 0 {
					yearFirst = true
				}
			} else {
				nums = append(nums, n)
			}
			continue
		}
		if p, ok := ampmWord(t); ok {
			// "AM" before any time is a word ("Am 28.10. schrieb"), unless
			// it is the Korean or Chinese marker, which comes first.
			if hour >= 0 || dotH >= 0 || t[0] >= utf8.RuneSelf {
				pm, havePM = p, true
			}
			continue
		}
		if off, ok := zoneWord(t); ok && !haveZone {
			offset, haveZone = off, true
			continue
		}
		if m, stem := monthWord(strings.TrimRight(t, ".")); m > 0 {
			month, monthStem = m, stem // the last month word wins: weekdays ("mar", "martes") come first
		}
	}

	if m, ok := croatianMonths[monthStem]; ok && yearDot && !yearFirst {
		month = m
	}
	if numDate != nil && (day < 0 || month < 0) {
		a, b, c := numDate[0], numDate[1], numDate[2]
		switch {
		case numDateSep == 'y':
			day, month = a, b
		case a > 12:
			day, month = a, b
		case b > 12 || havePM:
			day, month = b, a // the American order
		default:
			day, month = a, b
		}
		year = c
	}
	// Day (and month, when no word gave it) among the plain numbers.
	for _, n := range nums {
		switch {
		case month < 0 && yearFirst && n >= 1 && n <= 12:
			month = n
		case day < 0:
			day = n
		case month < 0 && n >= 1 && n <= 12:
			month = n
		case year < 0:
			year = n
		}
	}
	if hour < 0 && dotH >= 0 && dotH <= 24 && dotM <= 59 && dotS <= 60 {
		hour, min, sec = dotH, dotM, dotS
	}
	if hour < 0 {
		hour = 0
	}
	if havePM {
		if hour == 12 {
			hour = 0
		}
		if pm {
			hour += 12
		}
	}
	switch {
	case year >= 0 && year < 50:
		year += 2000
	case year >= 50 && year < 100:
		year += 1900
	}
	if year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 {
		return time.Time{}
	}
	return dateUTC(year, month, day, hour, min, sec, offset)
}

// numPart is one number of a token like "27/10/2021" or "14.25.08".
type numPart struct {
	n      int
	digits int
	sep    byte // the separator before it; 0 for the first
}

// splitNumbers splits a token of two or three numbers joined by "/", "."
// or "-" ("27/10/2021", "27.10.2021.", "9.31"); ok is false for anything
// else.
func splitNumbers(t string) ([]numPart, bool) {
	t = strings.TrimRight(t, ".")
	var out []numPart
	start, sep := 0, byte(0)
	for i := 0; i <= len(t); i++ {
		if i < len(t) && t[i] >= '0' && t[i] <= '9' {
			continue
		}
		if i == start || i-start > 4 {
			return nil, false
		}
		out = append(out, numPart{n: atoi(t[start:i]), digits: i - start, sep: sep})
		if i == len(t) {
			break
		}
		if c := t[i]; c != '/' && c != '.' && c != '-' || len(out) == 3 {
			return nil, false
		}
		sep, start = t[i], i+1
	}
	if len(out) < 2 {
		return nil, false
	}
	return out, true
}

// cjkDate reads "2022年9月19日" (Chinese, Japanese) and "2022년 9월 19일"
// written without spaces; what follows the day (a weekday) is ignored.
func cjkDate(t string) (y, m, d int, ok bool) {
	num := func(s string, mark string) (int, string, bool) {
		i := strings.Index(s, mark)
		if i <= 0 || !isDigits(s[:i]) || i > 4 {
			return 0, s, false
		}
		return atoi(s[:i]), s[i+len(mark):], true
	}
	for _, marks := range [][3]string{{"年", "月", "日"}, {"년", "월", "일"}} {
		if !strings.Contains(t, marks[0]) {
			continue
		}
		rest := t
		if y, rest, ok = num(rest, marks[0]); !ok {
			return 0, 0, 0, false
		}
		if m, rest, ok = num(rest, marks[1]); !ok {
			return 0, 0, 0, false
		}
		if d, _, ok = num(rest, marks[2]); !ok {
			return 0, 0, 0, false
		}
		return y, m, d, true
	}
	return 0, 0, 0, false
}

// cjkPart reads one number with its date mark ("2026년", "11월", "30日").
func cjkPart(t string) (int, string, bool) {
	for _, mark := range []string{"年", "月", "日", "년", "월", "일"} {
		if d, ok := strings.CutSuffix(t, mark); ok && isDigits(d) && len(d) <= 4 {
			return atoi(d), mark, true
		}
	}
	return 0, "", false
}
