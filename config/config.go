package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// EnvVar names the environment variable that may point to the configuration
// file when no --config flag is given.
const EnvVar = "TIDINGS_CONFIG"

// Config is the whole configuration. Every key is optional; Load fills in the
// defaults noted on each field.
type Config struct {
	// Domain names Message-IDs, reply addresses and List-Id. Default "localhost".
	Domain string `toml:"domain"`
	// DataDir holds the database, the control socket and the outbox.
	// Default "./tidings-data"; a relative path is taken from the working
	// directory.
	DataDir string `toml:"data_dir"`
	// Reactions are the acknowledgements that make a reply a reaction
	// rather than a message ("thanks", "+1", "lgtm", …), compared without
	// regard to case; replies of emoji alone always are. Empty means the
	// built-in list, in the languages teams write in most.
	Reactions []string `toml:"reactions"`

	SMTP     SMTP     `toml:"smtp"`
	IMAP     []IMAP   `toml:"imap"`
	Outbound Outbound `toml:"outbound"`
	DKIM     DKIM     `toml:"dkim"`
	HTTP     HTTP     `toml:"http"`
	Digest   Digest   `toml:"digest"`
	Log      Log      `toml:"log"`
}

// SMTP configures the server that receives team mail.
type SMTP struct {
	// Listen is the TCP address to accept mail on. Default "127.0.0.1:2525".
	Listen string `toml:"listen"`
	// TLSCert and TLSKey are PEM files; together they enable STARTTLS.
	// Either both are set or neither.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// MaxMessageBytes is the largest message accepted (552 5.3.4 beyond).
	// Default 26214400 (25 MiB).
	MaxMessageBytes int64 `toml:"max_message_bytes"`
	// MaxRecipients caps RCPT TO per message. Default 50.
	MaxRecipients int `toml:"max_recipients"`
	// MaxLineLength caps one line of a command or of the message, CRLF
	// included (500 5.5.2 beyond). Default 2000; RFC 5321 section 4.5.3.1.6
	// requires at least 1000.
	MaxLineLength int `toml:"max_line_length"`
	// ReadTimeout bounds each read from a client, including the whole DATA
	// phase. Default 5m.
	ReadTimeout time.Duration `toml:"read_timeout"`
	// WriteTimeout bounds each write to a client. Default 1m.
	WriteTimeout time.Duration `toml:"write_timeout"`
	// MaxConnections caps concurrent SMTP sessions; a connection beyond it
	// is answered 421 and closed. Default 200.
	MaxConnections int `toml:"max_connections"`
	// MaxConnectionsPerIP caps the sessions from one IPv4 address or one
	// IPv6 /64; a connection beyond it is answered 421 4.7.0 and closed.
	// Default 20.
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
	// MaxInflightBytes bounds the message bytes all sessions together hold
	// in memory; a message that cannot get its share in time is answered
	// 451 4.3.1 and the sender retries later. Default 268435456 (256 MiB).
	MaxInflightBytes int64 `toml:"max_inflight_bytes"`
}

// IMAP configures one mailbox polled for team mail.
type IMAP struct {
	// Address is host:port of the IMAP server. Required.
	Address string `toml:"address"`
	// TLS is "implicit" (default), "starttls" or "none" (loopback only).
	TLS string `toml:"tls"`
	// Username logs in. Required.
	Username string `toml:"username"`
	// PasswordFile holds the password (trailing newline ignored). Required.
	PasswordFile string `toml:"password_file"`
	// Mailbox is the folder to fetch from. Default "INBOX".
	Mailbox string `toml:"mailbox"`
	// Team receives what is fetched. Required.
	Team string `toml:"team"`
	// After says what to do with a fetched message: "seen" (default) sets
	// \Seen, "move:FOLDER" moves it to FOLDER.
	After string `toml:"after"`
	// PollInterval is how often a server without IDLE is asked for new
	// mail. Default 1m; at least 5s.
	PollInterval time.Duration `toml:"poll_interval"`
}

// Outbound configures how mail leaves.
type Outbound struct {
	// Mode is "dir" (default: a Maildir at <data_dir>/outbox) or "smtp".
	Mode string `toml:"mode"`
	// Relay is host:port of the relay; required for mode "smtp".
	Relay string `toml:"relay"`
	// TLS is "starttls" (default: the relay must offer it), "implicit" or
	// "none" (loopback only).
	TLS string `toml:"tls"`
	// Username and PasswordFile enable AUTH PLAIN; both or neither. The
	// file holds the password (trailing newline ignored).
	Username     string `toml:"username"`
	PasswordFile string `toml:"password_file"`
	// Lifetime is how long a message is retried before it is given up.
	// Default 120h (5 days).
	Lifetime time.Duration `toml:"lifetime"`
	// MaxConnections caps the connections to the relay open at once, and
	// so the mails sent at once. Default 4.
	MaxConnections int `toml:"max_connections"`
}

// DKIM configures signing of outgoing mail. It is on when KeyFile is set.
type DKIM struct {
	// Domain is the signing domain (d=). Default: the top-level domain.
	Domain string `toml:"domain"`
	// Selector is the DNS selector. Default "tidings".
	Selector string `toml:"selector"`
	// KeyFile is a PEM private key (RSA or Ed25519).
	KeyFile string `toml:"key_file"`
}

// HTTP configures the web side.
type HTTP struct {
	// Listen is the TCP address of the web server. Default "127.0.0.1:8080".
	Listen string `toml:"listen"`
	// BaseURL is how members reach the web side, used in links in mail.
	// Default "http://" + Listen.
	BaseURL string `toml:"base_url"`
}

// Digest holds the defaults for new members and the catch-up rule.
type Digest struct {
	// DefaultTZ is the IANA zone of a member added without --tz. Default "UTC".
	DefaultTZ string `toml:"default_tz"`
	// DefaultStart is the local start of a member's day, "HH:MM". Default "09:00".
	DefaultStart string `toml:"default_start"`
	// DefaultDays are the working days, e.g. "mon-fri" (default) or "mon,wed,fri".
	DefaultDays string `toml:"default_days"`
	// CatchUp is how late a digest missed during downtime may still be sent.
	// Default 12h.
	CatchUp time.Duration `toml:"catch_up"`
	// Templates is a directory of templates that replace the embedded ones
	// of the same file name (digest.txt.tmpl, digest.html.tmpl, …); files
	// it lacks keep the embedded version. Default "": the embedded
	// templates alone.
	Templates string `toml:"templates"`
}

// Log configures logging.
type Log struct {
	// Format is "text" (default) or "json".
	Format string `toml:"format"`
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `toml:"level"`
}

// Defaults returns the configuration used when no file is given.
func Defaults() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

// Load reads the TOML file at path, fills in defaults and validates the
// result. An empty path means the defaults alone. Keys the file names that
// tidings does not know are an error, so that a typo is not silently ignored.
func Load(path string) (*Config, error) {
	c := &Config{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := c.decode(string(data)); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	c.applyDefaults()
	if err := c.validate(); err != nil {
		if path != "" {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func (c *Config) decode(data string) error {
	md, err := toml.Decode(data, c)
	if err != nil {
		return err
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		if len(keys) == 1 {
			return fmt.Errorf("unknown key %s", keys[0])
		}
		return fmt.Errorf("unknown keys %s", strings.Join(keys, ", "))
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (c *Config) applyDefaults() {
	setDefault(&c.Domain, "localhost")
	setDefault(&c.DataDir, "tidings-data")

	setDefault(&c.SMTP.Listen, "127.0.0.1:2525")
	setDefault(&c.SMTP.MaxMessageBytes, 25<<20)
	setDefault(&c.SMTP.MaxRecipients, 50)
	setDefault(&c.SMTP.MaxLineLength, 2000)
	setDefault(&c.SMTP.ReadTimeout, 5*time.Minute)
	setDefault(&c.SMTP.WriteTimeout, time.Minute)
	setDefault(&c.SMTP.MaxConnections, 200)
	setDefault(&c.SMTP.MaxConnectionsPerIP, 50)
	setDefault(&c.SMTP.MaxInflightBytes, 256<<20)

	for i := range c.IMAP {
		m := &c.IMAP[i]
		setDefault(&m.TLS, "implicit")
		setDefault(&m.Mailbox, "INBOX")
		setDefault(&m.After, "seen")
		setDefault(&m.PollInterval, time.Minute)
	}

	setDefault(&c.Outbound.Mode, "dir")
	setDefault(&c.Outbound.TLS, "starttls")
	setDefault(&c.Outbound.Lifetime, 120*time.Hour)
	setDefault(&c.Outbound.MaxConnections, 4)

	setDefault(&c.DKIM.Domain, c.Domain)
	setDefault(&c.DKIM.Selector, "tidings")

	setDefault(&c.HTTP.Listen, "127.0.0.1:8080")
	setDefault(&c.HTTP.BaseURL, "http://"+c.HTTP.Listen)

	setDefault(&c.Digest.DefaultTZ, "UTC")
	setDefault(&c.Digest.DefaultStart, "09:00")
	setDefault(&c.Digest.DefaultDays, "mon-fri")
	setDefault(&c.Digest.CatchUp, 12*time.Hour)

	setDefault(&c.Log.Format, "text")
	setDefault(&c.Log.Level, "info")
}

// Validate checks every value and reports all problems at once, each named
// by its key.
func (c *Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func (c *Config) validate() error {
	var probs []string
	bad := func(key, format string, args ...any) {
		probs = append(probs, key+": "+fmt.Sprintf(format, args...))
	}

	if strings.ContainsAny(c.Domain, " @<>\t") || c.Domain == "" {
		bad("domain", "%q is not a domain name", c.Domain)
	}
	checkHostPort := func(key, v string) {
		if _, _, err := net.SplitHostPort(v); err != nil {
			bad(key, "%q is not host:port", v)
		}
	}
	checkOneOf := func(key, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}

	checkHostPort("smtp.listen", c.SMTP.Listen)
	if (c.SMTP.TLSCert == "") != (c.SMTP.TLSKey == "") {
		bad("smtp.tls_cert", "tls_cert and tls_key must be set together")
	}
	if c.SMTP.MaxMessageBytes < 1024 {
		bad("smtp.max_message_bytes", "%d is too small (at least 1024)", c.SMTP.MaxMessageBytes)
	}
	if c.SMTP.MaxRecipients < 1 {
		bad("smtp.max_recipients", "must be at least 1")
	}
	if c.SMTP.MaxLineLength < 1000 {
		bad("smtp.max_line_length", "%d is too small (RFC 5321 requires at least 1000)", c.SMTP.MaxLineLength)
	}
	if c.SMTP.ReadTimeout < time.Second {
		bad("smtp.read_timeout", "%s is too short (at least 1s)", c.SMTP.ReadTimeout)
	}
	if c.SMTP.WriteTimeout < time.Second {
		bad("smtp.write_timeout", "%s is too short (at least 1s)", c.SMTP.WriteTimeout)
	}
	if c.SMTP.MaxConnections < 1 {
		bad("smtp.max_connections", "must be at least 1")
	}
	if c.SMTP.MaxConnectionsPerIP < 1 {
		bad("smtp.max_connections_per_ip", "must be at least 1")
	}
	// Bodies are counted against the budget in steps of 64 KiB.
	if c.SMTP.MaxInflightBytes < 64<<10 {
		bad("smtp.max_inflight_bytes", "%d is too small (at least 65536)", c.SMTP.MaxInflightBytes)
	}

	seenIMAP := map[string]int{}
	for i, m := range c.IMAP {
		key := fmt.Sprintf("imap[%d].", i)
		// Two blocks on one mailbox would share its position: one would
		// take the other's mail.
		id := strings.ToLower(m.Username + "@" + m.Address + "/" + m.Mailbox)
		if j, dup := seenIMAP[id]; dup {
			bad(key+"mailbox", "%s of %s on %s is already polled by imap[%d]", m.Mailbox, m.Username, m.Address, j)
		}
		seenIMAP[id] = i
		checkHostPort(key+"address", m.Address)
		checkOneOf(key+"tls", m.TLS, "implicit", "starttls", "none")
		if m.TLS == "none" && !isLoopback(m.Address) {
			bad(key+"tls", `"none" is allowed only for a loopback address, not %q`, m.Address)
		}
		if m.Username == "" {
			bad(key+"username", "is required")
		}
		if m.PollInterval < 5*time.Second {
			bad(key+"poll_interval", "%s is too short (at least 5s)", m.PollInterval)
		}
		if m.PasswordFile == "" {
			bad(key+"password_file", "is required")
		}
		if m.Team == "" {
			bad(key+"team", "is required")
		}
		if m.After != "seen" && (!strings.HasPrefix(m.After, "move:") || len(m.After) == len("move:")) {
			bad(key+"after", `%q is neither "seen" nor "move:FOLDER"`, m.After)
		}
	}

	checkOneOf("outbound.mode", c.Outbound.Mode, "dir", "smtp")
	checkOneOf("outbound.tls", c.Outbound.TLS, "implicit", "starttls", "none")
	if c.Outbound.Mode == "smtp" {
		if c.Outbound.Relay == "" {
			bad("outbound.relay", `is required when mode is "smtp"`)
		} else {
			checkHostPort("outbound.relay", c.Outbound.Relay)
			if c.Outbound.TLS == "none" && !isLoopback(c.Outbound.Relay) {
				bad("outbound.tls", `"none" is allowed only for a loopback relay, not %q`, c.Outbound.Relay)
			}
		}
	}
	if (c.Outbound.Username == "") != (c.Outbound.PasswordFile == "") {
		bad("outbound.username", "username and password_file must be set together")
	}
	if c.Outbound.Lifetime < time.Minute {
		bad("outbound.lifetime", "%s is too short (at least 1m)", c.Outbound.Lifetime)
	}
	if c.Outbound.MaxConnections < 1 {
		bad("outbound.max_connections", "must be at least 1")
	}

	if strings.ContainsAny(c.DKIM.Selector, " .\t") || c.DKIM.Selector == "" {
		bad("dkim.selector", "%q is not a DNS label", c.DKIM.Selector)
	}
	if strings.ContainsAny(c.DKIM.Domain, " @<>\t") || c.DKIM.Domain == "" {
		bad("dkim.domain", "%q is not a domain name", c.DKIM.Domain)
	}

	checkHostPort("http.listen", c.HTTP.Listen)
	if u, err := url.Parse(c.HTTP.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("http.base_url", "%q is not an http(s) URL", c.HTTP.BaseURL)
	}

	if _, err := LoadZone(c.Digest.DefaultTZ); err != nil {
		bad("digest.default_tz", "%v", err)
	}
	if _, err := ParseClock(c.Digest.DefaultStart); err != nil {
		bad("digest.default_start", "%v", err)
	}
	if _, err := ParseDays(c.Digest.DefaultDays); err != nil {
		bad("digest.default_days", "%v", err)
	}
	if c.Digest.CatchUp < 0 {
		bad("digest.catch_up", "must not be negative")
	}

	checkOneOf("log.format", c.Log.Format, "text", "json")
	checkOneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")

	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "; "))
	}
	return nil
}

func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DBPath is the database file inside DataDir.
func (c *Config) DBPath() string { return filepath.Join(c.DataDir, "tidings.db") }

// SocketPath is the control socket inside DataDir, through which admin
// commands reach a running server.
func (c *Config) SocketPath() string { return filepath.Join(c.DataDir, "tidings.sock") }

// OutboxDir is the Maildir that outbound mode "dir" delivers into.
func (c *Config) OutboxDir() string { return filepath.Join(c.DataDir, "outbox") }
