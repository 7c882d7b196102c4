package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// globals are the flags every command takes.
type globals struct {
	config string // --config FILE
	data   string // --data DIR
}

// newFlagSet returns a flag set with the global flags, reporting errors to
// the caller instead of printing them.
func newFlagSet(name string) (*flag.FlagSet, *globals) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g := &globals{}
	fs.StringVar(&g.config, "config", "", "configuration `FILE` (TOML); default $TIDINGS_CONFIG")
	fs.StringVar(&g.data, "data", "", "data `DIR`, overriding data_dir")
	return fs, g
}

// parseArgs parses args with fs, letting flags stand before, between and
// after positional arguments, and returns the positional ones. "--" ends
// the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// splitGlobals takes the global flags (--config, --data) that stand before
// the command name off argv, so that `tidings --data DIR threads` works as
// `tidings threads --data DIR` does. Any other flag there is a mistake: its
// meaning depends on the command.
func splitGlobals(argv []string) (lead, rest []string, err error) {
	for len(argv) > 0 && len(argv[0]) > 1 && argv[0][0] == '-' {
		a := argv[0]
		name, _, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		switch name {
		case "config", "data":
		case "h", "help":
			return lead, argv, nil
		default:
			return nil, nil, usagef("flag %s must follow the command name", a)
		}
		if hasValue {
			lead, argv = append(lead, a), argv[1:]
			continue
		}
		if len(argv) < 2 {
			return nil, nil, usagef("flag needs an argument: %s", a)
		}
		lead, argv = append(lead, a, argv[1]), argv[2:]
	}
	return lead, argv, nil
}

// listFlag collects a flag given several times (--allow a --allow b).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// usageError is a mistake on the command line: it is answered with the
// command's synopsis and exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, names ...string) error {
	switch {
	case len(args) < len(names):
		return usagef("missing %s", strings.Join(names[len(args):], " "))
	case len(args) > len(names):
		return usagef("unexpected argument %q", args[len(names)])
	}
	return nil
}

// flagsSet reports which flags were given on the command line.
func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
