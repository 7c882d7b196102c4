package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/store"
)

// Signer makes the addresses and URLs a digest shows, each signed with the
// instance's secret so that it cannot be guessed or turned to another
// thread, member or purpose, and checks them when they come back.
//
// A reply address is <team-local>+<token>@<domain>, where the token is the
// lower-case base32 (no padding) of one kind byte ('t' for a thread's
// reply address, 'd' for the digest's own), the thread ID as a uvarint
// (thread addresses only), and the first 10 bytes of HMAC-SHA256(secret,
// kind | team name | 0 | member address | 0 | uvarint thread). For thread
// IDs under 2^28 the token has at most 24 characters, so with a team
// address's local part of up to 39 the whole local part stays within the 64
// characters RFC 5321 allows. The format is fixed: addresses in digests
// already sent must keep working.
//
// The zero Signer makes addresses that nothing accepts and accepts none: a
// token made with an empty key could be made by anyone. Its methods do not
// block and are safe for concurrent use.
type Signer struct {
	// Secret is the current instance secret: new tokens and signatures
	// are made with it.
	Secret []byte
	// Previous are earlier secrets still within their grace period: what
	// was made with them is still accepted.
	Previous [][]byte
	// Domain is the reply addresses' domain when a team's address has none;
	// otherwise a reply address keeps its team address's domain, the one
	// the instance takes the team's mail for.
	Domain string
	// BaseURL is the web side's address ([http] base_url); when "", the web
	// links (thread, mute, unsubscribe) are left out.
	BaseURL string
}

// FromTx returns the Signer of the instance secrets stored in tx: the
// current one and those whose grace has not ended at now. In a write
// transaction the first secret is made if there is none yet; in a
// read-only one that case is an error wrapping store.ErrNotFound.
func FromTx(tx *store.Tx, now time.Time, domain, baseURL string) (Signer, error) {
	cur, prev, err := tx.Secrets(now)
	if err != nil {
		return Signer{}, fmt.Errorf("links: read the instance secrets: %w", err)
	}
	return Signer{Secret: cur, Previous: prev, Domain: domain, BaseURL: baseURL}, nil
}

// Token kinds: the first byte of a token, and of what its MAC covers.
const (
	KindThreadReply = 't'
	KindDigestReply = 'd'
	kindMute        = 'm'
	kindUnsubscribe = 'u'
)

const macLen = 10 // bytes of HMAC-SHA256 kept: 80 bits

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// maxToken is the length of the longest token there can be (a thread ID
// of ten uvarint bytes): longer input is refused before decoding it.
var maxToken = b32.EncodedLen(1 + binary.MaxVarintLen64 + macLen)

func mac(key []byte, kind byte, team, member string, thread uint64) []byte {
	h := hmac.New(sha256.New, key)
	var buf [binary.MaxVarintLen64 + 1]byte
	buf[0] = kind
	h.Write(buf[:1])
	h.Write([]byte(team))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(member)))
	h.Write([]byte{0})
	h.Write(binary.AppendUvarint(buf[:0], thread))
	return h.Sum(nil)[:macLen]
}

// verify reports whether sum is the MAC of the input under the current
// secret or one of the previous ones. Each comparison takes constant time.
func (s Signer) verify(sum []byte, kind byte, team, member string, thread uint64) bool {
	if len(s.Secret) > 0 && hmac.Equal(sum, mac(s.Secret, kind, team, member, thread)) {
		return true
	}
	for _, key := range s.Previous {
		if len(key) > 0 && hmac.Equal(sum, mac(key, kind, team, member, thread)) {
			return true
		}
	}
	return false
}

func (s Signer) token(kind byte, team, member string, thread uint64) string {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+macLen)
	b = append(b, kind)
	if kind == KindThreadReply {
		b = binary.AppendUvarint(b, thread)
	}
	b = append(b, mac(s.Secret, kind, team, member, thread)...)
	return strings.ToLower(b32.EncodeToString(b))
}

// ReplyAddress is member's address for replying to thread in team.
func (s Signer) ReplyAddress(team store.Team, member string, thread uint64) string {
	return s.address(team, s.token(KindThreadReply, team.Name, member, thread))
}

// DigestAddress is member's address for replying to a digest as a whole
// (its Reply-To).
func (s Signer) DigestAddress(team store.Team, member string) string {
	return s.address(team, s.token(KindDigestReply, team.Name, member, 0))
}

func (s Signer) address(team store.Team, token string) string {
	local, domain, ok := strings.Cut(team.Address, "@")
	if !ok || domain == "" {
		local, domain = team.Name, s.Domain
	}
	return local + "+" + token + "@" + domain
}

// SplitAddress splits a recipient such as "eng+TOKEN@example.com" into the
// team address "eng@example.com" and the token, both lower-cased (team
// addresses are matched without regard to case, and mail systems may
// change the case of a local part). ok is false when the local part has no
// '+' with text on both sides, or there is no domain.
//
// The token is what follows the last '+': the token alphabet (base32,
// a-z and 2-7) has no '+', while a team address may have one of its own
// ("dev+ops@example.com" gets "dev+ops+TOKEN@example.com").
func SplitAddress(addr string) (base, token string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || at == len(addr)-1 {
		return "", "", false
	}
	local, domain := addr[:at], addr[at+1:]
	plus := strings.LastIndexByte(local, '+')
	if plus <= 0 || plus == len(local)-1 {
		return "", "", false
	}
	return strings.ToLower(local[:plus] + "@" + domain), strings.ToLower(local[plus+1:]), true
}

// Token is what a reply token names.
type Token struct {
	Kind   byte   // KindThreadReply or KindDigestReply
	Thread uint64 // for KindThreadReply
}

// CheckToken reads the token of a reply address (the part after '+')
// received for team from member (their own address, not an alias), and
// reports whether it is genuine: made by this instance, with the current
// secret or one still in its grace period, for exactly that team and
// member. Case is ignored, as mail systems may change it. A token that is
// unknown, malformed or forged gets the same answer, false, so that
// nothing tells which part was wrong.
func (s Signer) CheckToken(team store.Team, member, token string) (Token, bool) {
	if len(token) > maxToken {
		return Token{}, false
	}
	b, err := b32.DecodeString(strings.ToUpper(token))
	// Only the one spelling a Signer makes is accepted: base32 would
	// otherwise take a last character whose spare bits are set.
	if err != nil || len(b) < 1+macLen || !strings.EqualFold(b32.EncodeToString(b), token) {
		return Token{}, false
	}
	t := Token{Kind: b[0]}
	rest := b[1:]
	switch t.Kind {
	case KindThreadReply:
		id, n := binary.Uvarint(rest)
		// A uvarint may be padded with 0x80 bytes; the MAC covers the
		// shortest form, and only that is accepted.
		if n <= 0 || id == 0 || n != len(binary.AppendUvarint(nil, id)) {
			return Token{}, false
		}
		t.Thread, rest = id, rest[n:]
	case KindDigestReply:
	default:
		return Token{}, false
	}
	if len(rest) != macLen || !s.verify(rest, t.Kind, team.Name, member, t.Thread) {
		return Token{}, false
	}
	return t, true
}

// ThreadURL is the thread's page in the web archive, "" without BaseURL.
// The page decides who may see it; the link itself carries no grant.
func (s Signer) ThreadURL(thread uint64) string {
	if s.BaseURL == "" {
		return ""
	}
	return strings.TrimRight(s.BaseURL, "/") + "/threads/" + strconv.FormatUint(thread, 10)
}

// MuteURL is a signed link that mutes thread for member, "" without
// BaseURL.
func (s Signer) MuteURL(member string, thread uint64) string {
	if s.BaseURL == "" {
		return ""
	}
	q := url.Values{
		"m":   {strings.ToLower(member)},
		"t":   {strconv.FormatUint(thread, 10)},
		"sig": {s.sig(kindMute, member, thread)},
	}
	return strings.TrimRight(s.BaseURL, "/") + "/mute?" + q.Encode()
}

// UnsubscribeURL is a signed link that stops member's digests, the target
// of List-Unsubscribe and its one-click POST (RFC 8058); "" without
// BaseURL.
func (s Signer) UnsubscribeURL(member string) string {
	if s.BaseURL == "" {
		return ""
	}
	q := url.Values{
		"m":   {strings.ToLower(member)},
		"sig": {s.sig(kindUnsubscribe, member, 0)},
	}
	return strings.TrimRight(s.BaseURL, "/") + "/unsubscribe?" + q.Encode()
}

func (s Signer) sig(kind byte, member string, thread uint64) string {
	return strings.ToLower(b32.EncodeToString(mac(s.Secret, kind, "", member, thread)))
}

// CheckMute reports whether sig is the signature of MuteURL(member, thread),
// made with the current secret or one still in its grace period.
func (s Signer) CheckMute(member string, thread uint64, sig string) bool {
	return s.checkSig(kindMute, member, thread, sig)
}

// CheckUnsubscribe reports whether sig is the signature of
// UnsubscribeURL(member), made with the current secret or one still in its
// grace period.
func (s Signer) CheckUnsubscribe(member, sig string) bool {
	return s.checkSig(kindUnsubscribe, member, 0, sig)
}

func (s Signer) checkSig(kind byte, member string, thread uint64, sig string) bool {
	if len(sig) != b32.EncodedLen(macLen) {
		return false
	}
	b, err := b32.DecodeString(strings.ToUpper(sig))
	return err == nil && s.verify(b, kind, "", member, thread)
}
