package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSelfSigned writes a throwaway certificate and key for 127.0.0.1.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestStartTLSFromConfig configures tls_cert and tls_key and sends a
// message over STARTTLS to the built binary, checking the certificate the
// server presents.
func TestStartTLSFromConfig(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	certFile, keyFile := writeSelfSigned(t, in.Dir)
	cfg := fmt.Sprintf("domain = \"localhost\"\ndata_dir = %q\n\n[smtp]\nlisten = %q\ntls_cert = %q\ntls_key = %q\n\n[http]\nlisten = %q\n",
		in.DataDir, in.SMTPAddr, certFile, keyFile, freePort(t))
	if err := os.WriteFile(in.Config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	in.Start()
	in.MustRun("team", "add", "eng", "--address", "eng@localhost")
	in.MustRun("member", "add", "ana@example.com", "--team", "eng")

	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)

	c, err := smtp.Dial(in.SMTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered with tls_cert and tls_key set")
	}
	if err := c.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: pool}); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	if state, ok := c.TLSConnectionState(); !ok || !state.HandshakeComplete {
		t.Fatal("no TLS after STARTTLS")
	}
	msg := mailAt("Ana <ana@example.com>", "eng@localhost", "Over TLS", "tls-1@example.com", time.Now())
	if err := c.Mail("ana@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("eng@localhost"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(msg))
	if err := w.Close(); err != nil {
		t.Fatalf("DATA over TLS: %v", err)
	}
	c.Quit()

	ths := threadsJSON(t, in)
	if len(ths) != 1 || strings.Join(ths[0].MessageIDs, ",") != "tls-1@example.com" {
		t.Errorf("threads %+v, want the message sent over TLS", ths)
	}
	if !strings.Contains(in.Log(), "tls=true") {
		t.Errorf("the log does not record the session as TLS:\n%s", in.Log())
	}
	in.Stop()
}
