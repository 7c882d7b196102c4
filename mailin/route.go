package mailin

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/tidings/tidings/store"
)

// RecipientTeams returns the names of the teams whose address, or a
// plus-address of it, appears in the message's recipient fields: how an
// archive being imported says which team each message was for.
func RecipientTeams(teams []store.Team, raw []byte) []string {
	byAddr := make(map[string]string, len(teams))
	for _, t := range teams {
		byAddr[strings.ToLower(t.Address)] = t.Name
	}
	var names []string
	seen := map[string]bool{}
	for _, a := range recipientAddrs(raw) {
		name, ok := byAddr[a]
		if !ok {
			if local, domain, found := strings.Cut(a, "@"); found {
				if base, _, plus := strings.Cut(local, "+"); plus {
					name, ok = byAddr[base+"@"+domain]
				}
			}
		}
		if ok && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

var addrRE = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9.-]+`)

// recipientFields are where a message names the addresses it was sent to.
var recipientFields = []string{"to", "cc", "delivered-to", "x-original-to"}

// recipientAddrs finds the addresses in a message's recipient header
// fields, lower-cased. It reads only the header and is lenient: archives
// hold mail whose address lists no strict parser accepts.
func recipientAddrs(raw []byte) []string {
	var out []string
	var field []byte
	take := func() {
		name, value, ok := bytes.Cut(field, []byte(":"))
		if !ok {
			return
		}
		n := strings.ToLower(strings.TrimSpace(string(name)))
		for _, f := range recipientFields {
			if n == f {
				for _, a := range addrRE.FindAll(value, -1) {
					out = append(out, strings.ToLower(strings.TrimRight(string(a), ".")))
				}
			}
		}
	}
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break // end of the header
		}
		if line[0] == ' ' || line[0] == '\t' {
			field = append(field, line...)
			continue
		}
		take()
		field = append(field[:0], line...)
	}
	take()
	return out
}
