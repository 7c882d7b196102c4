package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// interruptGrace is how long a cancelled client waits for the command to
// wind down and report.
const interruptGrace = 5 * time.Second

// startTimeout bounds the wait for the server to start a command.
const startTimeout = 30 * time.Second

// whoTimeout bounds Who: a server that does not answer at once is as good
// as none for the purpose of naming it in a message.
const whoTimeout = 3 * time.Second

// Run sends req to the server at path and copies what the command writes to
// out, returning the command's exit code. ErrNoServer means nothing was
// run: no server answered, or it closed the connection before starting the
// command. Cancelling ctx stops the command; Run then still returns its
// exit code if the command ends within a few seconds.
func Run(ctx context.Context, path string, req Request, out Streams) (int, error) {
	req.Version = Version
	req.Who = false
	c, err := dial(ctx, path)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return runConn(ctx, c, path, req, out)
}

// runConn is Run on a connection already made.
func runConn(ctx context.Context, c net.Conn, path string, req Request, out Streams) (int, error) {
	// On cancellation, closing our sending side tells the server to stop
	// the command; its last words (a summary, the exit code) still come
	// back, unless it takes longer than interruptGrace.
	stop := context.AfterFunc(ctx, func() {
		if uc, ok := c.(*net.UnixConn); ok && uc.CloseWrite() == nil {
			time.AfterFunc(interruptGrace, func() { c.Close() })
			return
		}
		c.Close()
	})
	defer stop()

	// A failed send means the server closed the connection before reading
	// the request; what it said first (a refusal) may still be there to
	// read.
	sendErr := send(c, req)
	// A server starts a command the moment it has read it; one that does
	// not is wedged, and waiting on it for ever helps nobody.
	c.SetReadDeadline(time.Now().Add(startTimeout))
	dec := json.NewDecoder(bufio.NewReader(c))
	started := false
	for {
		var f frame
		if err := dec.Decode(&f); err != nil {
			var ne net.Error
			switch {
			case ctx.Err() != nil:
				return 0, fmt.Errorf("control: interrupted: %w", ctx.Err())
			case !started && errors.As(err, &ne) && ne.Timeout():
				return 0, fmt.Errorf("control: the server on %s took the request but did not start it within %v", path, startTimeout)
			case !started && sendErr != nil:
				return 0, fmt.Errorf("%w (%v)", ErrNoServer, sendErr)
			case !started:
				return 0, fmt.Errorf("%w (the server closed the connection without running the command: %v)", ErrNoServer, err)
			}
			return 0, fmt.Errorf("control: the server ended the command without an exit code: %w", err)
		}
		if !started {
			started = true
			c.SetReadDeadline(time.Time{})
		}
		switch {
		case f.Exit != nil:
			return *f.Exit, nil
		case f.Progress != nil:
			if out.Progress != nil {
				out.Progress(*f.Progress)
			}
		case f.Stderr != "":
			io.WriteString(out.Stderr, f.Stderr)
		case f.Stdout != "":
			io.WriteString(out.Stdout, f.Stdout)
		}
	}
}

// Who asks the server at path which process it is. ErrNoServer means none
// answered.
func Who(ctx context.Context, path string) (Info, error) {
	ctx, cancel := context.WithTimeout(ctx, whoTimeout)
	defer cancel()
	c, err := dial(ctx, path)
	if err != nil {
		return Info{}, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := send(c, Request{Version: Version, Who: true}); err != nil {
		return Info{}, fmt.Errorf("%w (%v)", ErrNoServer, err)
	}
	dec := json.NewDecoder(bufio.NewReader(c))
	for {
		var f frame
		if err := dec.Decode(&f); err != nil {
			return Info{}, fmt.Errorf("%w (no answer to who: %v)", ErrNoServer, err)
		}
		switch {
		case f.Who != nil:
			return *f.Who, nil
		case f.Exit != nil:
			return Info{}, fmt.Errorf("control: the server did not say who it is (exit %d)", *f.Exit)
		}
	}
}

func dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOTSOCK) {
			return nil, ErrNoServer
		}
		return nil, fmt.Errorf("control: connect %s: %w", path, err)
	}
	return c, nil
}

func send(c net.Conn, req Request) error {
	data, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	_, err = c.Write(append(data, '\n'))
	return err
}
