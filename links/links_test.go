package links

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/store"
)

var (
	fixSec  = []byte("0123456789abcdef0123456789abcdef")
	fix     = Signer{Secret: fixSec, Domain: "example.com", BaseURL: "https://tidings.example.com"}
	teamEng = store.Team{Name: "eng", Address: "eng@example.com"}
	teamOps = store.Team{Name: "ops", Address: "ops@example.com"}
)

var tokenShape = regexp.MustCompile(`^[a-z0-9-]+\+[a-z2-7]+@[a-z0-9.-]+$`)

func TestReplyAddressFormat(t *testing.T) {
	t.Parallel()
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
			a := fix.ReplyAddress(tc.team, "Ana@Example.com", tc.thread)
			local, domain, _ := strings.Cut(a, "@")
			if !tokenShape.MatchString(a) || !strings.HasPrefix(a, tc.want) {
				t.Errorf("address %q is not %s<lower-case base32>@domain", a, tc.want)
			}
			if tc.thread < 1<<28 && len(local) > len(tc.want)+24 {
				t.Errorf("token of %q is longer than 24 characters", a)
			}
			wantDomain := "example.com"
			if _, d, ok := strings.Cut(tc.team.Address, "@"); ok {
				wantDomain = d
			}
			if domain != wantDomain {
				t.Errorf("domain %q, want %q", domain, wantDomain)
			}
			token := local[strings.IndexByte(local, '+')+1:]
			got, ok := fix.CheckToken(tc.team, "ana@example.com", token)
			if !ok || got.Kind != KindThreadReply || got.Thread != tc.thread {
				t.Errorf("CheckToken(%q) = %+v, %v; want thread %d", token, got, ok, tc.thread)
			}
			// Mail systems may change the case of a local part.
			if _, ok := fix.CheckToken(tc.team, "ana@example.com", strings.ToUpper(token)); !ok {
				t.Error("the upper-cased token is refused")
			}
		})
	}
}

// TestLocalPartBound: with a team address's local part of 39 characters,
// the longest reply address for a thread below 2^28, the one for thread
// 2^28-1, has a local part of exactly the 64 characters RFC 5321 (section
// 4.5.3.1.1) allows.
func TestLocalPartBound(t *testing.T) {
	t.Parallel()
	team := store.Team{Name: "long", Address: strings.Repeat("l", 39) + "@example.com"}
	for _, thread := range []uint64{1, 127, 128, 1 << 21, 1<<28 - 1} {
		for _, a := range []string{fix.ReplyAddress(team, "ana@example.com", thread), fix.DigestAddress(team, "ana@example.com")} {
			local, _, _ := strings.Cut(a, "@")
			if len(local) > 64 {
				t.Errorf("thread %d: local part of %q has %d characters, RFC 5321 allows 64", thread, a, len(local))
			}
		}
	}
	a := fix.ReplyAddress(team, "ana@example.com", 1<<28-1)
	if local, _, _ := strings.Cut(a, "@"); len(local) != 64 {
		t.Errorf("thread 2^28-1: local part of %d characters, want exactly 64 (the bound the format documents)", len(local))
	}
}

func tokenOf(addr string) string {
	_, tok, _ := SplitAddress(addr)
	return tok
}

func TestTokenCannotBeTurned(t *testing.T) {
	t.Parallel()
	tok := tokenOf(fix.ReplyAddress(teamEng, "ana@example.com", 42))
	if _, ok := fix.CheckToken(teamEng, "ana@example.com", tok); !ok {
		t.Fatal("the genuine token is refused")
	}
	digestTok := tokenOf(fix.DigestAddress(teamEng, "ana@example.com"))
	other := Signer{Secret: []byte("another secret"), Domain: "example.com"}
	refused := []struct {
		name   string
		team   store.Team
		member string
		token  string
		signer Signer
	}{
		{"another member", teamEng, "bo@example.com", tok, fix},
		{"another team", teamOps, "ana@example.com", tok, fix},
		{"another secret", teamEng, "ana@example.com", tok, other},
		{"no secret", teamEng, "ana@example.com", tok, Signer{}},
		{"another thread", teamEng, "ana@example.com", retarget(t, tok, 43), fix},
		{"another kind", teamEng, "ana@example.com", rekind(t, tok, KindDigestReply), fix},
		{"a digest token as a thread token", teamEng, "ana@example.com", rekind(t, digestTok, KindThreadReply), fix},
		{"a mute kind", teamEng, "ana@example.com", rekind(t, tok, kindMute), fix},
		{"thread 0", teamEng, "ana@example.com", retarget(t, tok, 0), fix},
		{"padded thread ID", teamEng, "ana@example.com", padded(t, tok), fix},
		{"spare bits set", teamEng, "ana@example.com", spareBits(t, tok), fix},
		{"truncated", teamEng, "ana@example.com", tok[:len(tok)-2], fix},
		{"extended", teamEng, "ana@example.com", tok + "aa", fix},
		{"not base32", teamEng, "ana@example.com", "hello-world", fix},
		{"base32 padding", teamEng, "ana@example.com", tok + "====", fix},
		{"very long", teamEng, "ana@example.com", strings.Repeat("a", 10000), fix},
		{"empty", teamEng, "ana@example.com", "", fix},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, ok := tc.signer.CheckToken(tc.team, tc.member, tc.token); ok || got != (Token{}) {
				t.Errorf("CheckToken(%q) = %+v, %v; want refused", tc.token, got, ok)
			}
		})
	}
}

func decode(t *testing.T, token string) []byte {
	t.Helper()
	b, err := b32.DecodeString(strings.ToUpper(token))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encode(b []byte) string { return strings.ToLower(b32.EncodeToString(b)) }

// retarget rewrites the thread ID in a token, keeping its MAC.
func retarget(t *testing.T, token string, thread uint64) string {
	t.Helper()
	b := decode(t, token)
	b[1] = byte(thread) // one-byte uvarint for small IDs
	return encode(b)
}

// rekind rewrites a token's kind byte, keeping the rest.
func rekind(t *testing.T, token string, kind byte) string {
	t.Helper()
	b := decode(t, token)
	b[0] = kind
	return encode(b)
}

// padded spells a one-byte thread ID in two uvarint bytes, the same number
// but not the bytes the MAC covers.
func padded(t *testing.T, token string) string {
	t.Helper()
	b := decode(t, token)
	b = append(b[:1:1], append([]byte{b[1] | 0x80, 0}, b[2:]...)...)
	return encode(b)
}

// spareBits sets the unused low bits of the last base32 character, which a
// lenient decoder ignores.
func spareBits(t *testing.T, token string) string {
	t.Helper()
	if len(decode(t, token))*8%5 == 0 {
		t.Fatalf("token %q has no spare bits", token)
	}
	last := strings.IndexByte("abcdefghijklmnopqrstuvwxyz234567", token[len(token)-1])
	spelled := token[:len(token)-1] + string("abcdefghijklmnopqrstuvwxyz234567"[last|1])
	if spelled == token {
		t.Fatalf("token %q already has its spare bit set", token)
	}
	if !strings.EqualFold(encode(decode(t, spelled)), token) {
		t.Fatalf("%q does not decode as %q", spelled, token)
	}
	return spelled
}

func TestDigestAddress(t *testing.T) {
	t.Parallel()
	a := fix.DigestAddress(teamEng, "ana@example.com")
	if !tokenShape.MatchString(a) {
		t.Fatalf("digest address %q", a)
	}
	got, ok := fix.CheckToken(teamEng, "ana@example.com", tokenOf(a))
	if !ok || got.Kind != KindDigestReply || got.Thread != 0 {
		t.Errorf("CheckToken = %+v, %v", got, ok)
	}
	if a == fix.DigestAddress(teamEng, "bo@example.com") || a == fix.DigestAddress(teamOps, "ana@example.com") {
		t.Error("two members or teams share a digest address")
	}
	if a != fix.DigestAddress(teamEng, "ANA@example.com") {
		t.Error("the digest address depends on the case of the member's address")
	}
}

// TestTokenFormatIsStable pins the bytes of a token, unchanged since the
// first version: reply addresses in digests already in people's mailboxes
// must keep working.
func TestTokenFormatIsStable(t *testing.T) {
	t.Parallel()
	if got, want := fix.ReplyAddress(teamEng, "ana@example.com", 42), "eng+oqveipcgkjtx7yajz4kq@example.com"; got != want {
		t.Errorf("ReplyAddress = %q, want %q", got, want)
	}
	if got, want := fix.DigestAddress(teamEng, "ana@example.com"), "eng+mqeiyf2o3eajeuic3e@example.com"; got != want {
		t.Errorf("DigestAddress = %q, want %q", got, want)
	}
}

func TestRotatedSecrets(t *testing.T) {
	t.Parallel()
	old := Signer{Secret: []byte("the secret before"), Domain: "example.com", BaseURL: "https://x.example"}
	rotated := Signer{Secret: []byte("the secret now"), Previous: [][]byte{[]byte("older still"), old.Secret}, Domain: "example.com", BaseURL: "https://x.example"}
	afterGrace := Signer{Secret: rotated.Secret, Domain: "example.com", BaseURL: "https://x.example"}

	oldTok := tokenOf(old.ReplyAddress(teamEng, "ana@example.com", 9))
	newAddr := rotated.ReplyAddress(teamEng, "ana@example.com", 9)
	if tokenOf(newAddr) == oldTok {
		t.Fatal("a rotated signer makes tokens with the old secret")
	}
	if got, ok := rotated.CheckToken(teamEng, "ana@example.com", oldTok); !ok || got.Thread != 9 {
		t.Errorf("a token of the previous secret is refused within its grace: %+v, %v", got, ok)
	}
	if _, ok := rotated.CheckToken(teamEng, "ana@example.com", tokenOf(newAddr)); !ok {
		t.Error("a token of the current secret is refused")
	}
	if _, ok := afterGrace.CheckToken(teamEng, "ana@example.com", oldTok); ok {
		t.Error("a token of a secret past its grace is accepted")
	}
	if _, ok := rotated.CheckToken(teamOps, "ana@example.com", oldTok); ok {
		t.Error("a previous secret's token is accepted for another team")
	}
	if _, ok := old.CheckToken(teamEng, "ana@example.com", tokenOf(newAddr)); ok {
		t.Error("the old signer accepts a new token")
	}

	mute, _ := url.Parse(old.MuteURL("ana@example.com", 9))
	sig := mute.Query().Get("sig")
	if !rotated.CheckMute("ana@example.com", 9, sig) || afterGrace.CheckMute("ana@example.com", 9, sig) {
		t.Error("mute signature of the previous secret: want accepted within the grace only")
	}
	un, _ := url.Parse(old.UnsubscribeURL("ana@example.com"))
	sig = un.Query().Get("sig")
	if !rotated.CheckUnsubscribe("ana@example.com", sig) || afterGrace.CheckUnsubscribe("ana@example.com", sig) {
		t.Error("unsubscribe signature of the previous secret: want accepted within the grace only")
	}
	// An empty previous secret is no key: what anyone can compute is refused.
	empty := Signer{Secret: []byte("s"), Previous: [][]byte{nil}}
	if _, ok := empty.CheckToken(teamEng, "ana@example.com", tokenOf(Signer{}.ReplyAddress(teamEng, "ana@example.com", 9))); ok {
		t.Error("a token made without a secret is accepted")
	}
}

func TestSplitAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr, base, token string
		ok                bool
	}{
		{"eng+abc@example.com", "eng@example.com", "abc", true},
		{"ENG+ABC@Example.COM", "eng@example.com", "abc", true},
		{"dev+ops+abc@example.com", "dev+ops@example.com", "abc", true},
		{"eng@example.com", "", "", false},
		{"eng+@example.com", "", "", false},
		{"+abc@example.com", "", "", false},
		{"eng+abc@", "", "", false},
		{"eng+abc", "", "", false},
		{"", "", "", false},
		{"eng@x+abc@example.com", "eng@x@example.com", "abc", true},
	}
	for _, tc := range tests {
		base, token, ok := SplitAddress(tc.addr)
		if base != tc.base || token != tc.token || ok != tc.ok {
			t.Errorf("SplitAddress(%q) = %q, %q, %v; want %q, %q, %v", tc.addr, base, token, ok, tc.base, tc.token, tc.ok)
		}
	}
	// The round trip: an address a signer makes splits into its team's
	// address and a token it accepts.
	for _, team := range []store.Team{teamEng, {Name: "devops", Address: "dev+ops@example.com"}} {
		a := fix.ReplyAddress(team, "ana@example.com", 77)
		base, tok, ok := SplitAddress(strings.ToUpper(a))
		if !ok || base != team.Address {
			t.Errorf("SplitAddress(%q) = %q, %v; want %q", a, base, ok, team.Address)
		}
		if got, ok := fix.CheckToken(team, "ana@example.com", tok); !ok || got.Thread != 77 {
			t.Errorf("token of %q: %+v, %v", a, got, ok)
		}
	}
}

func TestWebLinks(t *testing.T) {
	t.Parallel()
	if got := fix.ThreadURL(7); got != "https://tidings.example.com/threads/7" {
		t.Errorf("ThreadURL = %q", got)
	}
	mute, err := url.Parse(fix.MuteURL("Ana@example.com", 7))
	if err != nil || mute.Path != "/mute" {
		t.Fatalf("MuteURL = %v, %v", mute, err)
	}
	q := mute.Query()
	if q.Get("m") != "ana@example.com" || q.Get("t") != "7" || !fix.CheckMute("ana@example.com", 7, q.Get("sig")) {
		t.Errorf("mute link %v does not verify", mute)
	}
	if !fix.CheckMute("ana@example.com", 7, strings.ToUpper(q.Get("sig"))) {
		t.Error("the upper-cased mute signature is refused")
	}
	if fix.CheckMute("ana@example.com", 8, q.Get("sig")) || fix.CheckMute("bo@example.com", 7, q.Get("sig")) {
		t.Error("a mute signature works for another thread or member")
	}
	if (Signer{}).CheckMute("ana@example.com", 7, Signer{BaseURL: "x"}.sig(kindMute, "ana@example.com", 7)) {
		t.Error("the zero Signer accepts a signature made without a secret")
	}
	un, _ := url.Parse(fix.UnsubscribeURL("ana@example.com"))
	sig := un.Query().Get("sig")
	if un.Path != "/unsubscribe" || !fix.CheckUnsubscribe("ana@example.com", sig) || fix.CheckUnsubscribe("bo@example.com", sig) {
		t.Errorf("unsubscribe link %v", un)
	}
	// A mute signature is no unsubscribe signature (the kinds differ).
	if fix.CheckUnsubscribe("ana@example.com", q.Get("sig")) {
		t.Error("a mute signature unsubscribes")
	}
	if fix.CheckUnsubscribe("ana@example.com", sig+"a") || fix.CheckUnsubscribe("ana@example.com", "") {
		t.Error("a malformed signature unsubscribes")
	}

	none := Signer{Secret: fixSec, Domain: "example.com"}
	if none.ThreadURL(7) != "" || none.MuteURL("a@b", 7) != "" || none.UnsubscribeURL("a@b") != "" {
		t.Error("web links without a base URL")
	}
	slash := Signer{Secret: fixSec, BaseURL: "https://x.example/tidings/"}
	if got := slash.ThreadURL(7); got != "https://x.example/tidings/threads/7" {
		t.Errorf("ThreadURL with a trailing slash in the base = %q", got)
	}
}

func TestFromTx(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.TempDir()+"/t.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	get := func(now time.Time) (s Signer, err error) {
		err = st.View(func(tx *store.Tx) error {
			s, err = FromTx(tx, now, "example.com", "https://x.example")
			return err
		})
		return s, err
	}
	if _, err := get(now); err == nil {
		t.Fatal("FromTx in a view before the first secret: no error")
	}
	var before Signer
	err = st.Update(t.Context(), func(tx *store.Tx) error {
		before, err = FromTx(tx, now, "example.com", "https://x.example")
		return err
	})
	if err != nil || len(before.Secret) != 32 || before.Domain != "example.com" || before.BaseURL != "https://x.example" {
		t.Fatalf("FromTx = %+v, %v", before, err)
	}
	oldTok := tokenOf(before.ReplyAddress(teamEng, "ana@example.com", 5))
	if err := st.Update(t.Context(), func(tx *store.Tx) error { return tx.RotateSecret(now, time.Hour) }); err != nil {
		t.Fatal(err)
	}
	after, err := get(now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if tokenOf(after.ReplyAddress(teamEng, "ana@example.com", 5)) == oldTok {
		t.Error("the address did not change with the rotation")
	}
	if _, ok := after.CheckToken(teamEng, "ana@example.com", oldTok); !ok {
		t.Error("the old address is refused within the grace")
	}
	late, err := get(now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := late.CheckToken(teamEng, "ana@example.com", oldTok); ok {
		t.Error("the old address is accepted after the grace")
	}
}
