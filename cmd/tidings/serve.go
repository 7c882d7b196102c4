package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tidings/tidings/config"
	"github.com/tidings/tidings/control"
	"github.com/tidings/tidings/digest"
	"github.com/tidings/tidings/mailin"
	"github.com/tidings/tidings/mailout"
	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/web"
)

// shutdownGrace is how long serve lets SMTP sessions and admin commands in
// flight finish after SIGTERM before cutting them off.
const shutdownGrace = 30 * time.Second

func serveCommand() *command {
	return &command{
		name:     "serve",
		synopsis: "[--config FILE] [--data DIR]",
		summary:  "run the service: SMTP in, threading, storage, digests, the outbox; admin commands reach it through a control socket",
		where:    standalone,
		setup: func(fs *flag.FlagSet) runFunc {
			return func(e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				return serve(e)
			}
		},
	}
}

// tuneGC makes the collector run less often than Go's default unless GOGC
// says otherwise. serve's live heap is small (tens of MiB) and churns fast
// with every message, so the default spends a tenth of the CPU on
// collections that free little; at 400 the SMTP ingest rate rose 15-30 %
// for about 10 MiB more peak memory. Under a flood of large messages,
// though, 400 lets the heap grow to five times what is live: a soft limit
// (unless GOMEMLIMIT is set) of four times the SMTP in-flight budget plus
// a margin makes the collector work harder only then.
func tuneGC(inflight int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(4*inflight + 256<<20)
	}
}

// serve runs until e.ctx ends (SIGTERM, SIGINT), then shuts down gracefully:
// no new connections or commands, sessions in flight finish their message,
// a digest claim or an outbox delivery in flight finishes its transaction,
// and the database is closed last.
func serve(e *env) error {
	cfg := e.cfg
	base := newLogger(cfg.Log, e.stderr, false)
	log := base.With("component", "serve")
	tuneGC(cfg.SMTP.MaxInflightBytes)

	var tlsConf *tls.Config
	if cfg.SMTP.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(e.abs(cfg.SMTP.TLSCert), e.abs(cfg.SMTP.TLSKey))
		if err != nil {
			return fmt.Errorf("serve: smtp tls_cert/tls_key: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	transport, err := outboundTransport(e, base)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// Broken templates are refused before anything starts, not when the
	// first digest falls due.
	renderer, err := newRenderer(cfg)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	st, err := store.Open(cfg.DBPath(), store.Options{Timeout: storeOpenTimeout, Logger: base})
	if errors.Is(err, store.ErrLocked) {
		// Serve does not wait for another holder: it may be an import of
		// hours, or another serve. Say who it is and let the operator
		// (or the service manager, on its next restart) decide.
		info, werr := control.Who(e.ctx, cfg.SocketPath())
		if werr != nil {
			return fmt.Errorf("serve: the database %s is in use by another process (is another tidings serve running?)", cfg.DBPath())
		}
		hint := "; start serve once it has finished"
		if strings.HasPrefix(info.Holder, "tidings serve") {
			hint = ""
		}
		return fmt.Errorf("serve: the database %s is in use by another process: %s (pid %d, running since %s)%s",
			cfg.DBPath(), info.Holder, info.PID, info.Since.Local().Format(time.DateTime), hint)
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	closeStore := func() {
		if err := st.Close(); err != nil {
			log.Error("close database", "error", err)
		}
	}

	links, err := instanceLinks(e.ctx, st, cfg)
	if err != nil {
		closeStore()
		return fmt.Errorf("serve: %w", err)
	}
	deliverer := &mailout.Deliverer{Store: st, Dir: cfg.OutboxDir(), Transport: transport, Lifetime: cfg.Outbound.Lifetime,
		Parallel: cfg.Outbound.MaxConnections, Logger: base}
	popts := pipelineOptions(cfg, base)
	popts.Notifier, popts.Queued = newNotifier(cfg, renderer, base), deliverer.Notify
	pipe := mailin.NewPipeline(st, popts)
	runner := &digest.Runner{Store: st, Renderer: renderer, Links: links, Defaults: digestDefaults(cfg),
		Queue: queueDigest(cfg.Domain), Queued: deliverer.Notify, Logger: base}
	sched := &digest.Scheduler{Store: st, CatchUp: cfg.Digest.CatchUp, Defaults: digestDefaults(cfg),
		Claim: runner.Claim, Logger: base}
	recipients, err := digestMembers(st)
	if err != nil {
		closeStore()
		return fmt.Errorf("serve: %w", err)
	}

	// The control socket is up before SMTP accepts, so that whoever sees the
	// SMTP port answer can also run admin commands.
	h := &controlHandler{cfg: cfg, st: st, pipe: newPipeline(st, cfg, base), log: base.With("component", "admin"), changed: sched.Notify,
		queued: deliverer.Notify}
	ctl, err := control.Listen(cfg.SocketPath(), h.handle, &control.Options{Logger: base, Holder: "tidings serve"})
	if err != nil {
		closeStore()
		return fmt.Errorf("serve: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.SMTP.Listen)
	if err != nil {
		ctl.Shutdown(context.Background())
		closeStore()
		return fmt.Errorf("serve: cannot listen for SMTP on %s: %w", cfg.SMTP.Listen, err)
	}
	webLn, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		ln.Close()
		ctl.Shutdown(context.Background())
		closeStore()
		return fmt.Errorf("serve: cannot listen for HTTP on %s: %w", cfg.HTTP.Listen, err)
	}
	smtpSrv := mailin.NewSMTPServer(pipe, smtpOptions(cfg, tlsConf, base))

	errc := make(chan error, 4)
	go func() {
		if err := ctl.Serve(); err != nil {
			errc <- err
		}
	}()
	go func() {
		if err := smtpSrv.Serve(ln); err != nil {
			errc <- err
		}
	}()
	// The scheduler and the deliverer get a context of their own, ended
	// at shutdown whatever its cause, and are waited for before the
	// store closes.
	bgCtx, stopBg := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Go(func() {
		if err := deliverer.Run(bgCtx); err != nil {
			errc <- err
		}
	})
	bg.Go(func() {
		if err := sched.Run(bgCtx); err != nil {
			errc <- err
		}
	})
	// The Prometheus registry /metrics serves. The IMAP pollers run with
	// the scheduler and stop before the store closes.
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := startIMAP(bgCtx, &bg, e, st, pipe, metrics, base); err != nil {
		errc <- fmt.Errorf("imap: %w", err)
	}
	httpSrv := &http.Server{
		Handler: web.Handler(web.Options{Metrics: metrics, Logger: base,
			Health: func(context.Context) error { return st.View(func(*store.Tx) error { return nil }) }}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(base.With("component", "web").Handler(), slog.LevelWarn),
	}
	go func() {
		if err := httpSrv.Serve(webLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	log.Info("outbound mail", "outbox", cfg.OutboxDir(), "digest_members", recipients,
		"catch_up", cfg.Digest.CatchUp, "templates", cmp.Or(cfg.Digest.Templates, "embedded"))
	log.Info("tidings ready", "smtp", ln.Addr().String(), "http", webLn.Addr().String(), "control", cfg.SocketPath(),
		"data", cfg.DataDir, "domain", cfg.Domain, "starttls", tlsConf != nil)

	var runErr error
	select {
	case <-e.ctx.Done():
		log.Info("shutting down")
	case runErr = <-errc:
		log.Error("server failed, shutting down", "error", runErr)
	}
	// SMTP and the control socket stop together, each with a grace of its
	// own, so that a slow admin command (or an idle connection to the
	// socket) neither delays SMTP's stop nor eats its grace. SMTP stops
	// accepting at once; sessions inside a message finish it. Admin
	// commands are cancelled and stop between batches.
	var wg sync.WaitGroup
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := smtpSrv.Shutdown(ctx); err != nil {
			log.Warn("smtp sessions cut off", "error", err)
		}
	})
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := httpSrv.Shutdown(ctx); err != nil {
			log.Warn("http requests cut off", "error", err)
		}
	})
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := ctl.Shutdown(ctx); err != nil {
			log.Warn("admin commands cut off", "error", err)
		}
	})
	wg.Go(func() {
		// A claim or a delivery in flight finishes its transaction.
		stopBg()
		bg.Wait()
	})
	wg.Wait()
	closeStore()
	log.Info("stopped")
	if runErr != nil {
		return fmt.Errorf("serve: %w", runErr)
	}
	return nil
}

// smtpOptions are the SMTP server's options from the configuration.
func smtpOptions(cfg *config.Config, tlsConf *tls.Config, log *slog.Logger) mailin.SMTPOptions {
	return mailin.SMTPOptions{
		Listen:              cfg.SMTP.Listen,
		Domain:              cfg.Domain,
		TLS:                 tlsConf,
		MaxMessageBytes:     cfg.SMTP.MaxMessageBytes,
		MaxRecipients:       cfg.SMTP.MaxRecipients,
		MaxLineLength:       cfg.SMTP.MaxLineLength,
		ReadTimeout:         cfg.SMTP.ReadTimeout,
		WriteTimeout:        cfg.SMTP.WriteTimeout,
		MaxConnections:      cfg.SMTP.MaxConnections,
		MaxConnectionsPerIP: cfg.SMTP.MaxConnectionsPerIP,
		MaxInflightBytes:    cfg.SMTP.MaxInflightBytes,
		Logger:              log,
	}
}

// digestMembers counts the members who get digests, for the start-up log.
func digestMembers(st *store.Store) (int, error) {
	n := 0
	err := st.View(func(tx *store.Tx) error {
		ms, err := tx.Members()
		for _, m := range ms {
			if digest.GetsDigest(m) {
				n++
			}
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count digest members: %w", err)
	}
	return n, nil
}
