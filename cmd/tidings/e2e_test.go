package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// mailAt builds a message; extra header lines go before the body.
func mailAt(from, to, subject, msgID string, date time.Time, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\n", from, to, subject, msgID, date.Format(time.RFC1123Z))
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "\r\nThis is %s.\r\n", msgID)
	return b.String()
}

// threadsJSON runs `threads --json` and decodes it.
func threadsJSON(t *testing.T, in *instance, args ...string) []threadJSON {
	t.Helper()
	out := in.MustRun(append([]string{"threads", "--json"}, args...)...)
	var ths []threadJSON
	if err := json.Unmarshal([]byte(out), &ths); err != nil {
		t.Fatalf("threads --json is not a JSON array: %v\n%s", err, out)
	}
	return ths
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.Start()

	in.MustRun("team", "add", "eng", "--address", "eng@localhost")
	in.MustRun("member", "add", "ana@example.com", "--team", "eng", "--tz", "Europe/Berlin", "--name", "Ana")
	in.MustRun("member", "add", "--tz", "America/New_York", "bo@example.com", "--team", "eng")
	in.MustRun("member", "add", "Cy <cy@example.com>", "--team=eng", "--tz", "Asia/Tokyo", "--start", "08:30", "--days", "mon-thu")

	var members []memberJSON
	if err := json.Unmarshal([]byte(in.MustRun("member", "list", "--json")), &members); err != nil {
		t.Fatal(err)
	}
	zones := map[string]string{}
	for _, m := range members {
		zones[m.Address] = m.TZ + " " + m.Start + " " + m.Days + " " + m.Teams["eng"]
	}
	wantZones := map[string]string{
		"ana@example.com": "Europe/Berlin 09:00 mon-fri digest",
		"bo@example.com":  "America/New_York 09:00 mon-fri digest",
		"cy@example.com":  "Asia/Tokyo 08:30 mon-thu digest",
	}
	if !reflect.DeepEqual(zones, wantZones) {
		t.Errorf("members = %v, want %v", zones, wantZones)
	}

	// Recent dates: the subject fallback only joins threads active lately.
	t0 := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	sends := []struct {
		name     string
		from     string
		to       []string
		msg      string
		code     int
		enhanced string
	}{
		{"root", "ana@example.com", []string{"eng@localhost"},
			mailAt("Ana <ana@example.com>", "eng@localhost", "Launch plan", "root@e2e.test", t0), 250, ""},
		{"reply with In-Reply-To", "bo@example.com", []string{"eng@localhost"},
			mailAt("bo@example.com", "eng@localhost", "Re: Launch plan", "r1@e2e.test", t0.Add(time.Hour), "In-Reply-To: <root@e2e.test>"), 250, ""},
		{"reply with References only", "cy@example.com", []string{"eng@localhost"},
			mailAt("cy@example.com", "eng@localhost", "Re: Launch plan", "r2@e2e.test", t0.Add(2*time.Hour), "References: <root@e2e.test> <r1@e2e.test>"), 250, ""},
		{"reply by subject alone", "ana@example.com", []string{"eng@localhost"},
			mailAt("ana@example.com", "eng@localhost", "Re: [eng] Launch plan", "r3@e2e.test", t0.Add(2*time.Hour+30*time.Minute)), 250, ""},
		{"unrelated", "bo@example.com", []string{"eng@localhost"},
			mailAt("bo@example.com", "eng@localhost", "Lunch on Friday?", "lunch@e2e.test", t0.Add(2*time.Hour+40*time.Minute)), 250, ""},
		{"duplicate", "ana@example.com", []string{"eng@localhost"},
			mailAt("Ana <ana@example.com>", "eng@localhost", "Launch plan", "root@e2e.test", t0), 250, ""},
		{"non-member", "eve@elsewhere.example", []string{"eng@localhost"},
			mailAt("eve@elsewhere.example", "eng@localhost", "Buy now", "spam@e2e.test", t0), 550, "5.7.1"},
		{"unknown address", "ana@example.com", []string{"nobody@localhost"},
			mailAt("ana@example.com", "nobody@localhost", "Hello?", "lost@e2e.test", t0), 550, "5.1.1"},
	}
	for _, s := range sends {
		r := in.Send(s.from, s.to, s.msg)
		if r.Code != s.code || !strings.HasPrefix(r.Text, s.enhanced) {
			t.Errorf("%s: got %s, want %d %s", s.name, r, s.code, s.enhanced)
		}
		if s.code == 550 && s.enhanced == "5.7.1" && !strings.Contains(r.Text, "eng") {
			t.Errorf("%s: refusal %q does not name the team", s.name, r.Text)
		}
	}

	check := func(how string) []threadJSON {
		t.Helper()
		ths := threadsJSON(t, in)
		if len(ths) != 2 {
			t.Fatalf("%s: %d threads, want 2: %+v", how, len(ths), ths)
		}
		byRoot := map[string]threadJSON{}
		for _, th := range ths {
			if th.Team != "eng" {
				t.Errorf("%s: thread %d in team %q", how, th.ID, th.Team)
			}
			if len(th.MessageIDs) > 0 {
				byRoot[th.MessageIDs[0]] = th
			}
		}
		launch := byRoot["root@e2e.test"]
		if want := []string{"root@e2e.test", "r1@e2e.test", "r2@e2e.test", "r3@e2e.test"}; !reflect.DeepEqual(launch.MessageIDs, want) {
			t.Errorf("%s: launch thread %v, want %v", how, launch.MessageIDs, want)
		}
		if launch.Subject != "Launch plan" {
			t.Errorf("%s: launch subject %q", how, launch.Subject)
		}
		if lunch := byRoot["lunch@e2e.test"]; !reflect.DeepEqual(lunch.MessageIDs, []string{"lunch@e2e.test"}) {
			t.Errorf("%s: lunch thread %v", how, lunch.MessageIDs)
		}
		return ths
	}
	served := check("while serving")
	if !in.WaitLog(`argv="[threads --json`) {
		t.Errorf("threads --json did not go through the control socket; serve log:\n%s", in.Log())
	}

	// thread show, through the socket.
	var launchID uint64
	for _, th := range served {
		if th.Subject == "Launch plan" {
			launchID = th.ID
		}
	}
	var msgs []messageJSON
	if err := json.Unmarshal([]byte(in.MustRun("thread", "show", fmt.Sprint(launchID), "--json")), &msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 || msgs[0].MessageID != "root@e2e.test" || msgs[0].From != "ana@example.com" ||
		msgs[0].Kind != "message" || !strings.Contains(msgs[0].Text, "This is root@e2e.test.") || !msgs[0].Date.Equal(t0) {
		t.Errorf("thread show: %+v", msgs)
	}

	// Member changes and inspect, through the binary.
	in.MustRun("member", "set", "bo@example.com", "--mode", "immediate", "--start", "10:00")
	in.MustRun("member", "remove", "cy@example.com")
	members = nil
	if err := json.Unmarshal([]byte(in.MustRun("member", "list", "--json")), &members); err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 || members[1].Address != "bo@example.com" || members[1].Teams["eng"] != "immediate" || members[1].Start != "10:00" {
		t.Errorf("after set and remove: %+v", members)
	}
	eml := filepath.Join(in.Dir, "one.eml")
	os.WriteFile(eml, []byte(sends[1].msg), 0o600)
	var inspected inspectJSON
	if err := json.Unmarshal([]byte(in.MustRun("inspect", "one.eml", "--json")), &inspected); err != nil {
		t.Fatal(err)
	}
	if inspected.MessageID != "r1@e2e.test" || !reflect.DeepEqual(inspected.InReplyTo, []string{"root@e2e.test"}) || inspected.Kind != "message" {
		t.Errorf("inspect: %+v", inspected)
	}

	in.Stop()
	if _, err := os.Stat(filepath.Join(in.DataDir, "tidings.sock")); !os.IsNotExist(err) {
		t.Errorf("control socket left after a clean stop: %v", err)
	}
	direct := check("without a server")
	if !reflect.DeepEqual(direct, served) {
		t.Errorf("threads differ without the server:\n%+v\n%+v", direct, served)
	}

	in.Start()
	again := check("after a restart")
	if !reflect.DeepEqual(again, served) {
		t.Errorf("threads differ after a restart:\n%+v\n%+v", again, served)
	}
	in.Stop()
}

func TestAdminWhileServing(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng")
	in.MustRun("member", "add", "ana@example.com", "--team", "eng")
	if r := in.Send("ana@example.com", []string{"eng@localhost"},
		mailAt("ana@example.com", "eng@localhost", "Status", "status@e2e.test", time.Now().Add(-time.Minute))); r.Code != 250 {
		t.Fatalf("send: %s", r)
	}

	// Many commands at once, some writing, while SMTP is busy too.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			args := [][]string{
				{"team", "list", "--json"},
				{"member", "list"},
				{"threads"},
				{"member", "add", fmt.Sprintf("p%d@example.com", i), "--team", "eng", "--tz", "Europe/Paris"},
			}[i%4]
			r := in.Run(args...)
			if r.Code != 0 || strings.Contains(r.Stderr, "lock") || strings.Contains(r.Stderr, "in use") {
				t.Errorf("tidings %v while serving: exit %d, stderr %q", args, r.Code, r.Stderr)
			}
		}()
		go func() {
			defer wg.Done()
			msg := mailAt("ana@example.com", "eng@localhost", fmt.Sprintf("Note %d", i), fmt.Sprintf("note%d@e2e.test", i), time.Now())
			if r := in.Send("ana@example.com", []string{"eng@localhost"}, msg); r.Code != 250 {
				t.Errorf("send %d: %s", i, r)
			}
		}()
	}
	wg.Wait()

	// A hot backup opens as a database of its own and has the data.
	if out := in.MustRun("backup", "hot.db"); !strings.Contains(out, "hot.db") {
		t.Errorf("backup said %q", out)
	}
	copyDir := filepath.Join(in.Dir, "restored")
	if err := os.MkdirAll(copyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(in.Dir, "hot.db"), filepath.Join(copyDir, "tidings.db")); err != nil {
		t.Fatal(err)
	}
	fromBackup := threadsJSON(t, in, "--data", copyDir)
	live := threadsJSON(t, in)
	if len(live) != 9 || !reflect.DeepEqual(fromBackup, live) {
		t.Errorf("backup has %d threads, live %d (want 9, the same)", len(fromBackup), len(live))
	}
	var teams []teamJSON
	if err := json.Unmarshal([]byte(in.MustRun("team", "list", "--json", "--data", copyDir)), &teams); err != nil || len(teams) != 1 || teams[0].Name != "eng" {
		t.Errorf("backup teams: %+v %v", teams, err)
	}
	in.Stop()
}

// writeArchive writes an mbox and a Maildir of team mail for ops@localhost.
func writeArchive(t *testing.T, dir string) (mbox, maildir string) {
	t.Helper()
	t0 := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	var b strings.Builder
	for i, m := range []string{
		mailAt("Dee <dee@outside.example>", "Ops <ops@localhost>", "Disk alert", "disk@archive.test", t0),
		mailAt("ana@example.com", "ops@localhost", "Re: Disk alert", "disk-re@archive.test", t0.Add(time.Hour), "In-Reply-To: <disk@archive.test>"),
		mailAt("bo@example.com", "someone@example.com", "Deploy notes", "deploy@archive.test", t0.Add(2*time.Hour), "Cc: ops+notes@localhost"),
	} {
		fmt.Fprintf(&b, "From sender@archive.test %s\n", t0.Add(time.Duration(i)*time.Hour).Format(time.ANSIC))
		body := strings.ReplaceAll(m, "\r\n", "\n")
		if i == 0 {
			body += "From the logs: the disk is full.\n"
			body = strings.Replace(body, "From the logs", ">From the logs", 1)
		}
		b.WriteString(body + "\n")
	}
	mbox = filepath.Join(dir, "ops.mbox")
	if err := os.WriteFile(mbox, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	maildir = filepath.Join(dir, "Maildir")
	files := map[string]string{
		"cur/1700000000.1.host:2,S": mailAt("cy@example.com", "ops@localhost", "Backup rota", "rota@archive.test", t0.Add(3*time.Hour)),
		"new/1700000001.2.host":     mailAt("ana@example.com", "ops@localhost", "Re: Backup rota", "rota-re@archive.test", t0.Add(4*time.Hour), "References: <rota@archive.test>"),
		"tmp/1700000002.3.host":     "Subject: half-delivered\r\n",
	}
	for name, body := range files {
		p := filepath.Join(maildir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return mbox, maildir
}

func TestImport(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	writeArchive(t, in.Dir)
	in.MustRun("team", "add", "eng")
	in.MustRun("team", "add", "ops")

	importRun := func(args ...string) (string, result) {
		t.Helper()
		r := in.Run(append([]string{"import"}, args...)...)
		if r.Code != 0 {
			t.Fatalf("import %v: exit %d\n%s%s", args, r.Code, r.Stdout, r.Stderr)
		}
		return strings.TrimSpace(r.Stdout), r
	}

	// With the server running; relative paths are the client's, not the
	// server's; the team comes from To/Cc (a plus-address counts).
	in.Start()
	sub := filepath.Join(in.Dir, "sub")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	r := in.RunIn(sub, "import", "--mbox", "../ops.mbox")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "imported 3, duplicates 0, refused 0" {
		t.Fatalf("mbox import while serving: exit %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if !in.WaitLog(`argv="[import --mbox ../ops.mbox`) {
		t.Errorf("the import did not run in the server")
	}
	if out, _ := importRun("--mbox", "ops.mbox"); out != "imported 0, duplicates 3, refused 0" {
		t.Errorf("mbox re-import while serving: %q", out)
	}
	in.Stop()

	// Without a server.
	if out, _ := importRun("--team", "ops", "--maildir", "Maildir"); out != "imported 2, duplicates 0, refused 0" {
		t.Errorf("maildir import: %q", out)
	}
	if out, _ := importRun("--maildir", "Maildir", "--team", "ops"); out != "imported 0, duplicates 2, refused 0" {
		t.Errorf("maildir re-import: %q", out)
	}
	if out, _ := importRun("--mbox", "ops.mbox"); out != "imported 0, duplicates 3, refused 0" {
		t.Errorf("mbox re-import without a server: %q", out)
	}

	ths := threadsJSON(t, in, "--team", "ops")
	got := map[string][]string{}
	for _, th := range ths {
		got[th.Subject] = th.MessageIDs
	}
	want := map[string][]string{
		"Disk alert":   {"disk@archive.test", "disk-re@archive.test"},
		"Deploy notes": {"deploy@archive.test"},
		"Backup rota":  {"rota@archive.test", "rota-re@archive.test"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ops threads = %v, want %v", got, want)
	}
	if eng := threadsJSON(t, in, "--team", "eng"); len(eng) != 0 {
		t.Errorf("eng has %d threads, want none", len(eng))
	}
	// The mboxrd escape is undone.
	for _, th := range ths {
		if th.Subject != "Disk alert" {
			continue
		}
		var msgs []messageJSON
		if err := json.Unmarshal([]byte(in.MustRun("thread", "show", fmt.Sprint(th.ID), "--json")), &msgs); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msgs[0].Text, "\nFrom the logs: the disk is full.") {
			t.Errorf("escaped From line not restored: %q", msgs[0].Text)
		}
	}

	// A message that names no team is refused, the rest imported.
	stray := filepath.Join(in.Dir, "stray.eml")
	os.WriteFile(stray, []byte(mailAt("x@example.com", "nobody@example.com", "Lost", "stray@archive.test", time.Now())), 0o600)
	r = in.Run("import", "stray.eml")
	if r.Code != 1 || strings.TrimSpace(r.Stdout) != "imported 0, duplicates 0, refused 1" ||
		!strings.Contains(r.Stderr, "stray.eml") || !strings.Contains(r.Stderr, "--team") {
		t.Errorf("stray import: exit %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
}

func TestStaleSocketAfterKill(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.Start()
	in.MustRun("team", "add", "eng")
	in.Kill()
	sock := filepath.Join(in.DataDir, "tidings.sock")
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("a killed server should leave its socket behind: %v", err)
	}
	// No server answers: the command opens the database itself.
	if out := in.MustRun("team", "list"); !strings.Contains(out, "eng@localhost") {
		t.Errorf("team list after a crash: %q", out)
	}
	in.Start()
	in.MustRun("team", "add", "ops")
	if out := in.MustRun("team", "list"); !strings.Contains(out, "ops@localhost") {
		t.Errorf("team list after restart: %q", out)
	}
	in.Stop()
}

func TestServeErrors(t *testing.T) {
	t.Parallel()
	t.Run("port taken", func(t *testing.T) {
		t.Parallel()
		in := newInstance(t)
		in.Start()
		other := newInstance(t, "")
		// A second instance configured for the first one's SMTP port.
		cfg, _ := os.ReadFile(other.Config)
		cfg = []byte(strings.Replace(string(cfg), other.SMTPAddr, in.SMTPAddr, 1))
		os.WriteFile(other.Config, cfg, 0o600)
		r := other.Run("serve")
		if r.Code != 1 || !strings.Contains(r.Stderr, "tidings: serve: cannot listen for SMTP on "+in.SMTPAddr) {
			t.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
		}
		in.Stop()
	})
	t.Run("database in use", func(t *testing.T) {
		t.Parallel()
		in := newInstance(t)
		in.Start()
		r := in.Run("serve")
		if r.Code != 1 || !strings.Contains(r.Stderr, "in use by another process: tidings serve (pid ") || strings.Contains(r.Stderr, "once it has finished") {
			t.Errorf("second serve: exit %d, stderr %q", r.Code, r.Stderr)
		}
		in.Stop()
	})
	t.Run("bad config", func(t *testing.T) {
		t.Parallel()
		in := newInstance(t, "[digest]\ndefault_tz = \"Mars/Olympus\"\n")
		r := in.Run("serve")
		if r.Code != 1 || !strings.Contains(r.Stderr, "digest.default_tz") || strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
		}
	})
	// Settings serve cannot honour stop it before it takes any mail.
	for _, tt := range []struct{ name, toml, want string }{
		{"relay password missing", "[outbound]\nmode = \"smtp\"\nrelay = \"127.0.0.1:587\"\nusername = \"u\"\npassword_file = \"no-such.pw\"\n", "outbound.password_file"},
		{"dkim key missing", "[dkim]\nkey_file = \"no-such.pem\"\n", "dkim.key_file"},
		{"missing templates", "[digest]\ntemplates = \"no-such-dir\"\n", "digest.templates"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := newInstance(t, tt.toml)
			r := in.Run("serve")
			if r.Code != 1 || !strings.Contains(r.Stderr, tt.want) {
				t.Errorf("exit %d, stderr %q, want %q", r.Code, r.Stderr, tt.want)
			}
			if _, err := os.Stat(in.DataDir + "/tidings.db"); err == nil {
				t.Errorf("serve opened the database before refusing")
			}
		})
	}
}
