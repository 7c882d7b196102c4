package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure Handler. The zero value serves /healthz as always
// healthy and no /metrics.
type Options struct {
	// Metrics is gathered for /metrics; nil leaves /metrics out.
	Metrics prometheus.Gatherer
	// Health reports whether the service can do its work (the database
	// answers); nil means always.
	Health func(ctx context.Context) error
	Logger *slog.Logger
}

// healthTimeout bounds one health check: a database stuck behind a long
// write answers "unhealthy" rather than hanging the prober.
const healthTimeout = 5 * time.Second

// Handler returns the HTTP handler. It never blocks beyond one health
// check.
func Handler(o Options) http.Handler {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "web")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if o.Health != nil {
			ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
			defer cancel()
			if err := o.Health(ctx); err != nil {
				log.Warn("health check failed", "error", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, "unhealthy")
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
	if o.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics, promhttp.HandlerOpts{ErrorLog: slogPrinter{log}}))
	}
	return mux
}

// slogPrinter lets promhttp report errors through slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Error("metrics", "error", fmt.Sprint(v...)) }
