package main

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
)

// teamNameRE is what a team name may be: it appears in commands, subjects
// and store keys.
var teamNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func checkTeamName(name string) error {
	if !teamNameRE.MatchString(name) {
		return fmt.Errorf("team name %q: use lower-case letters, digits, '.', '_' or '-' (at most 64)", name)
	}
	return nil
}

// parseMailbox reads an address as typed by an administrator, with or
// without a display name, and returns it lower-cased.
func parseMailbox(s string) (addr, name string, err error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return "", "", fmt.Errorf("%q is not an e-mail address", s)
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(a.Address, " \t\r\n") {
		return "", "", fmt.Errorf("%q is not an e-mail address", s)
	}
	return strings.ToLower(a.Address), a.Name, nil
}

// parseAllow checks one allow-list entry: an address or "@domain".
func parseAllow(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if d, ok := strings.CutPrefix(s, "@"); ok {
		if d == "" || strings.ContainsAny(d, "@ \t<>,;") || !strings.Contains(d, ".") && d != "localhost" {
			return "", fmt.Errorf("--allow %q: a domain entry looks like @example.com", s)
		}
		return s, nil
	}
	addr, _, err := parseMailbox(s)
	if err != nil {
		return "", fmt.Errorf("--allow %q: want an address (ana@example.com) or a domain (@example.com)", s)
	}
	return addr, nil
}
