package links

import (
	"strings"
	"testing"

	"github.com/tidings/tidings/store"
)

// FuzzCheckToken: no input panics, and a token accepted is exactly one the
// signer makes for that team, member and thread (in any case), so that
// nothing but the signer's own output posts.
func FuzzCheckToken(f *testing.F) {
	for _, thread := range []uint64{1, 42, 1 << 20, 1<<28 - 1, 1 << 63} {
		f.Add("eng", "ana@example.com", tokenOf(fix.ReplyAddress(teamEng, "ana@example.com", thread)))
	}
	f.Add("eng", "ana@example.com", tokenOf(fix.DigestAddress(teamEng, "ana@example.com")))
	f.Add("eng", "ANA@example.com", strings.ToUpper(tokenOf(fix.ReplyAddress(teamEng, "ana@example.com", 9))))
	f.Add("ops", "bo@example.com", "ovfi3teqzcxeqefi6ynq")
	f.Add("eng", "ana@example.com", "")
	f.Add("eng", "ana@example.com", "====")
	f.Add("", "", "t7777777777777777777777777777777777")
	f.Fuzz(func(t *testing.T, team, member, token string) {
		tm := store.Team{Name: team, Address: team + "@example.com"}
		got, ok := fix.CheckToken(tm, member, token)
		if !ok {
			if got != (Token{}) {
				t.Errorf("refused token %q gives %+v", token, got)
			}
			return
		}
		var want string
		switch got.Kind {
		case KindThreadReply:
			want = tokenOf(fix.ReplyAddress(tm, member, got.Thread))
		case KindDigestReply:
			want = tokenOf(fix.DigestAddress(tm, member))
		default:
			t.Fatalf("accepted %q of kind %q", token, got.Kind)
		}
		if strings.ToLower(token) != want {
			t.Errorf("accepted %q as %+v, but the signer makes %q", token, got, want)
		}
	})
}

// FuzzSplitAddress: no input panics, and a split puts together again to
// the lower-cased address, with a token free of '+' and both parts there.
func FuzzSplitAddress(f *testing.F) {
	f.Add(fix.ReplyAddress(teamEng, "ana@example.com", 42))
	f.Add("Dev+Ops+TOKEN@Example.com")
	f.Add("eng@example.com")
	f.Add("eng+@example.com")
	f.Add("+x@example.com")
	f.Add("a+b@")
	f.Add("\"eng+x\"@example.com")
	f.Add("a+b@c@d")
	f.Fuzz(func(t *testing.T, addr string) {
		base, token, ok := SplitAddress(addr)
		if !ok {
			if base != "" || token != "" {
				t.Errorf("SplitAddress(%q) refused with %q, %q", addr, base, token)
			}
			return
		}
		at := strings.LastIndexByte(base, '@')
		if at <= 0 || at == len(base)-1 || token == "" || strings.ContainsRune(token, '+') {
			t.Fatalf("SplitAddress(%q) = %q, %q", addr, base, token)
		}
		if joined := base[:at] + "+" + token + base[at:]; joined != strings.ToLower(addr) {
			t.Errorf("SplitAddress(%q) = %q, %q, which join to %q", addr, base, token, joined)
		}
	})
}
