package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Version is the protocol version a client sends; a server refuses others
// rather than misreading them.
const Version = 1

// maxRequest bounds a request line (an import may name many files).
const maxRequest = 16 << 20

// maxSocketPath is the longest path a unix socket address takes on Linux
// (sun_path is 108 bytes with its terminating NUL).
const maxSocketPath = 107

// ErrNoServer means nothing answers on the socket: it does not exist, or it
// is left over from a server that is gone.
var ErrNoServer = errors.New("control: no server is running")

// Request is one command for the server to run.
type Request struct {
	Version int      `json:"v"`
	Argv    []string `json:"argv"` // the command line without the program name
	Cwd     string   `json:"cwd"`  // the client's working directory, for relative paths
}

// Progress says how far a long command has come.
type Progress struct {
	Label string `json:"label,omitempty"` // what is happening, e.g. "importing"
	Done  int64  `json:"done"`            // units of work done ...
	Total int64  `json:"total"`           // ... of this many; 0 when unknown
	Items int64  `json:"items"`           // things handled so far, e.g. messages
	Unit  string `json:"unit,omitempty"`  // what Items counts, e.g. "messages"
}

// Streams are where a command's output goes: the terminal when it runs in
// the client's own process, the socket when it runs in the server.
type Streams struct {
	Stdout, Stderr io.Writer
	Progress       func(Progress) // may be nil
}

type frame struct {
	Stdout   string    `json:"stdout,omitempty"`
	Stderr   string    `json:"stderr,omitempty"`
	Progress *Progress `json:"progress,omitempty"`
	Exit     *int      `json:"exit,omitempty"`
}

// Handler runs one request and returns its exit code. ctx ends when the
// client goes away or the server shuts down.
type Handler func(ctx context.Context, req Request, out Streams) int

// Server answers requests on a unix socket.
type Server struct {
	path    string
	ln      net.Listener
	handler Handler
	log     *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Listen creates the socket at path, readable and writable by the owner
// only. A file already at path is removed first: the caller must make sure
// that no live server uses it (tidings holds the database lock, which only
// one process can).
func Listen(path string, h Handler, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("control: socket path %s is longer than %d bytes; choose a shorter data directory", path, maxSocketPath)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control: remove stale socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control: listen %s: %w", path, err)
	}
	// Unlinking on Close would remove a successor's socket if one had
	// already replaced ours; the file is removed by the next Listen instead.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{path: path, ln: ln, handler: h, log: logger.With("component", "control"),
		ctx: ctx, cancel: cancel}, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Serve accepts connections until Shutdown. It returns nil after Shutdown.
func (s *Server) Serve() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("control: accept: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
		}()
	}
}

// Shutdown stops accepting, cancels the commands that are running and waits
// for them to return, or for ctx to end. The socket file is removed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	s.ln.Close()
	os.Remove(s.path)
	finished := make(chan struct{})
	go func() { s.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("control: commands still running: %w", ctx.Err())
	}
}

func (s *Server) serveConn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(io.LimitReader(c, maxRequest))
	line, err := br.ReadBytes('\n')
	if err != nil {
		s.log.Warn("bad request", "error", err)
		return
	}
	var req Request
	w := &frameWriter{enc: json.NewEncoder(c)}
	if err := json.Unmarshal(line, &req); err != nil || req.Version != Version {
		w.write(frame{Stderr: fmt.Sprintf("tidings: the server speaks control protocol %d; this request is not one (%v)\n", Version, err)})
		w.exit(2)
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	// The client sends nothing after its request; a read returning means it
	// has gone away, and the command should stop.
	go func() {
		io.Copy(io.Discard, c)
		cancel()
	}()
	s.log.Info("command", "argv", req.Argv)
	out := Streams{
		Stdout:   streamWriter{w, false},
		Stderr:   streamWriter{w, true},
		Progress: func(p Progress) { w.write(frame{Progress: &p}) },
	}
	w.exit(s.run(ctx, req, out))
}

// run calls the handler, turning a panic into a failed command rather than
// a dead server.
func (s *Server) run(ctx context.Context, req Request, out Streams) (code int) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in command", "argv", req.Argv, "panic", r)
			fmt.Fprintf(out.Stderr, "tidings: internal error: %v\n", r)
			code = 1
		}
	}()
	return s.handler(ctx, req, out)
}

// frameWriter serialises frames from a command's writers onto the socket.
type frameWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
}

func (w *frameWriter) write(f frame) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.err = w.enc.Encode(f)
	return w.err
}

func (w *frameWriter) exit(code int) { w.write(frame{Exit: &code}) }

type streamWriter struct {
	w      *frameWriter
	stderr bool
}

func (s streamWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	f := frame{Stdout: string(p)}
	if s.stderr {
		f = frame{Stderr: string(p)}
	}
	if err := s.w.write(f); err != nil {
		return 0, err
	}
	return len(p), nil
}

// interruptGrace is how long a cancelled client waits for the command to
// wind down and report.
const interruptGrace = 5 * time.Second

// Run sends req to the server at path and copies what the command writes to
// out, returning the command's exit code. ErrNoServer means no server
// answered and nothing was run. Cancelling ctx stops the command; Run then
// still returns its exit code if the command ends within a few seconds.
func Run(ctx context.Context, path string, req Request, out Streams) (int, error) {
	req.Version = Version
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOTSOCK) {
			return 0, ErrNoServer
		}
		return 0, fmt.Errorf("control: connect %s: %w", path, err)
	}
	defer c.Close()
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

	data, err := json.Marshal(req)
	if err != nil {
		return 0, fmt.Errorf("control: %w", err)
	}
	if _, err := c.Write(append(data, '\n')); err != nil {
		return 0, fmt.Errorf("control: send request: %w", err)
	}
	dec := json.NewDecoder(bufio.NewReader(c))
	for {
		var f frame
		if err := dec.Decode(&f); err != nil {
			if ctx.Err() != nil {
				return 0, fmt.Errorf("control: interrupted: %w", ctx.Err())
			}
			return 0, fmt.Errorf("control: the server ended the command without an exit code: %w", err)
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
