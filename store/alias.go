package store

import (
	"fmt"
	"slices"
	"strings"
)

// A member's aliases are their other addresses: mail from one of them is
// theirs. The bucket bAliases maps each alias to the member's address, so
// that a sender is found in one lookup; PutMember and RemoveMember keep it
// in step with the members' records.

// MemberByAddress returns the member whose address or alias is addr
// (case-insensitive); ErrNotFound if there is none.
func (t *Tx) MemberByAddress(addr string) (Member, error) {
	a := strings.ToLower(addr)
	if t.b(bMembers).Get([]byte(a)) == nil {
		if owner := t.b(bAliases).Get([]byte(a)); owner != nil {
			a = string(owner)
		}
	}
	m, err := t.Member(a)
	if err != nil {
		return Member{}, fmt.Errorf("member address %s: %w", addr, err)
	}
	return m, nil
}

// normalizeAliases lower-cases, sorts and de-duplicates m's aliases and
// drops its own address from them.
func normalizeAliases(m *Member) {
	if len(m.Aliases) == 0 {
		m.Aliases = nil
		return
	}
	out := make([]string, 0, len(m.Aliases))
	for _, a := range m.Aliases {
		a = strings.ToLower(strings.TrimSpace(a))
		if a != "" && a != m.Address {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	m.Aliases = slices.Compact(out)
	if len(m.Aliases) == 0 {
		m.Aliases = nil
	}
}

// checkAddresses refuses, with ErrExists, a member whose address or an
// alias belongs to someone else: another member's address or alias, or a
// team's address (mail from a team address is the team's own).
func (t *Tx) checkAddresses(m Member) error {
	if owner := t.b(bAliases).Get([]byte(m.Address)); owner != nil && string(owner) != m.Address {
		return fmt.Errorf("member %s: the address is an alias of %s: %w", m.Address, owner, ErrExists)
	}
	if t.b(bTeamAddr).Get([]byte(m.Address)) != nil {
		return fmt.Errorf("member %s: a team's address: %w", m.Address, ErrExists)
	}
	for _, a := range m.Aliases {
		if t.b(bMembers).Get([]byte(a)) != nil {
			return fmt.Errorf("alias %s: the address of another member: %w", a, ErrExists)
		}
		if owner := t.b(bAliases).Get([]byte(a)); owner != nil && string(owner) != m.Address {
			return fmt.Errorf("alias %s: an alias of %s: %w", a, owner, ErrExists)
		}
		if t.b(bTeamAddr).Get([]byte(a)) != nil {
			return fmt.Errorf("alias %s: a team's address: %w", a, ErrExists)
		}
	}
	return nil
}

// indexAliases points the alias index at m for its aliases, and drops the
// aliases that old (m's record before, zero if new) had and m has not.
func (t *Tx) indexAliases(old, m Member) error {
	for _, a := range old.Aliases {
		if !slices.Contains(m.Aliases, a) {
			if err := t.b(bAliases).Delete([]byte(a)); err != nil {
				return fmt.Errorf("drop alias %s: %w", a, err)
			}
		}
	}
	for _, a := range m.Aliases {
		if err := t.b(bAliases).Put([]byte(a), []byte(m.Address)); err != nil {
			return fmt.Errorf("put alias %s: %w", a, err)
		}
	}
	return nil
}

// putMemberAliases is PutMember's part for aliases: it normalises m's
// aliases, checks them and updates the index. m.Address is lower-case.
func (t *Tx) putMemberAliases(m *Member) error {
	normalizeAliases(m)
	if err := t.checkAddresses(*m); err != nil {
		return err
	}
	var old Member
	if _, err := getJSON(t.b(bMembers), []byte(m.Address), &old); err != nil {
		return err
	}
	return t.indexAliases(old, *m)
}

// dropMemberAliases is RemoveMember's part for aliases: the member's
// aliases leave the index with them.
func (t *Tx) dropMemberAliases(addr string) error {
	var old Member
	if _, err := getJSON(t.b(bMembers), []byte(addr), &old); err != nil {
		return err
	}
	return t.indexAliases(old, Member{Address: addr})
}
