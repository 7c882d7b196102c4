package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"time"
)

// maxSocketPath is the longest path a unix socket address takes on Linux
// (sun_path is 108 bytes with its terminating NUL).
const maxSocketPath = 107

// Listen creates the socket at path, readable and writable by the owner
// only, and refuses connections from other users except root. A file
// already at path is replaced: the caller must make sure that no live
// server uses it (tidings holds the database lock, which only one process
// can).
//
// The socket is bound inside a new directory of mode 0700 next to path,
// given mode 0600 there and then renamed into place, so that it is never
// reachable by others, whatever the umask, and a stale socket is replaced
// in one step.
func Listen(path string, h Handler, opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("control: socket path %s is longer than %d bytes; choose a shorter data directory", path, maxSocketPath)
	}
	dir, err := privateDir(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	defer os.RemoveAll(dir)
	bind := filepath.Join(dir, "s")
	if len(bind) > maxSocketPath {
		return nil, fmt.Errorf("control: socket path %s is longer than %d bytes; choose a shorter data directory", bind, maxSocketPath)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: bind, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control: listen %s: %w", path, err)
	}
	// The file is renamed away from the address the listener knows, and
	// unlinking on Close could remove a successor's socket; Shutdown
	// removes ours while the database is still held.
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(bind, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	if err := os.Rename(bind, path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		path:           path,
		ln:             ln,
		handler:        h,
		log:            logger.With("component", "control"),
		info:           Info{PID: os.Getpid(), Holder: opts.Holder, Since: time.Now().UTC().Truncate(time.Second)},
		allowed:        sameUserOrRoot(uint32(os.Getuid())),
		requestTimeout: requestTimeout,
		ctx:            ctx,
		cancel:         cancel,
		conns:          make(map[net.Conn]bool),
		idle:           make(chan struct{}),
	}, nil
}

// sameUserOrRoot allows the user the server runs as, and root.
func sameUserOrRoot(self uint32) func(uid uint32) bool {
	return func(uid uint32) bool { return uid == self || uid == 0 }
}

// privateDir makes a new directory of mode 0700 in parent. Its name is
// short, so that a socket inside it fits wherever the final path does.
func privateDir(parent string) (string, error) {
	for range 100 {
		dir := filepath.Join(parent, fmt.Sprintf(".ctl%04x", rand.Uint32()&0xffff))
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("no free name for a private directory in %s", parent)
}

// errNoPeerCred means the system does not tell who is at the other end of
// a connection.
var errNoPeerCred = errors.New("control: peer credentials are not available on this system")
