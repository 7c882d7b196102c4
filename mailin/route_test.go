package mailin

import (
	"reflect"
	"testing"

	"github.com/tidings/tidings/store"
)

func TestRecipientTeams(t *testing.T) {
	t.Parallel()
	teams := []store.Team{{Name: "eng", Address: "eng@example.com"}, {Name: "qa", Address: "qa@example.com"}, {Name: "ops", Address: "ops@example.org"}}
	raw := "From: a@example.com\r\nTo: \"Eng\" <ENG@Example.com>\r\nCc: qa+digest@example.com, eng@example.com\r\n\r\nTo: ops@example.org\r\n"
	if got := RecipientTeams(teams, []byte(raw)); !reflect.DeepEqual(got, []string{"eng", "qa"}) {
		t.Errorf("RecipientTeams = %q, want eng and qa (not ops, named only in the body)", got)
	}
}

func TestRecipientAddrs(t *testing.T) {
	t.Parallel()
	raw := "From: a@example.com\r\nTo: \"Eng, the team\" <ENG@Example.com>,\r\n\tops@example.com\r\n" +
		"Subject: cc: x@example.com\r\nCC: =?utf-8?q?Z=C3=BC?= <qa+digest@example.com>\r\n" +
		"Delivered-To: archive@example.com\r\n\r\nTo: body@example.com\r\n"
	got := recipientAddrs([]byte(raw))
	want := []string{"eng@example.com", "ops@example.com", "qa+digest@example.com", "archive@example.com"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recipientAddrs = %q, want %q", got, want)
	}
	if got := recipientAddrs([]byte("To: a@b.example")); !reflect.DeepEqual(got, []string{"a@b.example"}) {
		t.Errorf("header without body: %q", got)
	}
}
