package mailin

import (
	netmail "net/mail"
	"strconv"
	"strings"
	"time"
)

// parseDate reads a date-time (RFC 5322 §3.3 and the obsolete syntax of
// §4.3) with net/mail and returns it in UTC, or the zero time when no date
// can be made of v.
func parseDate(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	// The form nearly all mail uses first: net/mail.ParseDate reaches it
	// after 24 other layouts, each failure an allocated error.
	if t, err := time.Parse("Mon, 2 Jan 2006 15:04:05 -0700", v); err == nil {
		return t.UTC()
	}
	if f := strings.Fields(stripComments(v)); len(f) > 1 && isLetters(f[len(f)-1][:1]) {
		// net/mail reads a zone name it does not know as UTC, and one the
		// machine's zone knows in that zone's meaning ("CST" is +8 in
		// Shanghai): §4.3 gives the names their offsets, so the name is
		// replaced by its offset.
		if off, ok := parseZone(f[len(f)-1]); ok {
			v = strings.Join(f[:len(f)-1], " ") + " " + numericZone(off)
		}
	}
	t, err := netmail.ParseDate(v)
	if err != nil {
		return lenientDate(v)
	}
	if y := t.Year(); y >= 2050 && y < 2069 && !strings.Contains(v, strconv.Itoa(y)) {
		// A two-digit year 50-68 is 19xx (§4.3); net/mail makes it 20xx.
		t = t.AddDate(-100, 0, 0)
	}
	return t.UTC()
}

// numericZone writes an offset in seconds as +hhmm.
func numericZone(off int) string {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	hhmm := off/3600*100 + off%3600/60
	return string(sign) + strconv.Itoa(10000 + hhmm)[1:]
}

// lenientDate is the fallback for dates net/mail cannot read: the fields
// are recognised by their shape, not by position, so missing week days,
// leap seconds, a Received-style prefix, AM/PM, zones like "GMT+01:00" or
// "EST5EDT", and ISO 8601 all parse.
func lenientDate(v string) time.Time {
	s := stripComments(v)
	// A Received-style value: the date follows the last semicolon.
	if k := strings.LastIndexByte(s, ';'); k >= 0 {
		s = s[k+1:]
	}
	toks := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' })
	var (
		year, month, day = -1, -1, -1
		hour, min, sec   = -1, -1, 0
		offset           = 0
		haveZone         = false
		nums             []int
	)
	for _, t := range toks {
		switch {
		case len(t) >= 10 && isDigits(t[:4]) && t[4] == '-':
			// ISO 8601: 2006-01-02 or 2006-01-02T15:04:05Z07:00.
			if tm, ok := parseISO(t); ok {
				return tm
			}
			y, m, d, ok := parseYMD(t[:10])
			if !ok {
				return time.Time{}
			}
			year, month, day = y, m, d
		case strings.IndexByte(t, ':') > 0 && hour < 0:
			h, mi, se, rest, ok := parseClock(t)
			if !ok {
				return time.Time{}
			}
			hour, min, sec = h, mi, se
			if rest != "" {
				if off, ok := parseZone(rest); ok {
					offset, haveZone = off, true
				}
			}
		case (t[0] == '+' || t[0] == '-') && len(t) >= 3 && !haveZone:
			if off, ok := parseZone(t); ok {
				offset, haveZone = off, true
			}
		case isDigits(t):
			n := atoi(t)
			if len(t) >= 3 && year < 0 {
				year = n
			} else {
				nums = append(nums, n)
			}
		case isLetters(t) && monthIndex(t) > 0 && month < 0:
			month = monthIndex(t)
		case isLetters(t) && weekday(t):
		case hour >= 0 && (strings.EqualFold(t, "am") || strings.EqualFold(t, "pm")):
			if hour == 12 {
				hour = 0
			}
			if strings.EqualFold(t, "pm") {
				hour += 12
			}
		case hour >= 0 && !haveZone:
			// CET, EST5EDT, GMT+01:00, ...
			if off, ok := parseZone(t); ok {
				offset, haveZone = off, true
			}
		}
	}
	// Day and two-digit year among the plain numbers.
	for _, n := range nums {
		switch {
		case day < 0:
			day = n
		case month < 0 && n >= 1 && n <= 12:
			month = n
		case year < 0:
			year = n
		}
	}
	if year < 0 || month < 1 || day < 1 || hour < 0 {
		return time.Time{}
	}
	switch {
	case year < 50:
		year += 2000
	case year < 1000:
		year += 1900
	}
	if month > 12 || day > 31 || hour > 24 || min > 59 || sec > 60 || year > 9999 {
		return time.Time{}
	}
	return dateUTC(year, month, day, hour, min, sec, offset)
}

// dateUTC is the instant of a date and time read from mail, its zone
// offset in seconds east: a leap second is taken as the second before,
// 24:00 as the next day's midnight, and a day the month lacks (31 April)
// as no date at all (the zero time).
func dateUTC(year, month, day, hour, min, sec, offset int) time.Time {
	if sec == 60 {
		sec = 59
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC)
	if t.Day() != day && hour != 24 {
		return time.Time{} // 31 April and the like
	}
	return t.Add(-time.Duration(offset) * time.Second).UTC()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// atoi reads at most 9 digits (callers pass digits only).
func atoi(s string) int {
	if len(s) > 9 {
		return 1 << 30
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

var months = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

func monthIndex(t string) int {
	if len(t) < 3 {
		return 0
	}
	p := strings.ToLower(t[:3])
	for i, m := range months {
		if p == m {
			return i + 1
		}
	}
	return 0
}

func weekday(t string) bool {
	if len(t) < 3 {
		return false
	}
	switch strings.ToLower(t[:3]) {
	case "mon", "tue", "wed", "thu", "fri", "sat", "sun":
		return true
	}
	return false
}

// parseClock reads hh:mm[:ss] and returns what follows it (a zone glued
// on, as in "10:00:00+0200" or "10:00:00Z").
func parseClock(t string) (h, m, s int, rest string, ok bool) {
	i := 0
	num := func() int {
		j := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' && i-j < 2 {
			i++
		}
		if i == j {
			return -1
		}
		return atoi(t[j:i])
	}
	if h = num(); h < 0 || i >= len(t) || t[i] != ':' {
		return 0, 0, 0, "", false
	}
	i++
	if m = num(); m < 0 {
		return 0, 0, 0, "", false
	}
	if i < len(t) && t[i] == ':' {
		i++
		if s = num(); s < 0 {
			return 0, 0, 0, "", false
		}
	}
	if i < len(t) && t[i] == '.' { // fractional seconds
		i++
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
	}
	return h, m, s, t[i:], true
}

// zones are the named zones of RFC 5322 §4.3 and the others common in
// real mail. Anything else counts as UTC (§4.3: treat as -0000).
var zones = map[string]int{
	"ut": 0, "utc": 0, "gmt": 0, "z": 0, "wet": 0, "bst": 1, "ist": 0,
	"est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
	"akst": -9, "akdt": -8, "hst": -10, "ast": -4, "adt": -3, "nst": -3, "ndt": -2,
	"cet": 1, "cest": 2, "met": 1, "mest": 2, "west": 1, "eet": 2, "eest": 3, "msk": 3,
	"jst": 9, "kst": 9, "hkt": 8, "sgt": 8, "awst": 8, "aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13,
}

// parseZone reads +hhmm, -hh:mm, +hh, GMT+1, UTC-0500 or a zone name and
// returns the offset east of UTC in seconds.
func parseZone(t string) (int, bool) {
	lt := strings.ToLower(t)
	for _, p := range []string{"gmt", "utc", "ut"} {
		if strings.HasPrefix(lt, p) && len(lt) > len(p) && (lt[len(p)] == '+' || lt[len(p)] == '-') {
			lt = lt[len(p):]
			break
		}
	}
	if lt == "" {
		return 0, false
	}
	if lt[0] == '+' || lt[0] == '-' {
		sign := 1
		if lt[0] == '-' {
			sign = -1
		}
		d := strings.ReplaceAll(lt[1:], ":", "")
		if !isDigits(d) {
			return 0, false
		}
		var h, m int
		switch len(d) {
		case 1, 2:
			h = atoi(d)
		case 3:
			h, m = atoi(d[:1]), atoi(d[1:])
		case 4:
			h, m = atoi(d[:2]), atoi(d[2:])
		default:
			return 0, false
		}
		if h > 14 || m > 59 {
			return 0, false
		}
		return sign * (h*3600 + m*60), true
	}
	if isLetters(lt) {
		if off, ok := zones[lt]; ok {
			return off * 3600, true
		}
		// "EST5EDT" and friends: the first three letters.
		if len(lt) > 3 {
			if off, ok := zones[lt[:3]]; ok {
				return off * 3600, true
			}
		}
		return 0, true
	}
	if len(lt) > 3 && isLetters(lt[:3]) {
		if off, ok := zones[lt[:3]]; ok {
			return off * 3600, true
		}
	}
	return 0, false
}

func parseYMD(t string) (y, m, d int, ok bool) {
	if len(t) < 10 || t[4] != '-' || t[7] != '-' || !isDigits(t[:4]) || !isDigits(t[5:7]) || !isDigits(t[8:10]) {
		return 0, 0, 0, false
	}
	return atoi(t[:4]), atoi(t[5:7]), atoi(t[8:10]), true
}

// parseISO reads a complete ISO 8601 date-time token.
func parseISO(t string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"} {
		if tm, err := time.Parse(layout, t); err == nil {
			return tm.UTC(), true
		}
	}
	return time.Time{}, false
}
