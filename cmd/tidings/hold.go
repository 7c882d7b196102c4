package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/control"
	"github.com/tidings/tidings/mailin"
	"github.com/tidings/tidings/store"
)

// Whichever tidings process opens the database — serve, or a command run
// while no server is up — also answers on the control socket for as long
// as it holds it, so that every other admin command reaches the database
// through that process instead of finding it locked.

const (
	// storeOpenTimeout is how long serve waits for the database lock: long
	// enough to ride out a short command, short enough to say promptly
	// what holds it.
	storeOpenTimeout = 3 * time.Second
	// lockWait bounds how long a command keeps trying, in turn, the
	// socket and the lock. The lock is held without an answering socket
	// only for moments: while its holder starts up or lets go.
	lockWait = 10 * time.Second
	// lockPoll is one attempt at the lock within lockWait.
	lockPoll = 200 * time.Millisecond
	// drainNote is how long a command that has finished waits for
	// commands it runs for other processes before it says so.
	drainNote = time.Second
	// interruptedGrace is how long commands run for other processes get
	// to wind down when this one is interrupted.
	interruptedGrace = 5 * time.Second
	// maxHolderLen keeps a long list of files out of Who's answer.
	maxHolderLen = 200
)

// holderName is how a process describes itself to Who: its command line.
func holderName(argv []string) string {
	parts := make([]string, 0, len(argv)+1)
	parts = append(parts, "tidings")
	for _, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\") {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	s := strings.Join(parts, " ")
	if len(s) > maxHolderLen {
		s = s[:maxHolderLen] + "…"
	}
	return s
}

// heldBy explains that the database is locked, naming the process that
// holds it when its control socket answers.
func heldBy(ctx context.Context, cfg *config.Config) string {
	info, err := control.Who(ctx, cfg.SocketPath())
	if err != nil {
		return fmt.Sprintf("the database %s is in use by another process, and no tidings server answers on %s",
			cfg.DBPath(), cfg.SocketPath())
	}
	return fmt.Sprintf("the database %s is in use by another process: %s (pid %d, running since %s)",
		cfg.DBPath(), info.Holder, info.PID, info.Since.Local().Format(time.DateTime))
}

// controlHandler runs commands that arrive on the control socket against
// the open store of the process that holds it.
type controlHandler struct {
	cfg  *config.Config
	st   *store.Store
	pipe *mailin.Pipeline
	log  *slog.Logger // with the admin component
	// changed, when set, is called after a command that changes members
	// or teams (see command.changesMembers).
	changed func()
	// queued, when set, is called after a command that queues mail (see
	// command.queuesMail).
	queued func()
}

func (h *controlHandler) handle(ctx context.Context, req control.Request, out control.Streams) int {
	e := &env{
		ctx:      ctx,
		cfg:      h.cfg,
		st:       h.st,
		pipe:     h.pipe,
		stdout:   out.Stdout,
		stderr:   out.Stderr,
		progress: out.Progress,
		cwd:      req.Cwd,
		log:      h.log,
	}
	inv, err := parseCommandLine(req.Argv)
	if err != nil {
		return finish(e, inv, err)
	}
	if inv.cmd.where != inStore {
		return finish(e, inv, fmt.Errorf("%s does not run inside the server", inv.cmd.name))
	}
	code := finish(e, inv, inv.run(e, inv.args))
	if inv.cmd.changesMembers && h.changed != nil {
		// Even after a failure: part of a change may have been made, and
		// a needless look costs one read of the members.
		h.changed()
	}
	if inv.cmd.queuesMail && h.queued != nil {
		h.queued()
	}
	return code
}

// openForCommand opens the database for a command when no server answered,
// trying the socket and the lock in turn for up to lockWait: another
// command may have taken the lock a moment before its socket is up, or may
// be letting go of both. It returns the store, or the command's exit code
// from whichever process ran it instead.
func openForCommand(e *env, base *slog.Logger, req control.Request, streams control.Streams, finishBar func()) (*store.Store, int, error) {
	deadline := time.Now().Add(lockWait)
	for {
		st, err := store.Open(e.cfg.DBPath(), store.Options{Timeout: lockPoll, Logger: base})
		if err == nil {
			return st, 0, nil
		}
		if !errors.Is(err, store.ErrLocked) {
			return nil, 0, err
		}
		code, err := control.Run(e.ctx, e.cfg.SocketPath(), req, streams)
		finishBar()
		switch {
		case err == nil:
			return nil, code, nil
		case e.ctx.Err() != nil:
			return nil, 0, fmt.Errorf("interrupted: %w", e.ctx.Err())
		case !errors.Is(err, control.ErrNoServer):
			return nil, 0, err
		case time.Now().After(deadline):
			return nil, 0, errors.New(heldBy(e.ctx, e.cfg))
		}
	}
}

// serveWhileRunning answers on the control socket with h while this
// process holds the database for a command of its own; base is the
// logger without a component. It returns a
// function to call once that command has ended: it waits, uncancelled,
// for the commands it runs for other processes (noting on w when that
// takes a while) and then closes the socket. If the socket cannot be
// made the command runs anyway, with a warning on w.
func serveWhileRunning(e *env, base *slog.Logger, h *controlHandler, holder string, w io.Writer) (release func()) {
	ctl, err := control.Listen(e.cfg.SocketPath(), h.handle, &control.Options{Logger: base, Holder: holder})
	if err != nil {
		fmt.Fprintf(w, "tidings: warning: other tidings commands cannot use the database while this one runs: %v\n", err)
		return func() {}
	}
	served := make(chan error, 1)
	go func() { served <- ctl.Serve() }()
	return func() {
		note := time.AfterFunc(drainNote, func() {
			if n := ctl.Running(); n > 0 {
				fmt.Fprintf(w, "tidings: waiting for commands of other tidings processes to finish (%d)\n", n)
			}
		})
		err := ctl.Drain(e.ctx)
		note.Stop()
		if err != nil {
			// Interrupted: the commands run for others stop too.
			ctx, cancel := context.WithTimeout(context.Background(), interruptedGrace)
			defer cancel()
			if err := ctl.Shutdown(ctx); err != nil {
				fmt.Fprintf(w, "tidings: %v\n", err)
			}
		}
		if err := <-served; err != nil {
			fmt.Fprintf(w, "tidings: %v\n", err)
		}
	}
}
