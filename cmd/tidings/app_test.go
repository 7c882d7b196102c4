package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tidings/tidings/control"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		pos     []string
		team    string
		allow   []string
		asJSON  bool
		wantErr string
	}{
		{args: []string{"eng", "--team", "x"}, pos: []string{"eng"}, team: "x"},
		{args: []string{"--team", "x", "eng"}, pos: []string{"eng"}, team: "x"},
		{args: []string{"a", "--json", "b", "--team=x", "c"}, pos: []string{"a", "b", "c"}, team: "x", asJSON: true},
		{args: []string{"--allow", "a@b.c", "eng", "--allow", "@d.e"}, pos: []string{"eng"}, allow: []string{"a@b.c", "@d.e"}},
		{args: []string{"-team", "x", "--", "--json", "-y"}, pos: []string{"--json", "-y"}, team: "x"},
		{args: []string{"eng", "--nope"}, wantErr: "not defined: -nope"},
		{args: []string{"eng", "--team"}, wantErr: "needs an argument"},
		{args: nil, pos: nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			fs, _ := newFlagSet("test")
			team := fs.String("team", "", "")
			asJSON := fs.Bool("json", false, "")
			var allow listFlag
			fs.Var(&allow, "allow", "")
			pos, err := parseArgs(fs, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, tt.pos) || *team != tt.team || *asJSON != tt.asJSON || !reflect.DeepEqual([]string(allow), tt.allow) {
				t.Errorf("pos %q team %q json %v allow %q", pos, *team, *asJSON, allow)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		name    string
		rest    []string
		wantErr string
	}{
		{argv: []string{"team", "add", "eng"}, name: "team add", rest: []string{"eng"}},
		{argv: []string{"threads", "--json"}, name: "threads", rest: []string{"--json"}},
		{argv: []string{"thread", "show", "3"}, name: "thread show", rest: []string{"3"}},
		{argv: []string{"team"}, wantErr: `"team" needs a subcommand: team add, team list`},
		{argv: []string{"digest", "preview", "a@b.c", "--html"}, name: "digest preview", rest: []string{"a@b.c", "--html"}},
		{argv: []string{"digest"}, wantErr: `"digest" needs a subcommand: digest preview, digest schedule`},
		{argv: []string{"team", "drop"}, wantErr: `unknown command "team drop"`},
		{argv: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		c, rest, err := lookup(tt.argv)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !isUsage(err) {
				t.Errorf("%v: err = %v, want usage error %q", tt.argv, err, tt.wantErr)
			}
			continue
		}
		if err != nil || c.name != tt.name || !reflect.DeepEqual(rest, tt.rest) {
			t.Errorf("%v: %v %v %v", tt.argv, c, rest, err)
		}
	}
	// Every command in the table can be found by its name and has help.
	for _, c := range commandTable() {
		got, _, err := lookup(strings.Fields(c.name))
		if err != nil || got.name != c.name || c.summary == "" || c.setup == nil {
			t.Errorf("command %q: %v", c.name, err)
		}
	}
}

// tool runs commands in-process against one data directory with no server,
// so each command opens the database itself.
type tool struct {
	t   *testing.T
	dir string
}

func newTool(t *testing.T) *tool {
	t.Helper()
	dir, err := os.MkdirTemp("", "tdt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return &tool{t: t, dir: dir}
}

func (tl *tool) run(args ...string) result {
	tl.t.Helper()
	var stdout, stderr bytes.Buffer
	sys := system{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, cwd: tl.dir}
	code := run(context.Background(), append(args, "--data", "data"), sys)
	return result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

func (tl *tool) ok(args ...string) string {
	tl.t.Helper()
	r := tl.run(args...)
	if r.Code != 0 {
		tl.t.Fatalf("tidings %v: exit %d: %s%s", args, r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

func TestTeamAndMemberCommands(t *testing.T) {
	t.Parallel()
	tl := newTool(t)
	if out := tl.ok("team", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty team list JSON = %q, want []", out)
	}
	if out := tl.ok("member", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty member list JSON = %q, want []", out)
	}
	if out := tl.ok("threads", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty threads JSON = %q, want []", out)
	}
	tl.ok("team", "add", "eng", "--allow", "feeds@status.example", "--allow", "@CI.example")
	tl.ok("team", "add", "--address", "Ops <OPS@Example.com>", "ops")

	var teams []teamJSON
	if err := json.Unmarshal([]byte(tl.ok("team", "list", "--json")), &teams); err != nil {
		t.Fatal(err)
	}
	wantTeams := []teamJSON{
		{Name: "eng", Address: "eng@localhost", Allow: []string{"feeds@status.example", "@ci.example"}},
		{Name: "ops", Address: "ops@example.com", Allow: []string{}},
	}
	if !reflect.DeepEqual(teams, wantTeams) {
		t.Errorf("teams = %+v, want %+v", teams, wantTeams)
	}

	tl.ok("member", "add", "Ana Lima <Ana@Example.com>", "--team", "eng", "--tz", "Europe/Berlin")
	tl.ok("member", "add", "ana@example.com", "--team", "ops", "--mode", "immediate", "--days", "Mon,Wed,Fri")
	tl.ok("member", "add", "bo@example.com", "--team", "ops", "--tz", "Pacific/Auckland", "--start", "7:15", "--name", "Bo")
	tl.ok("member", "set", "bo@example.com", "--mode", "off")
	tl.ok("member", "set", "bo@example.com", "--team", "eng")

	var members []memberJSON
	if err := json.Unmarshal([]byte(tl.ok("member", "list", "--json")), &members); err != nil {
		t.Fatal(err)
	}
	wantMembers := []memberJSON{
		{Address: "ana@example.com", Name: "Ana Lima", TZ: "Europe/Berlin", Start: "09:00", Days: "mon,wed,fri",
			Teams: map[string]string{"eng": "digest", "ops": "immediate"}, Muted: []uint64{}, Followed: []uint64{}},
		{Address: "bo@example.com", Name: "Bo", TZ: "Pacific/Auckland", Start: "07:15", Days: "mon-fri",
			Teams: map[string]string{"eng": "digest", "ops": "off"}, Muted: []uint64{}, Followed: []uint64{}},
	}
	if !reflect.DeepEqual(members, wantMembers) {
		t.Errorf("members = %+v\nwant %+v", members, wantMembers)
	}
	if out := tl.ok("member", "list", "--team", "ops"); !strings.Contains(out, "eng=digest, ops=immediate") || !strings.Contains(out, "Pacific/Auckland") {
		t.Errorf("member list text:\n%s", out)
	}

	tl.ok("member", "remove", "bo@example.com", "--team", "ops")
	tl.ok("member", "remove", "ana@example.com")
	members = nil
	if err := json.Unmarshal([]byte(tl.ok("member", "list", "--json")), &members); err != nil {
		t.Fatal(err)
	}
	if len(members) != 1 || members[0].Address != "bo@example.com" || !reflect.DeepEqual(members[0].Teams, map[string]string{"eng": "digest"}) {
		t.Errorf("after removals: %+v", members)
	}

	failures := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"team", "add", "eng"}, 1, "exists already"},
		{[]string{"team", "add", "Eng Team"}, 2, "team name"},
		{[]string{"team", "add", "qa", "--address", "not-an-address"}, 2, "not an e-mail address"},
		{[]string{"team", "add", "qa", "--allow", "@"}, 2, "--allow"},
		{[]string{"team", "add"}, 2, "missing NAME"},
		{[]string{"member", "add", "cy@example.com"}, 2, "--team is required"},
		{[]string{"member", "add", "cy@example.com", "--team", "nope"}, 1, `no team "nope"`},
		{[]string{"member", "add", "cy@example.com", "--team", "eng", "--tz", "Berlin"}, 2, "unknown time zone"},
		{[]string{"member", "add", "cy@example.com", "--team", "eng", "--start", "25:00"}, 2, "HH:MM"},
		{[]string{"member", "add", "cy@example.com", "--team", "eng", "--days", "weekdays"}, 2, "not a day"},
		{[]string{"member", "add", "cy@example.com", "--team", "eng", "--mode", "loud"}, 2, "digest, immediate or off"},
		{[]string{"member", "add", "cy", "--team", "eng"}, 2, "not an e-mail address"},
		{[]string{"member", "add", "eng@localhost", "--team", "eng"}, 1, "address of team eng"},
		{[]string{"member", "add", "bo@example.com", "--team", "eng"}, 1, "already in team eng"},
		{[]string{"member", "set", "bo@example.com"}, 2, "nothing to change"},
		{[]string{"member", "set", "zed@example.com", "--tz", "UTC"}, 1, "no member zed@example.com"},
		{[]string{"member", "remove", "zed@example.com"}, 1, "no member"},
		{[]string{"member", "remove", "bo@example.com", "--team", "ops"}, 1, "not in team ops"},
		{[]string{"threads", "--team", "nope"}, 1, `no team "nope"`},
		{[]string{"thread", "show", "99"}, 1, "no thread 99"},
		{[]string{"thread", "show", "abc"}, 2, "not a number"},
		{[]string{"import", "--team", "eng"}, 2, "exactly one of"},
		{[]string{"import", "--mbox", "a", "--maildir", "b"}, 2, "exactly one of"},
		{[]string{"import", "--mbox", "missing.mbox"}, 1, "no such file"},
		{[]string{"backup"}, 2, "missing FILE"},
		{[]string{"backup", "data/tidings.db"}, 1, "the database itself"},
		{[]string{"inspect", "missing.eml"}, 1, "no such file"},
		{[]string{"team", "list", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, f := range failures {
		r := tl.run(f.args...)
		if r.Code != f.code || !strings.Contains(r.Stderr, f.want) || !strings.HasPrefix(r.Stderr, "tidings: ") {
			t.Errorf("tidings %v: exit %d, stderr %q; want exit %d mentioning %q", f.args, r.Code, r.Stderr, f.code, f.want)
		}
		if f.code == 1 && strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("tidings %v: error is not one line: %q", f.args, r.Stderr)
		}
	}
}

func TestUsageAndHelp(t *testing.T) {
	t.Parallel()
	tl := newTool(t)
	if r := tl.run(); r.Code != 2 {
		t.Errorf("no arguments: exit %d", r.Code)
	}
	var stdout, stderr bytes.Buffer
	sys := system{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, cwd: tl.dir}
	if code := run(context.Background(), nil, sys); code != 2 || !strings.Contains(stderr.String(), "commands:") {
		t.Errorf("no command: exit %d, stderr %q", code, stderr.String())
	}
	for _, args := range [][]string{{"help"}, {"--help"}} {
		stdout.Reset()
		if code := run(context.Background(), args, sys); code != 0 || !strings.Contains(stdout.String(), "member add") {
			t.Errorf("%v: exit %d: %q", args, code, stdout.String())
		}
	}
	for _, args := range [][]string{{"help", "import"}, {"import", "--help"}, {"import", "-h"}} {
		stdout.Reset()
		if code := run(context.Background(), args, sys); code != 0 || !strings.Contains(stdout.String(), "--maildir DIR") {
			t.Errorf("%v: exit %d: %q", args, code, stdout.String())
		}
	}
	if r := tl.run("team", "add", "x", "--frob"); r.Code != 2 || !strings.Contains(r.Stderr, "usage: tidings team add NAME") {
		t.Errorf("unknown flag: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "t.toml")
	os.WriteFile(cfgPath, []byte("domain = \"example.org\"\n"), 0o600)
	var stdout, stderr bytes.Buffer
	env := map[string]string{"TIDINGS_CONFIG": cfgPath}
	sys := system{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return env[k] }, cwd: dir}
	if code := run(context.Background(), []string{"team", "add", "eng"}, sys); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "eng@example.org") {
		t.Errorf("TIDINGS_CONFIG not used: %q", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "tidings-data", "tidings.db")); err != nil {
		t.Errorf("default data dir not used: %v", err)
	}
	env["TIDINGS_CONFIG"] = filepath.Join(dir, "missing.toml")
	stderr.Reset()
	if code := run(context.Background(), []string{"team", "list"}, sys); code != 1 || !strings.Contains(stderr.String(), "missing.toml") {
		t.Errorf("missing config: exit %d, %q", code, stderr.String())
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	tl := newTool(t)
	eml := filepath.Join(tl.dir, "m.eml")
	os.WriteFile(eml, []byte("From: Ana <ana@example.com>\r\nTo: eng@example.com\r\nSubject: Hello\r\n"+
		"Message-ID: <hello@example.com>\r\nAuto-Submitted: auto-replied\r\n\r\nI am away.\r\n"), 0o600)
	var v map[string]any
	if err := json.Unmarshal([]byte(tl.ok("inspect", "m.eml", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"message_id", "from", "kind", "text", "quoted", "signature", "original_from", "auto", "attachments"} {
		if _, ok := v[key]; !ok {
			t.Errorf("inspect --json lacks %q", key)
		}
	}
	if v["message_id"] != "hello@example.com" || v["from"] != "ana@example.com" || v["kind"] != "message" || v["auto"] != "auto-replied" {
		t.Errorf("inspect --json = %v", v)
	}
	if text, _ := v["text"].(string); !strings.Contains(text, "I am away.") {
		t.Errorf("text = %q", v["text"])
	}
	if _, err := os.Stat(filepath.Join(tl.dir, "data")); !os.IsNotExist(err) {
		t.Errorf("inspect touched the data directory: %v", err)
	}
	out := tl.ok("inspect", eml)
	for _, want := range []string{"message-id:     hello@example.com", "from:           Ana <ana@example.com>", "auto:           auto-replied", "--- text\nI am away."} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

func TestImportInProcess(t *testing.T) {
	t.Parallel()
	tl := newTool(t)
	tl.ok("team", "add", "eng", "--address", "eng@example.com")
	mbox, err := filepath.Abs("../../mailin/testdata/source/team.mbox")
	if err != nil {
		t.Fatal(err)
	}
	if out := tl.ok("import", "--mbox", mbox); strings.TrimSpace(out) != "imported 3, duplicates 0, refused 0" {
		t.Errorf("import: %q", out)
	}
	if out := tl.ok("import", "--team", "eng", "--mbox", mbox); strings.TrimSpace(out) != "imported 0, duplicates 3, refused 0" {
		t.Errorf("re-import: %q", out)
	}
	// On a terminal the import draws a bar on stderr, ending its line
	// before the summary.
	var stdout, stderr bytes.Buffer
	sys := system{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, cwd: tl.dir, tty: true}
	if code := run(context.Background(), []string{"import", "--mbox", mbox, "--data", "data"}, sys); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if got := stderr.String(); !strings.HasPrefix(got, "\rimporting 100% [") || !strings.HasSuffix(got, "3 messages\x1b[K\n") {
		t.Errorf("progress on a terminal: %q", got)
	}
	if got := stdout.String(); got != "imported 0, duplicates 3, refused 0\n" {
		t.Errorf("summary: %q", got)
	}

	var ths []threadJSON
	if err := json.Unmarshal([]byte(tl.ok("threads", "--json")), &ths); err != nil {
		t.Fatal(err)
	}
	if len(ths) != 1 || !reflect.DeepEqual(ths[0].MessageIDs, []string{"launch@example.com", "r1@example.com", "r2@example.com"}) {
		t.Errorf("threads after import: %+v", ths)
	}
}

func TestRenderProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    control.Progress
		want string
	}{
		{control.Progress{Label: "importing", Done: 50, Total: 200, Items: 12, Unit: "messages"}, "importing  25% [##        ] 12 messages"},
		{control.Progress{Label: "importing", Done: 300, Total: 200}, "importing 100% [##########]"},
		{control.Progress{Label: "importing", Items: 3, Unit: "messages"}, "importing 3 messages"},
	}
	for _, tt := range tests {
		if got := renderProgress(tt.p, 10); got != tt.want {
			t.Errorf("renderProgress(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
	var buf bytes.Buffer
	off := newProgressBar(&buf, false)
	off.update(tests[0].p)
	off.finish()
	if buf.Len() != 0 {
		t.Errorf("progress drawn on a non-terminal: %q", buf.String())
	}
	on := newProgressBar(&buf, true)
	on.update(tests[0].p)
	on.finish()
	if got := buf.String(); !strings.HasPrefix(got, "\r") || !strings.HasSuffix(got, "\n") || !strings.Contains(got, "12 messages") {
		t.Errorf("terminal progress = %q", got)
	}
}

// The flag package must not print on its own: errors come out once, our way.
func TestFlagSetQuiet(t *testing.T) {
	t.Parallel()
	fs, _ := newFlagSet("x")
	if _, err := parseArgs(fs, []string{"--nope"}); err == nil {
		t.Fatal("no error")
	}
	if fs.Output() == nil || fs.ErrorHandling() != flag.ContinueOnError {
		t.Errorf("flag set would print or exit")
	}
}

func TestSplitGlobals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv       []string
		lead, rest []string
		wantErr    string
	}{
		{argv: []string{"threads"}, rest: []string{"threads"}},
		{argv: []string{"--data", "d", "threads", "--json"}, lead: []string{"--data", "d"}, rest: []string{"threads", "--json"}},
		{argv: []string{"--config=c.toml", "-data", "d", "team", "list"}, lead: []string{"--config=c.toml", "-data", "d"}, rest: []string{"team", "list"}},
		{argv: []string{"--config", "c.toml", "serve"}, lead: []string{"--config", "c.toml"}, rest: []string{"serve"}},
		{argv: []string{"--data", "d", "--help"}, lead: []string{"--data", "d"}, rest: []string{"--help"}},
		{argv: []string{"--json", "threads"}, wantErr: "flag --json must follow the command name"},
		{argv: []string{"--data"}, wantErr: "flag needs an argument: --data"},
	}
	for _, tt := range tests {
		lead, rest, err := splitGlobals(tt.argv)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !isUsage(err) {
				t.Errorf("%q: err = %v, want usage error %q", tt.argv, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(lead, tt.lead) || !reflect.DeepEqual(rest, tt.rest) {
			t.Errorf("%q: lead %q rest %q err %v; want %q %q", tt.argv, lead, rest, err, tt.lead, tt.rest)
		}
	}
}

// Global flags may stand before the command name as well as after it.
func TestGlobalFlagsBeforeCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "t.toml")
	os.WriteFile(cfgPath, []byte("domain = \"example.org\"\n"), 0o600)
	runIn := func(args ...string) result {
		t.Helper()
		var stdout, stderr bytes.Buffer
		sys := system{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, cwd: dir}
		code := run(context.Background(), args, sys)
		return result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
	}
	if r := runIn("--config", cfgPath, "--data", "d1", "team", "add", "eng"); r.Code != 0 || !strings.Contains(r.Stdout, "eng@example.org") {
		t.Errorf("team add with leading flags: %+v", r)
	}
	if r := runIn("--data=d1", "team", "list", "--json"); r.Code != 0 || !strings.Contains(r.Stdout, `"eng"`) {
		t.Errorf("team list with a leading --data=: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "d1", "tidings.db")); err != nil {
		t.Errorf("--data before the command was not used: %v", err)
	}
	if r := runIn("--data", "d1", "help", "threads"); r.Code != 0 || !strings.Contains(r.Stdout, "usage: tidings threads") {
		t.Errorf("help after a leading flag: %+v", r)
	}
	if r := runIn("--json", "threads"); r.Code != 2 || !strings.Contains(r.Stderr, "must follow the command name") {
		t.Errorf("a command flag before the command: %+v", r)
	}
}
