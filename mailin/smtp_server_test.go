package mailin

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func TestSMTPShutdownFinishesSession(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	m := msg(memberAddr, engAddr, "in flight", "flight-1@example.org", "Sent while the server stops.\r\n")

	busy := dialRaw(t, e.addr)
	busy.begin(memberAddr, engAddr)
	busy.send(m[:len(m)/2])
	idle := dialRaw(t, e.addr)
	idle.hello()

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		done <- e.srv.Shutdown(ctx)
	}()

	// An idle session is told at once and closed.
	idle.expect(421, "4.3.2")
	idle.expectClosed()
	// No new connection is taken.
	if c, err := net.Dial("tcp", e.addr); err == nil {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if strings.HasPrefix(line, "220") {
			t.Errorf("a new connection was greeted during shutdown: %q", line)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a message was in flight", err)
	default:
	}

	// The session in flight finishes its message, gets 250, then 421.
	busy.send(m[len(m)/2:] + ".\r\n")
	busy.expect(250, "2.0.0")
	busy.expect(421, "4.3.2")
	busy.expectClosed()
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	ms := e.wantStored(t, 1)
	if ms[0].MessageID != "flight-1@example.org" {
		t.Errorf("stored %+v", ms[0])
	}
}

func TestSMTPShutdownDeadline(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{})
	busy := dialRaw(t, e.addr)
	busy.begin(memberAddr, engAddr)
	busy.send("From: " + memberAddr + "\r\n")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := e.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the deadline", err)
	}
	// The client that did not finish is cut off without a 250.
	busy.expectClosed(421)
	e.wantStored(t, 0)
}

func TestSMTPListenAndServe(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{}) // for its store and pipeline
	srv := NewSMTPServer(e.p, SMTPOptions{Listen: "127.0.0.1:0", Logger: testLogger(t)})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe(ctx) }()

	var addr net.Addr
	for deadline := time.Now().Add(10 * time.Second); addr == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never listened")
		}
		addr = srv.Addr()
	}
	if err := dialClient(t, addr.String()).Noop(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("ListenAndServe = %v after its context ended", err)
	}
	if err := srv.Serve(mustListen(t)); !errors.Is(err, ErrSMTPClosed) {
		t.Fatalf("Serve after shutdown = %v, want ErrSMTPClosed", err)
	}
}

func mustListen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSMTPMaxConnections(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{MaxConnections: 2})
	first := dialRaw(t, e.addr)
	dialRaw(t, e.addr)

	greeting := func() string {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := textproto.NewReader(bufio.NewReader(c))
		line, err := r.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "421") {
			if _, err := r.ReadLine(); err == nil {
				t.Error("connection left open after 421")
			}
		}
		return line
	}
	if line := greeting(); !strings.HasPrefix(line, "421 4.4.5 ") {
		t.Fatalf("third connection greeted with %q, want 421 4.4.5", line)
	}

	// Once one leaves, a new one is served.
	first.cmd("QUIT", 221, "2.0.0")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		line := greeting()
		if strings.HasPrefix(line, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused after a connection ended: %q", line)
		}
	}
}

func TestSMTPMaxConnectionsPerIP(t *testing.T) {
	t.Parallel()
	e := newSMTPEnv(t, SMTPOptions{MaxConnectionsPerIP: 2})
	first := dialRaw(t, e.addr)
	dialRaw(t, e.addr)

	// greeting dials from laddr and returns the first line, checking that a
	// 421 is followed by the end of the connection.
	greeting := func(laddr string) (string, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(laddr)}}
		c, err := d.Dial("tcp", e.addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := textproto.NewReader(bufio.NewReader(c))
		line, err := r.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "421") {
			if _, err := r.ReadLine(); err == nil {
				t.Error("connection left open after 421")
			}
		}
		return line, nil
	}
	if line, err := greeting("127.0.0.1"); err != nil || !strings.HasPrefix(line, "421 4.7.0 ") {
		t.Fatalf("third connection from 127.0.0.1 greeted with %q, %v; want 421 4.7.0", line, err)
	}
	// Another address has its own count. Not every system routes all of
	// 127/8 to loopback.
	if line, err := greeting("127.0.0.2"); err != nil {
		t.Logf("no second loopback address: %v", err)
	} else if !strings.HasPrefix(line, "220 ") {
		t.Errorf("first connection from 127.0.0.2 greeted with %q", line)
	}

	// Once one leaves, the address may connect again.
	first.cmd("QUIT", 221, "2.0.0")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		line, err := greeting("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused after a connection ended: %q", line)
		}
	}
}

func TestIPKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr net.Addr
		want string // "" when not counted
	}{
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 25}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 25}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1")}, "127.0.0.1"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:aaaa::1")}, "2001:db8:1:2::"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:bbbb::9")}, "2001:db8:1:2::"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1")}, "2001:db8:1:3::"},
		{&net.UnixAddr{Name: "/run/x", Net: "unix"}, ""},
		{&net.TCPAddr{}, ""},
	}
	for _, tt := range tests {
		ip, ok := ipKey(tt.addr)
		var got string
		if ok {
			got = ip.String()
		}
		if got != tt.want || ok != (ip != netip.Addr{}) {
			t.Errorf("ipKey(%v) = %v, %v; want %q", tt.addr, ip, ok, tt.want)
		}
	}
}

func TestSMTPStartTLS(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)

	t.Run("offered and used", func(t *testing.T) {
		t.Parallel()
		e := newSMTPEnv(t, SMTPOptions{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
		if ext := dialRaw(t, e.addr).hello(); !strings.Contains(ext, "STARTTLS") {
			t.Fatalf("STARTTLS not offered: %q", ext)
		}
		c, err := smtp.DialStartTLS(e.addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, ok := c.TLSConnectionState(); !ok {
			t.Fatal("not encrypted")
		}
		if err := c.Mail(memberAddr, nil); err != nil {
			t.Fatal(err)
		}
		wantSMTPError(t, c.Rcpt("nobody@example.com", nil), 550, smtp.EnhancedCode{5, 1, 1})
		m := msg(memberAddr, engAddr, "secret", "tls-1@example.org", "Over TLS.\r\n")
		if err := c.SendMail(memberAddr, []string{engAddr}, strings.NewReader(m)); err != nil {
			t.Fatal(err)
		}
		if ms := e.wantStored(t, 1); ms[0].MessageID != "tls-1@example.org" {
			t.Errorf("stored %+v", ms[0])
		}
		// A TLS session is shut down like any other.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("not offered without a certificate", func(t *testing.T) {
		t.Parallel()
		e := newSMTPEnv(t, SMTPOptions{})
		c := dialRaw(t, e.addr)
		if ext := c.hello(); strings.Contains(ext, "STARTTLS") {
			t.Fatalf("STARTTLS offered: %q", ext)
		}
		c.cmd("STARTTLS", 502, "5.5.1")
	})
}

// selfSigned makes a certificate for localhost and 127.0.0.1.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
