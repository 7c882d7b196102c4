package digest

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings/tidings/store"
)

var tokenShape = regexp.MustCompile(`^[a-z0-9-]+\+[a-z2-7]+@[a-z0-9.-]+$`)

func TestReplyAddressFormat(t *testing.T) {
	t.Parallel()
	l := fixLinks
	tests := []struct {
		name   string
		team   store.Team
		thread uint64
		want   string // the address's fixed parts
	}{
		{"thread 1", teamEng, 1, "eng+"},
		{"large thread", teamEng, 1 << 34, "eng+"},
		{"long team name", store.Team{Name: "x", Address: strings.Repeat("a", 39) + "@example.com"}, 1<<28 - 1, strings.Repeat("a", 39) + "+"},
		{"team address on its own domain", store.Team{Name: "ops", Address: "ops@ops.example.org"}, 7, "ops+"},
		{"team without a domain", store.Team{Name: "dev"}, 7, "dev+"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := l.ReplyAddress(tc.team, "Ana@Example.com", tc.thread)
			local, domain, _ := strings.Cut(a, "@")
			if !tokenShape.MatchString(a) || !strings.HasPrefix(a, tc.want) {
				t.Errorf("address %q is not %s<lower-case base32>@domain", a, tc.want)
			}
			if len(local) > 64 {
				t.Errorf("local part of %q has %d characters, RFC 5321 allows 64", a, len(local))
			}
			wantDomain := "example.com"
			if _, d, ok := strings.Cut(tc.team.Address, "@"); ok {
				wantDomain = d
			}
			if domain != wantDomain {
				t.Errorf("domain %q, want %q", domain, wantDomain)
			}
			token := local[strings.IndexByte(local, '+')+1:]
			got, ok := l.CheckToken(tc.team, "ana@example.com", token)
			if !ok || got.Kind != KindThreadReply || got.Thread != tc.thread {
				t.Errorf("CheckToken(%q) = %+v, %v; want thread %d", token, got, ok, tc.thread)
			}
			// Mail systems may change the case of a local part.
			if _, ok := l.CheckToken(tc.team, "ana@example.com", strings.ToUpper(token)); !ok {
				t.Error("the upper-cased token is refused")
			}
		})
	}
}

func tokenOf(addr string) string {
	local, _, _ := strings.Cut(addr, "@")
	return local[strings.IndexByte(local, '+')+1:]
}

func TestTokenCannotBeTurned(t *testing.T) {
	t.Parallel()
	l := fixLinks
	tok := tokenOf(l.ReplyAddress(teamEng, "ana@example.com", 42))
	if _, ok := l.CheckToken(teamEng, "ana@example.com", tok); !ok {
		t.Fatal("the genuine token is refused")
	}
	refused := []struct {
		name   string
		team   store.Team
		member string
		token  string
		links  Links
	}{
		{"another member", teamEng, "bo@example.com", tok, l},
		{"another team", teamOps, "ana@example.com", tok, l},
		{"another secret", teamEng, "ana@example.com", tok, Links{Secret: []byte("another secret"), Domain: "example.com"}},
		{"another thread", teamEng, "ana@example.com", retarget(t, tok, 43), l},
		{"a digest token as a thread token", teamEng, "ana@example.com", "o" + tokenOf(l.DigestAddress(teamEng, "ana@example.com"))[1:], l},
		{"truncated", teamEng, "ana@example.com", tok[:len(tok)-2], l},
		{"not base32", teamEng, "ana@example.com", "hello-world", l},
		{"empty", teamEng, "ana@example.com", "", l},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, ok := tc.links.CheckToken(tc.team, tc.member, tc.token); ok {
				t.Errorf("CheckToken accepted %q as %+v", tc.token, got)
			}
		})
	}
}

// retarget rewrites the thread ID in a token, keeping its MAC.
func retarget(t *testing.T, token string, thread uint64) string {
	t.Helper()
	b, err := b32.DecodeString(strings.ToUpper(token))
	if err != nil {
		t.Fatal(err)
	}
	b[1] = byte(thread) // one-byte uvarint for small IDs
	return strings.ToLower(b32.EncodeToString(b))
}

func TestDigestAddress(t *testing.T) {
	t.Parallel()
	l := fixLinks
	a := l.DigestAddress(teamEng, "ana@example.com")
	if !tokenShape.MatchString(a) {
		t.Fatalf("digest address %q", a)
	}
	got, ok := l.CheckToken(teamEng, "ana@example.com", tokenOf(a))
	if !ok || got.Kind != KindDigestReply || got.Thread != 0 {
		t.Errorf("CheckToken = %+v, %v", got, ok)
	}
	if a == l.DigestAddress(teamEng, "bo@example.com") || a == l.DigestAddress(teamOps, "ana@example.com") {
		t.Error("two members or teams share a digest address")
	}
	if a != l.DigestAddress(teamEng, "ANA@example.com") {
		t.Error("the digest address depends on the case of the member's address")
	}
}

func TestWebLinks(t *testing.T) {
	t.Parallel()
	l := fixLinks
	if got := l.ThreadURL(7); got != "https://tidings.example.com/threads/7" {
		t.Errorf("ThreadURL = %q", got)
	}
	mute, err := url.Parse(l.MuteURL("Ana@example.com", 7))
	if err != nil || mute.Path != "/mute" {
		t.Fatalf("MuteURL = %v, %v", mute, err)
	}
	q := mute.Query()
	if q.Get("m") != "ana@example.com" || q.Get("t") != "7" || !l.CheckMute("ana@example.com", 7, q.Get("sig")) {
		t.Errorf("mute link %v does not verify", mute)
	}
	if l.CheckMute("ana@example.com", 8, q.Get("sig")) || l.CheckMute("bo@example.com", 7, q.Get("sig")) {
		t.Error("a mute signature works for another thread or member")
	}
	un, _ := url.Parse(l.UnsubscribeURL("ana@example.com"))
	sig := un.Query().Get("sig")
	if un.Path != "/unsubscribe" || !l.CheckUnsubscribe("ana@example.com", sig) || l.CheckUnsubscribe("bo@example.com", sig) {
		t.Errorf("unsubscribe link %v", un)
	}
	// A mute signature is no unsubscribe signature (the kinds differ).
	if l.CheckUnsubscribe("ana@example.com", q.Get("sig")) {
		t.Error("a mute signature unsubscribes")
	}

	none := Links{Secret: fixSec, Domain: "example.com"}
	if none.ThreadURL(7) != "" || none.MuteURL("a@b", 7) != "" || none.UnsubscribeURL("a@b") != "" {
		t.Error("web links without a base URL")
	}
	slash := Links{Secret: fixSec, BaseURL: "https://x.example/tidings/"}
	if got := slash.ThreadURL(7); got != "https://x.example/tidings/threads/7" {
		t.Errorf("ThreadURL with a trailing slash in the base = %q", got)
	}
}
