package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"
)

// e2eRelay is an SMTP relay inside the test process: it takes mail for
// every recipient but those refused, and keeps what it took.
type e2eRelay struct {
	addr string

	mu     sync.Mutex
	refuse map[string]*smtp.SMTPError // RCPT TO answers
	got    []relayed
	nrcpt  map[string]int // RCPT TO seen, per address
	srv    *smtp.Server
}

type relayed struct {
	to  []string
	raw []byte
}

func newE2ERelay(t *testing.T) *e2eRelay {
	t.Helper()
	r := &e2eRelay{refuse: map[string]*smtp.SMTPError{}, nrcpt: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &e2eSession{r: r}, nil }))
	r.srv.Domain = "relay.test"
	r.srv.ReadTimeout, r.srv.WriteTimeout = time.Minute, time.Minute
	r.srv.ErrorLog = log.New(io.Discard, "", 0)
	go r.srv.Serve(ln)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *e2eRelay) mails() []relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *e2eRelay) setRefuse(addr string, ans *smtp.SMTPError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ans == nil {
		delete(r.refuse, addr)
	} else {
		r.refuse[addr] = ans
	}
}

// mailTo returns the mails taken for addr.
func (r *e2eRelay) mailTo(addr string) []relayed {
	var out []relayed
	for _, m := range r.mails() {
		if slices.Contains(m.to, addr) {
			out = append(out, m)
		}
	}
	return out
}

type e2eSession struct {
	r  *e2eRelay
	to []string
}

func (s *e2eSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *e2eSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.nrcpt[to]++
	if ans := s.r.refuse[to]; ans != nil {
		return ans
	}
	s.to = append(s.to, to)
	return nil
}
func (s *e2eSession) Data(rd io.Reader) error {
	raw, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.got = append(s.r.got, relayed{to: slices.Clone(s.to), raw: raw})
	return nil
}
func (s *e2eSession) Reset()        { s.to = nil }
func (s *e2eSession) Logout() error { return nil }

// outboxJSONOf runs outbox list --json.
func outboxJSONOf(t *testing.T, in *instance, args ...string) []outboxJSON {
	t.Helper()
	out := in.MustRun(append([]string{"outbox", "list", "--json"}, args...)...)
	var rows []outboxJSON
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("outbox list --json: %v\n%s", err, out)
	}
	return rows
}

// waitFor polls cond every 200ms until it holds or the deadline passes.
// The deadline is there for a hang, not a measure of speed.
func waitFor(deadline time.Time, cond func() bool) bool {
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
	return true
}

// TestRelayEndToEnd runs serve with [outbound] mode "smtp" against a relay
// in the test process and a DKIM key: two members' digests fall due at the
// next minute; one reaches the relay signed, with a signature that
// verifies against the published key; the other is refused with 550 and
// shows as failed with the relay's answer in outbox list; once the relay
// takes it, outbox retry delivers it.
func TestRelayEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("waits up to two minutes on the real clock")
	}
	t.Parallel()
	relay := newE2ERelay(t)
	relay.setRefuse("cy@example.com", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "<cy@example.com>: Recipient address rejected: User unknown"})

	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, fmt.Sprintf("[outbound]\nmode = \"smtp\"\nrelay = %q\ntls = \"none\"\n\n[dkim]\nselector = \"e2e\"\nkey_file = %q\n",
		relay.addr, keyFile))
	in.Start()
	if !in.WaitLog("e2e._domainkey.localhost") {
		t.Errorf("serve did not log the DKIM record to publish")
	}
	in.MustRun("team", "add", "eng")
	due := nextSlot(20 * time.Second)
	for _, who := range []string{"Ana <ana@example.com>", "Cy <cy@example.com>"} {
		in.MustRun(append([]string{"member", "add", who, "--team", "eng"}, slotFlags(t, "Europe/Berlin", due)...)...)
	}
	later := due.Add(5 * time.Hour).In(mustZone(t, "Europe/Berlin")).Format("15:04")
	in.MustRun("member", "add", "Bo <bo@example.com>", "--team", "eng", "--tz", "Europe/Berlin", "--start", later, "--days", "mon-sun")
	if r := in.Send("bo@example.com", []string{"eng@localhost"},
		post("Bo <bo@example.com>", "Relay test", "relay-test@example.com", "marker-relay We ship on Friday.")); r.Code != 250 {
		t.Fatalf("send: %s", r)
	}
	t.Logf("waiting for the digests due at %s (%s from now)", due.UTC().Format(time.RFC3339), time.Until(due).Round(time.Second))

	var failed outboxJSON
	ok := waitFor(due.Add(150*time.Second), func() bool {
		if len(relay.mailTo("ana@example.com")) == 0 {
			return false
		}
		for _, o := range outboxJSONOf(t, in, "--state", "failed") {
			if slices.Equal(o.To, []string{"cy@example.com"}) {
				failed = o
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("by %s: relay took %d mails; outbox: %+v", due.Add(150*time.Second).Format(time.TimeOnly),
			len(relay.mails()), outboxJSONOf(t, in))
	}

	// Ana's digest: once, signed, verified.
	got := relay.mailTo("ana@example.com")
	if len(got) != 1 {
		t.Fatalf("relay took %d mails for ana", len(got))
	}
	record := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(got[0].raw), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if name != "e2e._domainkey.localhost" {
				return nil, fmt.Errorf("no TXT record at %s", name)
			}
			return []string{record}, nil
		},
	})
	if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "localhost" {
		t.Errorf("DKIM verification: %v %+v", err, vs)
	}
	if !bytes.Contains(got[0].raw, []byte("marker-relay")) || !bytes.Contains(got[0].raw, []byte("List-Unsubscribe-Post:")) {
		t.Errorf("the relay got something else than the digest:\n%s", got[0].raw)
	}
	var sent []outboxJSON
	for _, o := range outboxJSONOf(t, in, "--state", "sent") {
		if slices.Equal(o.To, []string{"ana@example.com"}) {
			sent = append(sent, o)
		}
	}
	if len(sent) != 1 || sent[0].Attempts != 1 || sent[0].Done == nil || sent[0].NextAttempt != nil || sent[0].Kind != "digest" {
		t.Errorf("ana's digest in outbox list: %+v", sent)
	}

	// Cy's: failed at once, with the relay's answer.
	if failed.Attempts != 1 || failed.Done == nil ||
		!strings.Contains(failed.LastAnswer, "550 5.1.1 <cy@example.com>: Recipient address rejected: User unknown") ||
		len(failed.Recipients) != 1 || failed.Recipients[0].State != "failed" {
		t.Errorf("cy's digest in outbox list: %+v", failed)
	}
	if text := in.MustRun("outbox", "list", "--state", "failed"); !strings.Contains(text, "550 5.1.1") ||
		!strings.Contains(text, strconv.FormatUint(failed.ID, 10)) {
		t.Errorf("outbox list --state failed:\n%s", text)
	}

	// The relay learns of cy; a retry delivers the same mail.
	relay.setRefuse("cy@example.com", nil)
	out := in.MustRun("outbox", "retry", strconv.FormatUint(failed.ID, 10))
	if !strings.Contains(out, "cy@example.com") {
		t.Errorf("outbox retry: %q", out)
	}
	if !waitFor(time.Now().Add(30*time.Second), func() bool { return len(relay.mailTo("cy@example.com")) > 0 }) {
		t.Fatalf("after outbox retry, nothing reached the relay for cy; outbox: %+v", outboxJSONOf(t, in))
	}
	var after outboxJSON
	waitFor(time.Now().Add(10*time.Second), func() bool {
		for _, o := range outboxJSONOf(t, in) {
			if o.ID == failed.ID {
				after = o
			}
		}
		return after.State == "sent"
	})
	if after.State != "sent" || after.Attempts != 2 || after.MessageID != failed.MessageID {
		t.Errorf("after the retry: %+v", after)
	}
	if r := in.Run("outbox", "retry", strconv.FormatUint(failed.ID, 10)); r.Code == 0 || !strings.Contains(r.Stderr, "was sent") {
		t.Errorf("retrying a sent mail: exit %d, %q", r.Code, r.Stderr)
	}
	if r := in.Run("outbox", "retry", "9999"); r.Code != 1 || !strings.Contains(r.Stderr, "no mail 9999") {
		t.Errorf("retrying a missing mail: exit %d, %q", r.Code, r.Stderr)
	}
	if r := in.Run("outbox", "list", "--state", "lost"); r.Code != 2 {
		t.Errorf("outbox list --state lost: exit %d, want 2", r.Code)
	}
	in.Stop()
	if n := len(relay.mailTo("ana@example.com")) + len(relay.mailTo("cy@example.com")); n != 2 {
		t.Errorf("relay took %d digests in all, want 2", n)
	}
}
