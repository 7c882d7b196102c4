package main

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSecretRotateAndAliases drives the built binary while serve runs, so
// that the commands go through the control socket: aliases are added,
// listed, refused when taken and removed; a rotation reports its grace end
// and changes the reply addresses and signed links a digest shows.
func TestSecretRotateAndAliases(t *testing.T) {
	t.Parallel()
	sigRE := regexp.MustCompile(`sig=[a-z2-7]+`)
	in := newInstance(t)
	in.Start()
	defer in.Stop()
	in.MustRun("team", "add", "eng")
	in.MustRun("member", "add", "Ana <ana@example.com>", "--team", "eng", "--tz", "Europe/Berlin")
	in.MustRun("member", "add", "bo@example.com", "--team", "eng")

	out := in.MustRun("member", "set", "ana@example.com", "--alias", "Ana Lima <Ana.Lima@Home.example>", "--alias", "ana@work.example")
	if !strings.Contains(out, "aliases ana.lima@home.example, ana@work.example") {
		t.Errorf("member set --alias says:\n%s", out)
	}
	aliases := func() map[string][]string {
		t.Helper()
		var ms []memberJSON
		if err := json.Unmarshal([]byte(in.MustRun("member", "list", "--json")), &ms); err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, m := range ms {
			got[m.Address] = m.Aliases
		}
		return got
	}
	want := map[string][]string{"ana@example.com": {"ana.lima@home.example", "ana@work.example"}, "bo@example.com": nil}
	if got := aliases(); !reflect.DeepEqual(got, want) {
		t.Errorf("member list --json aliases = %q, want %q", got, want)
	}
	if out := in.MustRun("member", "list"); !strings.Contains(out, "ALIASES") || !strings.Contains(out, "ana.lima@home.example, ana@work.example") {
		t.Errorf("member list:\n%s", out)
	}

	refused := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"member", "set", "bo@example.com", "--alias", "ANA@work.example"}, 1, "already an address of member ana@example.com"},
		{[]string{"member", "set", "bo@example.com", "--alias", "ana@example.com"}, 1, "already an address of member ana@example.com"},
		{[]string{"member", "set", "bo@example.com", "--alias", "eng@localhost"}, 1, "the address of team eng"},
		{[]string{"member", "set", "bo@example.com", "--alias", "bo@example.com"}, 1, "own address"},
		{[]string{"member", "set", "bo@example.com", "--remove-alias", "ana@work.example"}, 1, "not an alias of bo@example.com"},
		{[]string{"member", "set", "bo@example.com", "--alias", "not an address"}, 2, "--alias"},
		{[]string{"member", "add", "ana@work.example", "--team", "eng"}, 1, "alias of ana@example.com"},
	}
	for _, tc := range refused {
		if r := in.Run(tc.args...); r.Code != tc.code || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("tidings %s: exit %d, %q; want exit %d and %q", strings.Join(tc.args, " "), r.Code, r.Stderr, tc.code, tc.want)
		}
	}
	in.MustRun("member", "set", "ana@example.com", "--remove-alias", "ana@work.example")
	in.MustRun("member", "set", "bo@example.com", "--alias", "ana@work.example")
	want = map[string][]string{"ana@example.com": {"ana.lima@home.example"}, "bo@example.com": {"ana@work.example"}}
	if got := aliases(); !reflect.DeepEqual(got, want) {
		t.Errorf("after moving an alias: %q, want %q", got, want)
	}

	// News for Ana, so that her digest has a thread and its reply address.
	msg := "From: Bo <bo@example.com>\r\nTo: eng@localhost\r\nSubject: Launch plan\r\nMessage-ID: <launch-1@example.com>\r\n\r\nWe ship on Friday.\r\n"
	if r := in.Send("bo@example.com", []string{"eng@localhost"}, msg); r.Code != 250 {
		t.Fatalf("send: %v", r)
	}
	addrs := func() []string {
		t.Helper()
		out := in.MustRun("digest", "preview", "ana@example.com")
		found := replyAddrRE.FindAllString(out, -1)
		if len(found) == 0 {
			t.Fatalf("preview shows no reply address:\n%s", out)
		}
		// The mute and unsubscribe links are signed with the secret too.
		sigs := sigRE.FindAllString(out, -1)
		if len(sigs) != 2 {
			t.Fatalf("preview shows %d signed links, want mute and unsubscribe:\n%s", len(sigs), out)
		}
		found = append(found, sigs...)
		slices.Sort(found)
		return slices.Compact(found)
	}
	before := addrs()
	if again := addrs(); !reflect.DeepEqual(before, again) {
		t.Fatalf("reply addresses change without a rotation: %q then %q", before, again)
	}

	start := time.Now().Truncate(time.Second)
	out = in.MustRun("secret", "rotate")
	m := regexp.MustCompile(`accepted until (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("secret rotate says:\n%s", out)
	}
	end, err := time.Parse(time.RFC3339, m[1])
	if err != nil {
		t.Fatalf("grace end %q: %v", m[1], err)
	}
	if lo, hi := start.Add(defaultGrace), time.Now().Add(defaultGrace); end.Before(lo) || end.After(hi) {
		t.Errorf("grace end %v, want 30 days after the rotation (%v to %v)", end, lo, hi)
	}
	after := addrs()
	for _, a := range after {
		if slices.Contains(before, a) {
			t.Errorf("%s is the same after the rotation", a)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d reply addresses and signatures before the rotation, %d after", len(before), len(after))
	}

	var js secretRotateJSON
	if err := json.Unmarshal([]byte(in.MustRun("secret", "rotate", "--grace", "1h", "--json")), &js); err != nil {
		t.Fatal(err)
	}
	rotated, err1 := time.Parse(time.RFC3339, js.Rotated)
	graceEnd, err2 := time.Parse(time.RFC3339, js.GraceEnd)
	if err1 != nil || err2 != nil || graceEnd.Sub(rotated) != time.Hour {
		t.Errorf("secret rotate --json = %+v", js)
	}
	if out := in.MustRun("secret", "rotate", "--grace", "0"); !strings.Contains(out, "refused from now on") {
		t.Errorf("secret rotate --grace 0 says:\n%s", out)
	}
	if r := in.Run("secret", "rotate", "--grace", "-1h"); r.Code != 2 || !strings.Contains(r.Stderr, "negative") {
		t.Errorf("negative grace: exit %d, %q", r.Code, r.Stderr)
	}
	if r := in.Run("secret", "rotate", "now"); r.Code != 2 {
		t.Errorf("secret rotate with an argument: exit %d", r.Code)
	}
}
