package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "tidings_test_total", Help: "A test counter."})
	reg.MustRegister(c)
	c.Add(3)
	var sick error
	srv := httptest.NewServer(Handler(Options{Metrics: reg, Health: func(context.Context) error { return sick }}))
	defer srv.Close()

	if code, body := get(t, srv, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	sick = errors.New("database closed")
	if code, _ := get(t, srv, "/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz while sick = %d, want 503", code)
	}
	if code, body := get(t, srv, "/metrics"); code != 200 || !strings.Contains(body, "tidings_test_total 3") {
		t.Errorf("/metrics = %d:\n%s", code, body)
	}
	if code, _ := get(t, srv, "/nothing"); code != 404 {
		t.Errorf("/nothing = %d, want 404", code)
	}
	resp, err := http.Post(srv.URL+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", resp.StatusCode)
	}
}

func TestNoMetricsWithoutRegistry(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Handler(Options{}))
	defer srv.Close()
	if code, _ := get(t, srv, "/metrics"); code != 404 {
		t.Errorf("/metrics without a registry = %d, want 404", code)
	}
}
