package mailout

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// testRSAKey is generated once: a 2048-bit key takes a while.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// writeKey writes key as PEM of the given type into a file in t.TempDir.
func writeKey(t *testing.T, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// verifyDKIM checks signed mail against k's published record, as a
// receiver would, and returns the verifications.
func verifyDKIM(t *testing.T, k *DKIM, signed []byte) []*dkim.Verification {
	t.Helper()
	rec, err := k.DNSRecord()
	if err != nil {
		t.Fatal(err)
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(signed), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if name != k.DNSName() {
				return nil, fmt.Errorf("no TXT record at %s", name)
			}
			return []string{rec}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestDKIMSignVerifies(t *testing.T) {
	t.Parallel()
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	m := testMail(1)
	m.Date = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	raw, err := Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, typ string
		der       []byte
	}{
		{"rsa pkcs1", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(testRSAKey())},
		{"rsa pkcs8", "PRIVATE KEY", pkcs8(testRSAKey())},
		{"ed25519", "PRIVATE KEY", pkcs8(edKey)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			k, err := NewDKIM("example.com", "tidings", writeKey(t, c.typ, c.der))
			if err != nil {
				t.Fatal(err)
			}
			orig := bytes.Clone(raw)
			signed, err := k.Sign(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, orig) || !bytes.HasSuffix(signed, raw) || !bytes.HasPrefix(signed, []byte("DKIM-Signature: ")) {
				t.Fatalf("Sign must prepend one field and leave the mail alone:\n%s", signed)
			}
			vs := verifyDKIM(t, k, signed)
			if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "example.com" {
				t.Fatalf("verifications %+v, want one valid for example.com", vs)
			}
			sig := string(signed[:len(signed)-len(raw)])
			for _, want := range []string{"c=relaxed/relaxed", "s=tidings", "list-unsubscribe:list-unsubscribe:",
				"list-unsubscribe-post", "from:from:"} {
				if !strings.Contains(strings.ToLower(strings.Join(strings.Fields(sig), "")), want) {
					t.Errorf("signature lacks %q:\n%s", want, sig)
				}
			}

			// What a receiver must notice.
			for _, tc := range []struct{ name, old, new string }{
				{"changed subject", "Subject: [tidings] 1 updates", "Subject: [tidings] 2 updates"},
				{"a second From above", "From: ", "From: Mallory <m@evil.example>\r\nFrom: "},
				{"an added List-Unsubscribe", "Subject: ", "List-Unsubscribe: <https://evil.example/>\r\nSubject: "},
				{"changed body", "Digest 1", "Digest 9"},
			} {
				tampered := strings.Replace(string(signed), tc.old, tc.new, 1)
				if tampered == string(signed) {
					t.Fatalf("%s: %q not in the mail", tc.name, tc.old)
				}
				vs := verifyDKIM(t, k, []byte(tampered))
				if len(vs) != 1 || vs[0].Err == nil {
					t.Errorf("%s: still verifies", tc.name)
				}
			}
		})
	}
}

// rsa512 is a 512-bit key, which crypto/rsa no longer makes (and
// verifiers ignore, RFC 8301 § 3.2).
const rsa512 = `-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBALxjZfRkPJCsOwE3glRg1bIkaILnJr5UwXoyWNyeM1sfTtlWN9XA
L31cmpwDTLiZb2i2Rti8ahCEUtrVgUpRoE8CAwEAAQJBAKFhELyrhUp1j9I6B/Za
QZVqJPFGLGVNW7RfHspW5y19ivMdGyZUtvFg+RVoY7XfLUpMls+dFc2IaATnfxBE
DDECIQDifRDVBoEknyU2Rf7h+Rsj0/B6vcB0vtSgE/7qQEqz6QIhANTvbe1hOqG5
boGDbE0ZGfPuplZ0CltQK+UmJwg8g6d3AiAioacCO8VheSgyfU909CcvOkgKLJuR
/l/6vjP7U6tYiQIgSaxJmW8hjSEOVes1xnsf2qFAlfryNmPHvDH2IUhmuMMCIDe5
U2m8K2A+kTNKYKihlD9HEfb9LaLS9XaN3uG3Wi56
-----END RSA PRIVATE KEY-----
`

func TestParseDKIMKeyRefuses(t *testing.T) {
	t.Parallel()
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not really")})
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no PEM private key"},
		{"certificate only", cert, "no PEM private key"},
		{"short rsa", []byte(rsa512), "too short"},
		{"garbage", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}), "PRIVATE KEY"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseDKIMKey(c.data); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ParseDKIMKey = %v, want an error with %q", err, c.want)
			}
		})
	}
	// A certificate before the key is skipped.
	data := append(cert, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testRSAKey())})...)
	if _, err := ParseDKIMKey(data); err != nil {
		t.Errorf("key after a certificate: %v", err)
	}
	if _, err := NewDKIM("example.com", "tidings", filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Error("NewDKIM with a missing file: no error")
	}
}
