package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/control"
)

// where says how a command runs.
type where int

const (
	// inStore commands need the database: they run inside the server when
	// one answers on the control socket, and open the database otherwise.
	inStore where = iota
	// standalone commands need no database (inspect) or own it (serve).
	standalone
)

// command is one entry of the command table.
type command struct {
	name     string // "team add"
	synopsis string // what follows the name in usage lines
	summary  string // one line for the command list
	where    where
	// changesMembers marks commands that change members or teams: run
	// inside serve, they make the digest scheduler look at its members
	// again.
	changesMembers bool
	// queuesMail marks commands that put mail in the outbox (or make it
	// due): run inside serve, they wake its deliverer.
	queuesMail bool
	// setup defines the command's flags on fs and returns the function
	// that runs it once fs is parsed.
	setup func(fs *flag.FlagSet) runFunc
}

type runFunc func(e *env, args []string) error

// system is what the process gets from its surroundings, so that tests can
// run commands in-process and in parallel.
type system struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	cwd            string
	tty            bool // stderr is a terminal: draw progress bars
}

func osSystem() system {
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "."
	}
	return system{
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		cwd:    cwd,
		tty:    term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// invocation is a parsed command line.
type invocation struct {
	cmd  *command
	fs   *flag.FlagSet
	glob *globals
	run  runFunc
	args []string // positional arguments
}

// parseCommandLine finds the command named by argv and parses its flags.
// Mistakes are usageErrors; a request for help is flag.ErrHelp.
func parseCommandLine(argv []string) (*invocation, error) {
	lead, argv, err := splitGlobals(argv)
	if err != nil {
		return nil, err
	}
	cmd, rest, err := lookup(argv)
	if err != nil {
		return nil, err
	}
	fs, g := newFlagSet(cmd.name)
	runf := cmd.setup(fs)
	pos, err := parseArgs(fs, append(lead, rest...))
	if errors.Is(err, flag.ErrHelp) {
		return &invocation{cmd: cmd, fs: fs}, err
	}
	if err != nil {
		return &invocation{cmd: cmd, fs: fs}, usageError{err.Error()}
	}
	return &invocation{cmd: cmd, fs: fs, glob: g, run: runf, args: pos}, nil
}

// lookup finds the longest command name that argv starts with.
func lookup(argv []string) (*command, []string, error) {
	if len(argv) == 0 {
		return nil, nil, usagef("no command given")
	}
	table := commandTable()
	if len(argv) >= 2 {
		for _, c := range table {
			if c.name == argv[0]+" "+argv[1] {
				return c, argv[2:], nil
			}
		}
	}
	var group []string
	for _, c := range table {
		if c.name == argv[0] {
			return c, argv[1:], nil
		}
		if strings.HasPrefix(c.name, argv[0]+" ") {
			group = append(group, c.name)
		}
	}
	if len(group) > 0 {
		if len(argv) == 1 {
			return nil, nil, usagef("%q needs a subcommand: %s", argv[0], strings.Join(group, ", "))
		}
		return nil, nil, usagef("unknown command %q: try %s", argv[0]+" "+argv[1], strings.Join(group, ", "))
	}
	return nil, nil, usagef("unknown command %q (see 'tidings help')", argv[0])
}

// run is the whole program: it parses argv, runs the command and returns
// the exit code: 0 for success, 1 for failure, 2 for a usage mistake.
func run(ctx context.Context, argv []string, sys system) int {
	lead, named, err := splitGlobals(argv)
	if err != nil {
		return reportUsage(sys.stderr, nil, err)
	}
	if len(named) == 0 {
		printUsage(sys.stderr)
		return 2
	}
	switch named[0] {
	case "help", "-h", "-help", "--help":
		if len(named) > 1 {
			inv, err := parseCommandLine(append(append(lead, named[1:]...), "--help"))
			if inv != nil && errors.Is(err, flag.ErrHelp) {
				printCommandUsage(sys.stdout, inv)
				return 0
			}
		}
		printUsage(sys.stdout)
		return 0
	}
	inv, err := parseCommandLine(argv)
	if errors.Is(err, flag.ErrHelp) {
		printCommandUsage(sys.stdout, inv)
		return 0
	}
	if err != nil {
		return reportUsage(sys.stderr, inv, err)
	}
	cfg, err := loadConfig(inv.glob, sys)
	if err != nil {
		fmt.Fprintf(sys.stderr, "tidings: %v\n", err)
		return 1
	}
	base := newLogger(cfg.Log, sys.stderr, true)
	e := &env{
		ctx:      ctx,
		cfg:      cfg,
		stdout:   sys.stdout,
		stderr:   sys.stderr,
		cwd:      sys.cwd,
		log:      base.With("component", "admin"),
		progress: func(control.Progress) {},
	}
	if inv.cmd.where == standalone {
		return finish(e, inv, inv.run(e, inv.args))
	}
	return runStoreCommand(e, base, inv, argv, sys)
}

// finish reports a command's error and turns it into an exit code.
func finish(e *env, inv *invocation, err error) int {
	switch {
	case err == nil:
		return 0
	case isUsage(err):
		return reportUsage(e.stderr, inv, err)
	default:
		fmt.Fprintf(e.stderr, "tidings: %v\n", err)
		return 1
	}
}

func reportUsage(w io.Writer, inv *invocation, err error) int {
	fmt.Fprintf(w, "tidings: %v\n", err)
	if inv != nil {
		fmt.Fprintf(w, "usage: tidings %s %s\n", inv.cmd.name, inv.cmd.synopsis)
	} else {
		fmt.Fprintln(w, "usage: tidings COMMAND [flags] [arguments]; 'tidings help' lists the commands")
	}
	return 2
}

// loadConfig reads the configuration named by --config or $TIDINGS_CONFIG
// (or the defaults), applies --data, and makes the data directory absolute
// so that the socket and database are found from any directory.
func loadConfig(g *globals, sys system) (*config.Config, error) {
	path := g.config
	if path == "" {
		path = sys.getenv(config.EnvVar)
	}
	if path != "" && !filepath.IsAbs(path) {
		path = filepath.Join(sys.cwd, path)
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if g.data != "" {
		cfg.DataDir = g.data
	}
	if !filepath.IsAbs(cfg.DataDir) {
		cfg.DataDir = filepath.Join(sys.cwd, cfg.DataDir)
	}
	// The server's configuration is what commands it runs for others
	// see, so its paths must not depend on their working directories.
	if cfg.Digest.Templates != "" && !filepath.IsAbs(cfg.Digest.Templates) {
		cfg.Digest.Templates = filepath.Join(sys.cwd, cfg.Digest.Templates)
	}
	return cfg, nil
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `tidings threads the mail sent to team addresses and sends each member one
digest at the start of their own working day.

usage: tidings COMMAND [flags] [arguments]

commands:
`)
	for _, c := range commandTable() {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Every command takes --config FILE (default $TIDINGS_CONFIG, else built-in
defaults) and --data DIR. Flags may come before or after arguments.
'tidings help COMMAND' shows a command's flags.
`)
}

func printCommandUsage(w io.Writer, inv *invocation) {
	fmt.Fprintf(w, "usage: tidings %s %s\n\n%s\n\nflags:\n", inv.cmd.name, inv.cmd.synopsis, inv.cmd.summary)
	inv.fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s %s\n        %s\n", f.Name, arg, usage)
	})
}
