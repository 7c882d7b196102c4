package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/tidings/tidings/mailout"
)

// outboundTransport is the delivery that [outbound] asks for: nil for the
// Maildir (mode "dir"), or the relay, with its password and DKIM key read
// now, so that serve refuses to start over a missing file rather than let
// every mail fail later. log has no component.
func outboundTransport(e *env, log *slog.Logger) (mailout.Transport, error) {
	cfg := e.cfg
	var signer *mailout.DKIM
	if cfg.DKIM.KeyFile != "" {
		var err error
		signer, err = mailout.NewDKIM(cfg.DKIM.Domain, cfg.DKIM.Selector, e.abs(cfg.DKIM.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("dkim.key_file: %w", err)
		}
		rec, err := signer.DNSRecord()
		if err != nil {
			return nil, fmt.Errorf("dkim.key_file: %w", err)
		}
		if cfg.Outbound.Mode == "smtp" {
			log.Info("signing with dkim; publish this TXT record", "component", "mailout", "name", signer.DNSName(), "record", rec)
		} else {
			log.Warn("dkim.key_file is set, but mail delivered to the outbox directory is not signed", "component", "mailout")
		}
	}
	if cfg.Outbound.Mode != "smtp" {
		return nil, nil
	}
	r := &mailout.Relay{
		Addr:           cfg.Outbound.Relay,
		TLS:            cfg.Outbound.TLS,
		Username:       cfg.Outbound.Username,
		LocalName:      cfg.Domain,
		MaxConnections: cfg.Outbound.MaxConnections,
		DKIM:           signer,
		Logger:         log,
	}
	if cfg.Outbound.PasswordFile != "" {
		pw, err := os.ReadFile(e.abs(cfg.Outbound.PasswordFile))
		if err != nil {
			return nil, fmt.Errorf("outbound.password_file: %w", err)
		}
		r.Password = strings.TrimRight(string(pw), "\r\n")
		if r.Password == "" {
			return nil, fmt.Errorf("outbound.password_file: %s is empty", cfg.Outbound.PasswordFile)
		}
	}
	log.Info("delivering through a relay", "component", "mailout", "relay", r.Addr, "tls", r.TLS,
		"auth", r.Username != "", "dkim", signer != nil, "max_connections", r.MaxConnections)
	return r, nil
}
