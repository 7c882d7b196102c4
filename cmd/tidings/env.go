package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/control"
	"github.com/tidings/tidings/mailin"
	"github.com/tidings/tidings/store"
)

// env is everything a command implementation may use. The same command
// code gets an env built by its own process (database opened locally) or by
// the server (its open store, output streamed back over the socket).
type env struct {
	ctx      context.Context
	cfg      *config.Config
	st       *store.Store     // nil for standalone commands
	pipe     *mailin.Pipeline // nil for standalone commands
	stdout   io.Writer
	stderr   io.Writer
	progress func(control.Progress) // never nil
	cwd      string                 // relative paths in arguments are taken from here
	log      *slog.Logger
}

// abs makes a path from the command line absolute against the caller's
// working directory, which is not the server's.
func (e *env) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.cwd, p)
}

// now is the time commands record (a member's join time, a team's creation).
func (e *env) now() time.Time { return time.Now().UTC() }

// writeJSON writes v as indented JSON with a final newline.
func (e *env) writeJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// runStoreCommand runs a command that needs the database: in the process
// that holds it if one answers on the control socket, else here, with the
// database opened directly and the control socket served to others until
// the command and theirs have ended. base is the logger for the store and
// the pipeline.
func runStoreCommand(e *env, base *slog.Logger, inv *invocation, argv []string, sys system) int {
	bar := newProgressBar(sys.stderr, sys.tty)
	stdout, stderr := bar.wrap(sys.stdout), bar.wrap(sys.stderr)
	streams := control.Streams{Stdout: stdout, Stderr: stderr, Progress: bar.update}
	req := control.Request{Argv: argv, Cwd: sys.cwd}
	code, err := control.Run(e.ctx, e.cfg.SocketPath(), req, streams)
	bar.finish()
	if err == nil {
		return code
	}
	if e.ctx.Err() != nil {
		fmt.Fprintln(sys.stderr, "tidings: interrupted")
		return 1
	}
	if !errors.Is(err, control.ErrNoServer) {
		fmt.Fprintf(sys.stderr, "tidings: %v\n", err)
		return 1
	}

	st, code, err := openForCommand(e, base, req, streams, bar.finish)
	if err != nil {
		fmt.Fprintf(sys.stderr, "tidings: %v\n", err)
		return 1
	}
	if st == nil {
		return code // another process ran it
	}
	e.st = st
	e.pipe = newPipeline(st, e.cfg, base)
	e.progress = bar.update
	e.stdout, e.stderr = stdout, stderr
	h := &controlHandler{cfg: e.cfg, st: st, pipe: e.pipe, log: e.log}
	release := serveWhileRunning(e, base, h, holderName(argv), stderr)
	code = finish(e, inv, inv.run(e, inv.args))
	bar.finish()
	release()
	if err := st.Close(); err != nil {
		fmt.Fprintf(sys.stderr, "tidings: close database: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func newPipeline(st *store.Store, cfg *config.Config, log *slog.Logger) *mailin.Pipeline {
	return mailin.NewPipeline(st, pipelineOptions(cfg, log))
}

// pipelineOptions are the pipeline's options from the configuration. The
// pipeline of mail that arrives (serve's) adds a Notifier; the one of
// commands (import) has none: an archive imported is not news, and its
// mail is not answered.
func pipelineOptions(cfg *config.Config, log *slog.Logger) mailin.PipelineOptions {
	return mailin.PipelineOptions{Domain: cfg.Domain, Logger: log, ReactionWords: cfg.Reactions}
}

// newLogger builds the logger of config c writing to w. Commands other than
// serve log only warnings and errors unless debug is asked for: their
// output is their report.
func newLogger(c config.Log, w io.Writer, quiet bool) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	if quiet && level > slog.LevelDebug && level < slog.LevelWarn {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
