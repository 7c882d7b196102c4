package store

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"
)

// The instance secret signs reply addresses and links. The current one is
// kept under keySecret in the meta bucket (where it has always been, so
// that existing files keep their secret); the secrets it replaced are kept
// under keyRetired, each with the end of its grace period, until a later
// rotation finds that period over.
var (
	keySecret  = []byte("secret")
	keyRetired = []byte("secret_retired")
)

const secretLen = 32

// retiredSecret is a secret replaced by RotateSecret, still accepted
// before Until.
type retiredSecret struct {
	Secret []byte    `json:"secret"`
	Until  time.Time `json:"until"`
}

// Secret returns the instance's current secret for signing reply addresses
// and links, creating 32 random bytes on first use. In a read-only
// transaction before the first use it returns an error wrapping
// ErrNotFound.
func (t *Tx) Secret() ([]byte, error) {
	if v := t.b(bMeta).Get(keySecret); len(v) == secretLen {
		return bytes.Clone(v), nil
	}
	if !t.tx.Writable() {
		return nil, fmt.Errorf("store: no secret yet: %w", ErrNotFound)
	}
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	return secret, t.b(bMeta).Put(keySecret, secret)
}

// Secrets returns the current secret (made on first use, as Secret does)
// and the earlier ones whose grace period has not ended at now, the most
// recently retired first. Tokens are made with current only; those made
// with a previous secret are still accepted.
func (t *Tx) Secrets(now time.Time) (current []byte, previous [][]byte, err error) {
	current, err = t.Secret()
	if err != nil {
		return nil, nil, err
	}
	retired, err := t.retiredSecrets()
	if err != nil {
		return nil, nil, err
	}
	for _, r := range retired {
		if now.Before(r.Until) {
			previous = append(previous, r.Secret)
		}
	}
	return current, previous, nil
}

// RotateSecret makes a new current secret. The one it replaces is still
// accepted until now+grace; secrets whose grace has ended are deleted. A
// grace of zero, for a secret that has leaked, refuses it and every older
// one at once. A
// negative grace is refused. Needs a write transaction.
func (t *Tx) RotateSecret(now time.Time, grace time.Duration) error {
	if grace < 0 {
		return fmt.Errorf("store: rotate secret: negative grace period %v", grace)
	}
	old, err := t.Secret()
	if err != nil {
		return fmt.Errorf("store: rotate secret: %w", err)
	}
	retired, err := t.retiredSecrets()
	if err != nil {
		return fmt.Errorf("store: rotate secret: %w", err)
	}
	// A grace of zero is for a secret that may have leaked: every older
	// one, still in its grace or not, is refused from now on too, or
	// tokens older than the leaked one's would outlive it.
	var kept []retiredSecret
	if grace > 0 {
		kept = append(kept, retiredSecret{Secret: old, Until: now.Add(grace).UTC()})
		for _, r := range retired {
			if now.Before(r.Until) {
				kept = append(kept, r)
			}
		}
	}
	secret, err := newSecret()
	if err != nil {
		return err
	}
	data, err := json.Marshal(kept)
	if err != nil {
		return fmt.Errorf("store: rotate secret: %w", err)
	}
	if err := t.b(bMeta).Put(keyRetired, data); err != nil {
		return fmt.Errorf("store: rotate secret: %w", err)
	}
	if err := t.b(bMeta).Put(keySecret, secret); err != nil {
		return fmt.Errorf("store: rotate secret: %w", err)
	}
	return nil
}

// retiredSecrets returns the retired secrets as stored, the most recently
// retired first.
func (t *Tx) retiredSecrets() ([]retiredSecret, error) {
	var out []retiredSecret
	if _, err := getJSON(t.b(bMeta), keyRetired, &out); err != nil {
		return nil, err
	}
	for i, r := range out {
		if len(r.Secret) != secretLen {
			return nil, fmt.Errorf("store: retired secret %d has %d bytes", i, len(r.Secret))
		}
	}
	return out, nil
}

func newSecret() ([]byte, error) {
	secret := make([]byte, secretLen)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("store: make secret: %w", err)
	}
	return secret, nil
}
