package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestMemberAliases(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	put := func(m Member) error {
		return s.Update(ctx, func(tx *Tx) error { return tx.PutMember(m) })
	}
	byAddr := func(addr string) (Member, error) {
		var m Member
		err := s.View(func(tx *Tx) error {
			var err error
			m, err = tx.MemberByAddress(addr)
			return err
		})
		return m, err
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.AddTeam(Team{Name: "eng", Address: "eng@example.com"}) }); err != nil {
		t.Fatal(err)
	}
	ana := Member{Address: "Ana@Example.com", Aliases: []string{"Ana.Lima@Home.example", "ana@example.com", "ana@work.example", "ANA@work.example"}}
	if err := put(ana); err != nil {
		t.Fatal(err)
	}
	if err := put(Member{Address: "bo@example.com"}); err != nil {
		t.Fatal(err)
	}

	m, err := byAddr("ana@example.com")
	if err != nil || m.Address != "ana@example.com" {
		t.Fatalf("MemberByAddress(own address) = %+v, %v", m, err)
	}
	// Stored lower-case, sorted, once each, without the member's own address.
	if want := []string{"ana.lima@home.example", "ana@work.example"}; !reflect.DeepEqual(m.Aliases, want) {
		t.Errorf("aliases %q, want %q", m.Aliases, want)
	}
	for _, a := range []string{"ana.lima@home.example", "ANA@Work.Example"} {
		if m, err := byAddr(a); err != nil || m.Address != "ana@example.com" {
			t.Errorf("MemberByAddress(%s) = %+v, %v", a, m, err)
		}
	}
	if _, err := byAddr("cy@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown address: %v, want ErrNotFound", err)
	}
	// Member itself knows only addresses.
	s.View(func(tx *Tx) error {
		if _, err := tx.Member("ana@work.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Member(alias): %v, want ErrNotFound", err)
		}
		return nil
	})

	refused := []struct {
		name string
		m    Member
	}{
		{"another member's address as an alias", Member{Address: "bo@example.com", Aliases: []string{"ana@example.com"}}},
		{"another member's alias", Member{Address: "bo@example.com", Aliases: []string{"Ana@Work.example"}}},
		{"a team's address", Member{Address: "bo@example.com", Aliases: []string{"eng@example.com"}}},
		{"a new member at another's alias", Member{Address: "ana@work.example"}},
	}
	for _, tc := range refused {
		if err := put(tc.m); !errors.Is(err, ErrExists) {
			t.Errorf("%s: %v, want ErrExists", tc.name, err)
		}
	}
	if m, err := byAddr("bo@example.com"); err != nil || len(m.Aliases) != 0 {
		t.Errorf("a refused change was stored: %+v, %v", m, err)
	}

	// Dropping an alias frees it for another member.
	m, _ = byAddr("ana@example.com")
	m.Aliases = []string{"ana.lima@home.example"}
	if err := put(m); err != nil {
		t.Fatal(err)
	}
	if _, err := byAddr("ana@work.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a dropped alias still finds a member: %v", err)
	}
	if err := put(Member{Address: "bo@example.com", Aliases: []string{"ana@work.example"}}); err != nil {
		t.Errorf("taking a freed alias: %v", err)
	}
	if m, err := byAddr("ana@work.example"); err != nil || m.Address != "bo@example.com" {
		t.Errorf("MemberByAddress(freed alias) = %+v, %v", m, err)
	}

	// Removing a member removes its aliases.
	if err := s.Update(ctx, func(tx *Tx) error { return tx.RemoveMember("ANA@example.com") }); err != nil {
		t.Fatal(err)
	}
	if _, err := byAddr("ana.lima@home.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("alias of a removed member: %v, want ErrNotFound", err)
	}
	if err := put(Member{Address: "ana.lima@home.example"}); err != nil {
		t.Errorf("a removed member's alias as a new member: %v", err)
	}
	s.View(func(tx *Tx) error {
		n := 0
		tx.b(bAliases).ForEach(func(k, v []byte) error { n++; return nil })
		if n != 1 {
			t.Errorf("alias index holds %d entries, want 1 (bo's)", n)
		}
		return nil
	})
}

// TestTeamAndMemberAddressesApart: no address is both a team's and a
// member's (or an alias), whichever comes first.
func TestTeamAndMemberAddressesApart(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.AddTeam(Team{Name: "eng", Address: "eng@example.com"}); err != nil {
			return err
		}
		return tx.PutMember(Member{Address: "ana@example.com", Aliases: []string{"ana@home.example"}, Teams: map[string]string{"eng": ModeDigest}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fn   func(tx *Tx) error
	}{
		{"team at a member's address", func(tx *Tx) error { return tx.AddTeam(Team{Name: "ops", Address: "Ana@Example.com"}) }},
		{"team at an alias", func(tx *Tx) error { return tx.AddTeam(Team{Name: "ops", Address: "ana@home.example"}) }},
		{"member at a team's address", func(tx *Tx) error {
			return tx.PutMember(Member{Address: "eng@example.com", Teams: map[string]string{"eng": ModeDigest}})
		}},
	} {
		if err := s.Update(ctx, c.fn); !errors.Is(err, ErrExists) {
			t.Errorf("%s: %v, want ErrExists", c.name, err)
		}
	}
}
