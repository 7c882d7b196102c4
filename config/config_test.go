package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tidings.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"domain", c.Domain, "localhost"},
		{"data_dir", c.DataDir, "tidings-data"},
		{"smtp.listen", c.SMTP.Listen, "127.0.0.1:2525"},
		{"smtp.max_message_bytes", c.SMTP.MaxMessageBytes, int64(26214400)},
		{"smtp.max_recipients", c.SMTP.MaxRecipients, 50},
		{"smtp.max_line_length", c.SMTP.MaxLineLength, 2000},
		{"smtp.read_timeout", c.SMTP.ReadTimeout, 5 * time.Minute},
		{"smtp.write_timeout", c.SMTP.WriteTimeout, time.Minute},
		{"smtp.max_connections", c.SMTP.MaxConnections, 200},
		{"smtp.max_connections_per_ip", c.SMTP.MaxConnectionsPerIP, 50},
		{"smtp.max_inflight_bytes", c.SMTP.MaxInflightBytes, int64(268435456)},
		{"http.listen", c.HTTP.Listen, "127.0.0.1:8080"},
		{"http.base_url", c.HTTP.BaseURL, "http://127.0.0.1:8080"},
		{"outbound.mode", c.Outbound.Mode, "dir"},
		{"outbound.lifetime", c.Outbound.Lifetime, 120 * time.Hour},
		{"outbound.tls", c.Outbound.TLS, "starttls"},
		{"outbound.max_connections", c.Outbound.MaxConnections, 4},
		{"dkim.selector", c.DKIM.Selector, "tidings"},
		{"dkim.domain", c.DKIM.Domain, "localhost"},
		{"digest.default_tz", c.Digest.DefaultTZ, "UTC"},
		{"digest.default_start", c.Digest.DefaultStart, "09:00"},
		{"digest.default_days", c.Digest.DefaultDays, "mon-fri"},
		{"digest.catch_up", c.Digest.CatchUp, 12 * time.Hour},
		{"digest.templates", c.Digest.Templates, ""},
		{"log.format", c.Log.Format, "text"},
		{"log.level", c.Log.Level, "info"},
		{"db", c.DBPath(), filepath.Join("tidings-data", "tidings.db")},
		{"socket", c.SocketPath(), filepath.Join("tidings-data", "tidings.sock")},
		{"outbox", c.OutboxDir(), filepath.Join("tidings-data", "outbox")},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if !reflect.DeepEqual(c, Defaults()) {
		t.Errorf("Load(\"\") and Defaults() differ")
	}
}

func TestLoadFull(t *testing.T) {
	t.Parallel()
	c, err := Load("testdata/full.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Domain != "example.com" || c.DataDir != "/var/lib/tidings" {
		t.Errorf("domain/data_dir = %q %q", c.Domain, c.DataDir)
	}
	if c.SMTP.ReadTimeout != 5*time.Minute || c.SMTP.WriteTimeout != 30*time.Second || c.SMTP.MaxConnections != 20 ||
		c.SMTP.MaxConnectionsPerIP != 5 || c.SMTP.MaxInflightBytes != 64<<20 {
		t.Errorf("smtp = %+v", c.SMTP)
	}
	if len(c.IMAP) != 2 {
		t.Fatalf("imap blocks = %d, want 2", len(c.IMAP))
	}
	if c.IMAP[1].Mailbox != "INBOX" || c.IMAP[1].After != "move:Processed" || c.IMAP[1].TLS != "none" || c.IMAP[1].PollInterval != 30*time.Second {
		t.Errorf("imap[1] = %+v (mailbox should default to INBOX)", c.IMAP[1])
	}
	if c.IMAP[0].PollInterval != time.Minute {
		t.Errorf("imap[0].poll_interval = %v, want the default 1m", c.IMAP[0].PollInterval)
	}
	if c.Outbound.Mode != "smtp" || c.Outbound.Lifetime != 120*time.Hour || c.Outbound.MaxConnections != 8 {
		t.Errorf("outbound = %+v", c.Outbound)
	}
	if c.DKIM.Domain != "example.com" || c.DKIM.Selector != "tidings" {
		t.Errorf("dkim = %+v (domain should default to the top-level domain)", c.DKIM)
	}
	if c.HTTP.BaseURL != "https://tidings.example.com" {
		t.Errorf("base_url = %q", c.HTTP.BaseURL)
	}
	if c.Digest.DefaultTZ != "Europe/Berlin" || c.Digest.CatchUp != 6*time.Hour || c.Digest.Templates != "/etc/tidings/templates" {
		t.Errorf("digest = %+v", c.Digest)
	}
	if c.Log.Format != "json" || c.Log.Level != "debug" {
		t.Errorf("log = %+v", c.Log)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		toml string
		want []string // substrings of the error
	}{
		{"unknown top key", `domian = "x.org"`, []string{"unknown key domian"}},
		{"unknown nested key", "[smtp]\nlisten = \"127.0.0.1:25\"\nmax_recipient = 3\n", []string{"unknown key smtp.max_recipient"}},
		{"unknown imap key", "[[imap]]\naddress = \"127.0.0.1:143\"\nfolder = \"x\"\n", []string{"imap.folder"}},
		{"two unknown keys", "a = 1\nb = 2\n", []string{"unknown keys a, b"}},
		{"syntax", "domain = ", []string{"tidings.toml"}},
		{"bad zone", "[digest]\ndefault_tz = \"Mars/Olympus\"\n", []string{"digest.default_tz", "Mars/Olympus"}},
		{"local zone", "[digest]\ndefault_tz = \"Local\"\n", []string{"digest.default_tz"}},
		{"bad start", "[digest]\ndefault_start = \"9am\"\n", []string{"digest.default_start", "HH:MM"}},
		{"hour 24", "[digest]\ndefault_start = \"24:00\"\n", []string{"digest.default_start"}},
		{"bad days", "[digest]\ndefault_days = \"mon-fry\"\n", []string{"digest.default_days", "fry"}},
		{"half a tls pair", "[smtp]\ntls_cert = \"c.pem\"\n", []string{"smtp.tls_cert", "together"}},
		{"bad listen", "[smtp]\nlisten = \"2525\"\n", []string{"smtp.listen"}},
		{"per-ip negative", "[smtp]\nmax_connections_per_ip = -1\n", []string{"smtp.max_connections_per_ip"}},
		{"inflight too small", "[smtp]\nmax_inflight_bytes = 4096\n", []string{"smtp.max_inflight_bytes", "4096"}},
		{"inflight negative", "[smtp]\nmax_inflight_bytes = -1\n", []string{"smtp.max_inflight_bytes"}},
		{"duration syntax", "[outbound]\nlifetime = \"5 days\"\n", []string{"5 days"}},
		{"duration too short", "[outbound]\nlifetime = \"1s\"\n", []string{"outbound.lifetime"}},
		{"relay missing", "[outbound]\nmode = \"smtp\"\n", []string{"outbound.relay", "required"}},
		{"bad mode", "[outbound]\nmode = \"pigeon\"\n", []string{"outbound.mode", "pigeon"}},
		{"plain relay off loopback", "[outbound]\nmode = \"smtp\"\nrelay = \"smtp.example.com:25\"\ntls = \"none\"\n", []string{"outbound.tls", "loopback"}},
		{"relay connections", "[outbound]\nmax_connections = -1\n", []string{"outbound.max_connections"}},
		{"relay half auth", "[outbound]\nusername = \"u\"\n", []string{"outbound.username", "together"}},
		{"dkim domain", "[dkim]\ndomain = \"a b\"\n", []string{"dkim.domain"}},
		{"dkim selector", "[dkim]\nselector = \"a.b\"\n", []string{"dkim.selector"}},
		{"plain imap off loopback", "[[imap]]\naddress = \"imap.example.com:143\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"p\"\nteam = \"eng\"\n", []string{"imap[0].tls", "loopback"}},
		{"imap incomplete", "[[imap]]\naddress = \"127.0.0.1:143\"\n", []string{"imap[0].username", "imap[0].password_file", "imap[0].team"}},
		{"one mailbox polled twice", "[[imap]]\naddress = \"127.0.0.1:143\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"p\"\nteam = \"eng\"\n\n[[imap]]\naddress = \"127.0.0.1:143\"\ntls = \"none\"\nusername = \"U\"\npassword_file = \"p\"\nteam = \"ops\"\nmailbox = \"inbox\"\n", []string{"imap[1].mailbox", "already polled by imap[0]"}},
		{"imap polling too often", "[[imap]]\naddress = \"127.0.0.1:143\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"p\"\nteam = \"eng\"\npoll_interval = \"1s\"\n", []string{"imap[0].poll_interval", "at least 5s"}},
		{"imap after", "[[imap]]\naddress = \"127.0.0.1:143\"\nusername = \"u\"\npassword_file = \"p\"\nteam = \"eng\"\nafter = \"move:\"\n", []string{"imap[0].after"}},
		{"log level", "[log]\nlevel = \"loud\"\n", []string{"log.level"}},
		{"base url", "[http]\nbase_url = \"tidings.example.com\"\n", []string{"http.base_url"}},
		{"several problems", "[log]\nformat = \"xml\"\nlevel = \"loud\"\n", []string{"log.format", "log.level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeConfig(t, tt.toml)
			_, err := Load(p)
			if err == nil {
				t.Fatalf("Load succeeded, want an error mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("error %q does not start with the package", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "nope.toml") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

func TestDurationAsString(t *testing.T) {
	t.Parallel()
	c, err := Load(writeConfig(t, "[digest]\ncatch_up = \"90m\"\n[smtp]\nread_timeout = \"2m30s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest.CatchUp != 90*time.Minute || c.SMTP.ReadTimeout != 150*time.Second {
		t.Errorf("catch_up %s, read_timeout %s", c.Digest.CatchUp, c.SMTP.ReadTimeout)
	}
}
