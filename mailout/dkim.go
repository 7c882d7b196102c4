package mailout

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimHeaders are the fields a signature covers (RFC 6376 § 5.4.1), in
// the order h= names them. Fields a mail lacks are named all the same: a
// verifier then refuses a copy that has gained one. The fields a reader
// sees or acts on are named twice ("oversigned", RFC 6376 § 8.15), so that
// a second From, Subject or List-Unsubscribe added above ours also breaks
// the signature instead of being shown in its place. RFC 8058 § 4 requires
// List-Unsubscribe and List-Unsubscribe-Post to be signed.
var dkimHeaders = []string{
	"From", "From",
	"Reply-To", "Reply-To",
	"Subject", "Subject",
	"Date", "Date",
	"To", "To",
	"Cc", "Cc",
	"Message-ID",
	"In-Reply-To",
	"References",
	"List-Id",
	"List-Unsubscribe", "List-Unsubscribe",
	"List-Unsubscribe-Post", "List-Unsubscribe-Post",
	"Auto-Submitted",
	"Precedence",
	"MIME-Version",
	"Content-Type",
	"Content-Transfer-Encoding",
}

// minRSABits is the smallest RSA key verifiers accept.
const minRSABits = 1024

// DKIM signs outgoing mail (RFC 6376) with relaxed/relaxed canonicalization
// and SHA-256, as Domain with the key published at
// Selector._domainkey.Domain. Every field is required; use it after
// NewDKIM checked them. It is safe for concurrent use.
type DKIM struct {
	Domain   string
	Selector string
	Key      crypto.Signer // *rsa.PrivateKey or ed25519.PrivateKey
}

// NewDKIM reads the PEM private key at keyFile (RSA in PKCS #1 or PKCS #8,
// Ed25519 in PKCS #8) and returns a signer for domain and selector.
func NewDKIM(domain, selector, keyFile string) (*DKIM, error) {
	if domain == "" || selector == "" {
		return nil, errors.New("mailout: dkim: domain and selector are required")
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("mailout: dkim key: %w", err)
	}
	key, err := ParseDKIMKey(data)
	if err != nil {
		return nil, fmt.Errorf("mailout: dkim key %s: %w", keyFile, err)
	}
	return &DKIM{Domain: domain, Selector: selector, Key: key}, nil
}

// ParseDKIMKey reads the first PEM private key in data: "RSA PRIVATE KEY"
// (PKCS #1) or "PRIVATE KEY" (PKCS #8, RSA or Ed25519). RSA keys under
// 1024 bits are refused: verifiers ignore their signatures (RFC 8301
// § 3.2), and crypto/rsa does not sign with them.
func ParseDKIMKey(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key found")
		}
		var key any
		var err error
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		default:
			continue // a certificate or parameters beside the key
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", block.Type, err)
		}
		switch k := key.(type) {
		case *rsa.PrivateKey:
			if n := k.N.BitLen(); n < minRSABits {
				return nil, fmt.Errorf("RSA key of %d bits is too short (at least %d)", n, minRSABits)
			}
			return k, nil
		case ed25519.PrivateKey:
			return k, nil
		default:
			return nil, fmt.Errorf("%T is neither an RSA nor an Ed25519 key", key)
		}
	}
}

// DNSName is where the public key is published.
func (k *DKIM) DNSName() string { return k.Selector + "._domainkey." + k.Domain }

// DNSRecord is the TXT record to publish at DNSName: "v=DKIM1; k=rsa;
// p=…" (RFC 6376 § 3.6.1) or "k=ed25519" with the raw key (RFC 8463).
func (k *DKIM) DNSRecord() (string, error) {
	switch pub := k.Key.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", fmt.Errorf("mailout: dkim: %w", err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	default:
		return "", fmt.Errorf("mailout: dkim: unsupported key %T", pub)
	}
}

// Sign returns raw with a DKIM-Signature field prepended. raw is not
// changed. Signing happens when a mail is handed to the relay, not when it
// is queued: the outbox keeps the bytes as composed, and a new key applies
// to mail already queued.
func (k *DKIM) Sign(raw []byte) ([]byte, error) {
	s, err := dkim.NewSigner(&dkim.SignOptions{
		Domain:                 k.Domain,
		Selector:               k.Selector,
		Signer:                 k.Key,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             dkimHeaders,
	})
	if err != nil {
		return nil, fmt.Errorf("mailout: dkim: %w", err)
	}
	if _, err := s.Write(raw); err != nil {
		s.Close()
		return nil, fmt.Errorf("mailout: dkim sign: %w", err)
	}
	if err := s.Close(); err != nil {
		return nil, fmt.Errorf("mailout: dkim sign: %w", err)
	}
	sig := s.Signature()
	var b bytes.Buffer
	b.Grow(len(sig) + len(raw))
	b.WriteString(sig)
	b.Write(raw)
	return b.Bytes(), nil
}
