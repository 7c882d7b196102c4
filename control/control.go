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
	"time"
)

// Version is the protocol version a client sends; a server refuses others
// rather than misreading them.
const Version = 1

// maxRequest bounds a request line (an import may name many files).
const maxRequest = 16 << 20

// requestTimeout bounds the wait for a request line. A client sends it the
// moment it connects; a connection that stays silent (say, `nc -U`) is not
// a client and must not hold the server open.
const requestTimeout = 10 * time.Second

// ErrNoServer means nothing was run: no server answers on the socket (it
// does not exist, or it is left over from a server that is gone), or the
// server closed the connection before starting the command because it is
// stopping. The caller may try again, or open the database itself.
var ErrNoServer = errors.New("control: no server is running")

// Request is one command for the server to run.
type Request struct {
	Version int      `json:"v"`
	Argv    []string `json:"argv"`          // the command line without the program name
	Cwd     string   `json:"cwd"`           // the client's working directory, for relative paths
	Who     bool     `json:"who,omitempty"` // asks for the server's Info instead of running Argv
}

// Info is what a server says about itself: which process holds the socket
// (and with it the database) and since when.
type Info struct {
	PID    int       `json:"pid"`
	Holder string    `json:"holder"` // e.g. "tidings serve" or "tidings import --mbox big.mbox"
	Since  time.Time `json:"since"`
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
	// Started is the server's first frame for a command it is about to
	// run: a connection that ends before any frame ran nothing.
	Started  bool      `json:"started,omitempty"`
	Who      *Info     `json:"who,omitempty"`
	Stdout   string    `json:"stdout,omitempty"`
	Stderr   string    `json:"stderr,omitempty"`
	Progress *Progress `json:"progress,omitempty"`
	Exit     *int      `json:"exit,omitempty"`
}

// Handler runs one request and returns its exit code. ctx ends when the
// client goes away or the server shuts down.
type Handler func(ctx context.Context, req Request, out Streams) int

// Options configure Listen. A nil *Options is the zero value: no logging,
// an empty Holder.
type Options struct {
	// Logger receives a line per command; nil discards.
	Logger *slog.Logger
	// Holder names this process to a client that asks (Who), e.g.
	// "tidings serve".
	Holder string
}

// Server answers requests on a unix socket.
type Server struct {
	path    string
	ln      net.Listener
	handler Handler
	log     *slog.Logger
	info    Info
	// allowed says whether a peer with this uid may use the socket.
	allowed func(uid uint32) bool
	// requestTimeout is requestTimeout; tests shorten it.
	requestTimeout time.Duration

	ctx    context.Context // cancelled by Shutdown: running commands stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]bool // open connections; true once a command runs on it
	closing  bool              // no new connections or commands
	draining bool              // close the listener when the last connection ends
	idle     chan struct{}     // closed once draining and no connection is open
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Info is what the server answers to Who.
func (s *Server) Info() Info { return s.info }

// Serve accepts connections until Shutdown, or until Drain finds the server
// idle. It returns nil then.
func (s *Server) Serve() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			stopped := s.closing
			s.mu.Unlock()
			if stopped {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("control: accept: %w", err)
		}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = false
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer s.forget(c)
			s.serveConn(c)
		}()
	}
}

// forget closes c and, when the server is draining and c was its last
// connection, stops the server.
func (s *Server) forget(c net.Conn) {
	c.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.draining && len(s.conns) == 0 {
		s.stopLocked()
	}
}

// stopLocked stops accepting: the listener is closed and the socket file
// removed, so that a client finds no server rather than a dead one. s.mu
// is held.
func (s *Server) stopLocked() {
	if s.closing {
		return
	}
	s.closing = true
	s.ln.Close()
	os.Remove(s.path)
	close(s.idle)
}

// Shutdown stops accepting, closes the connections that have not sent a
// request yet, cancels the commands that are running and waits for them to
// return, or for ctx to end. The socket file is removed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopLocked()
	for c, busy := range s.conns {
		if !busy {
			c.Close() // its serveConn returns at once and runs nothing
		}
	}
	s.mu.Unlock()
	s.cancel()
	finished := make(chan struct{})
	go func() { s.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("control: commands still running: %w", ctx.Err())
	}
}

// Drain stops the server once no connection is open, and returns then.
// Until that moment it goes on accepting and running commands, without
// cancelling any: a client that arrives while another's command runs is
// served rather than finding the database held by a process that will not
// answer. If ctx ends first Drain returns its error and the server runs on;
// call Shutdown to stop it.
func (s *Server) Drain(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	if len(s.conns) == 0 {
		s.stopLocked()
	}
	s.mu.Unlock()
	select {
	case <-s.idle:
		s.wg.Wait()
		return nil
	case <-ctx.Done():
		return fmt.Errorf("control: commands still running: %w", ctx.Err())
	}
}

// Running is how many connections are open: commands running and clients
// about to send one.
func (s *Server) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) serveConn(c net.Conn) {
	w := &frameWriter{enc: json.NewEncoder(c)}
	uid, pid, err := peerCred(c)
	switch {
	case errors.Is(err, errNoPeerCred):
		// The socket's mode is the only guard on this system.
	case err != nil:
		s.log.Warn("refused a connection: no peer credentials", "error", err)
		return
	case !s.allowed(uid):
		s.log.Warn("refused a connection from another user", "uid", uid, "pid", pid)
		w.write(frame{Stderr: fmt.Sprintf("tidings: the control socket %s is not for uid %d\n", s.path, uid)})
		w.exit(1)
		return
	}

	c.SetReadDeadline(time.Now().Add(s.requestTimeout))
	br := bufio.NewReader(io.LimitReader(c, maxRequest))
	line, err := br.ReadBytes('\n')
	if err != nil {
		s.mu.Lock()
		stopping := s.closing
		s.mu.Unlock()
		if !stopping {
			s.log.Warn("bad request", "error", err)
		}
		return
	}
	c.SetReadDeadline(time.Time{})
	var req Request
	if err := json.Unmarshal(line, &req); err != nil || req.Version != Version {
		w.write(frame{Stderr: fmt.Sprintf("tidings: the server speaks control protocol %d; this request is not one (%v)\n", Version, err)})
		w.exit(2)
		return
	}
	if req.Who {
		info := s.info
		w.write(frame{Who: &info})
		w.exit(0)
		return
	}
	s.mu.Lock()
	if s.closing {
		// Shutting down: run nothing, so that the client knows it may
		// run the command elsewhere.
		s.mu.Unlock()
		return
	}
	s.conns[c] = true
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	// The client sends nothing after its request; a read returning means it
	// has gone away, and the command should stop.
	go func() {
		io.Copy(io.Discard, c)
		cancel()
	}()
	start := time.Now()
	s.log.Info("command", "argv", req.Argv, "pid", pid)
	if w.write(frame{Started: true}) != nil {
		return
	}
	out := Streams{
		Stdout:   streamWriter{w, false},
		Stderr:   streamWriter{w, true},
		Progress: func(p Progress) { w.write(frame{Progress: &p}) },
	}
	code := s.run(ctx, req, out)
	s.log.Debug("command done", "argv", req.Argv, "exit", code, "duration", time.Since(start).Round(time.Millisecond))
	w.exit(code)
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
