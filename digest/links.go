package digest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"net/url"
	"strconv"
	"strings"

	"github.com/tidings/tidings/store"
)

// Links makes the addresses and URLs a digest shows, each signed with the
// instance's secret so that it cannot be guessed or turned to another
// thread, member or purpose.
//
// A reply address is <team-local>+<token>@<domain>, where the token is the
// lower-case base32 (no padding) of one kind byte ('t' for a thread's
// reply address, 'd' for the digest's own), the thread ID as a uvarint
// (thread addresses only), and the first 10 bytes of HMAC-SHA256(secret,
// kind | team name | 0 | member address | 0 | uvarint thread). For thread
// IDs under 2^28 the token has at most 24 characters, so with a team
// address's local part of up to 39 the whole local part stays within the 64
// characters RFC 5321 allows.
type Links struct {
	Secret []byte // the instance secret (store.Tx.Secret)
	// Domain is the reply addresses' domain when a team's address has none;
	// otherwise a reply address keeps its team address's domain, the one
	// the instance takes the team's mail for.
	Domain string
	// BaseURL is the web side's address ([http] base_url); when "", the web
	// links (thread, mute, unsubscribe) are left out.
	BaseURL string
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

func (l Links) mac(kind byte, team, member string, thread uint64) []byte {
	h := hmac.New(sha256.New, l.Secret)
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

func (l Links) token(kind byte, team, member string, thread uint64) string {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+macLen)
	b = append(b, kind)
	if kind == KindThreadReply {
		b = binary.AppendUvarint(b, thread)
	}
	b = append(b, l.mac(kind, team, member, thread)...)
	return strings.ToLower(b32.EncodeToString(b))
}

// ReplyAddress is member's address for replying to thread in team.
func (l Links) ReplyAddress(team store.Team, member string, thread uint64) string {
	return l.address(team, l.token(KindThreadReply, team.Name, member, thread))
}

// DigestAddress is member's address for replying to a digest as a whole
// (its Reply-To).
func (l Links) DigestAddress(team store.Team, member string) string {
	return l.address(team, l.token(KindDigestReply, team.Name, member, 0))
}

func (l Links) address(team store.Team, token string) string {
	local, domain, ok := strings.Cut(team.Address, "@")
	if !ok || domain == "" {
		local, domain = team.Name, l.Domain
	}
	return local + "+" + token + "@" + domain
}

// Token is what a reply token names.
type Token struct {
	Kind   byte   // KindThreadReply or KindDigestReply
	Thread uint64 // for KindThreadReply
}

// CheckToken reads the token of a reply address (the part after '+')
// received for team from member, and reports whether it is genuine: made
// by this instance for exactly that team and member. Case is ignored, as
// mail systems may change it.
func (l Links) CheckToken(team store.Team, member, token string) (Token, bool) {
	b, err := b32.DecodeString(strings.ToUpper(token))
	if err != nil || len(b) < 1+macLen {
		return Token{}, false
	}
	t := Token{Kind: b[0]}
	rest := b[1:]
	switch t.Kind {
	case KindThreadReply:
		id, n := binary.Uvarint(rest)
		if n <= 0 || id == 0 {
			return Token{}, false
		}
		t.Thread, rest = id, rest[n:]
	case KindDigestReply:
	default:
		return Token{}, false
	}
	if len(rest) != macLen || !hmac.Equal(rest, l.mac(t.Kind, team.Name, member, t.Thread)) {
		return Token{}, false
	}
	return t, true
}

// ThreadURL is the thread's page in the web archive, "" without BaseURL.
// The page decides who may see it; the link itself carries no grant.
func (l Links) ThreadURL(thread uint64) string {
	if l.BaseURL == "" {
		return ""
	}
	return strings.TrimRight(l.BaseURL, "/") + "/threads/" + strconv.FormatUint(thread, 10)
}

// MuteURL is a signed link that mutes thread for member, "" without
// BaseURL.
func (l Links) MuteURL(member string, thread uint64) string {
	if l.BaseURL == "" {
		return ""
	}
	q := url.Values{
		"m":   {strings.ToLower(member)},
		"t":   {strconv.FormatUint(thread, 10)},
		"sig": {l.sig(kindMute, member, thread)},
	}
	return strings.TrimRight(l.BaseURL, "/") + "/mute?" + q.Encode()
}

// UnsubscribeURL is a signed link that stops member's digests, the target
// of List-Unsubscribe and its one-click POST (RFC 8058); "" without
// BaseURL.
func (l Links) UnsubscribeURL(member string) string {
	if l.BaseURL == "" {
		return ""
	}
	q := url.Values{
		"m":   {strings.ToLower(member)},
		"sig": {l.sig(kindUnsubscribe, member, 0)},
	}
	return strings.TrimRight(l.BaseURL, "/") + "/unsubscribe?" + q.Encode()
}

func (l Links) sig(kind byte, member string, thread uint64) string {
	return strings.ToLower(b32.EncodeToString(l.mac(kind, "", member, thread)))
}

// CheckMute reports whether sig is the signature of MuteURL(member, thread).
func (l Links) CheckMute(member string, thread uint64, sig string) bool {
	return l.checkSig(kindMute, member, thread, sig)
}

// CheckUnsubscribe reports whether sig is the signature of
// UnsubscribeURL(member).
func (l Links) CheckUnsubscribe(member, sig string) bool {
	return l.checkSig(kindUnsubscribe, member, 0, sig)
}

func (l Links) checkSig(kind byte, member string, thread uint64, sig string) bool {
	b, err := b32.DecodeString(strings.ToUpper(sig))
	return err == nil && hmac.Equal(b, l.mac(kind, "", member, thread))
}
