package mailin

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// IMAPMetrics are the IMAP pollers' Prometheus metrics, labelled by mailbox
// (user@host:port/MAILBOX, never a password). One value serves all pollers
// of a process; a nil *IMAPMetrics records nothing.
type IMAPMetrics struct {
	fetched   *prometheus.CounterVec
	stored    *prometheus.CounterVec
	duplicate *prometheus.CounterVec
	refused   *prometheus.CounterVec
	errors    *prometheus.CounterVec
	connected *prometheus.GaugeVec
}

// Error kinds counted by tidings_imap_errors_total.
const (
	imapErrAuth       = "auth"       // login refused, or the password file unreadable
	imapErrMailbox    = "mailbox"    // SELECT refused: no such mailbox, no access
	imapErrConnection = "connection" // dial, TLS, a dropped connection, a protocol error
	imapErrStore      = "store"      // the database failed: retried, the position unchanged
	imapErrTeam       = "team"       // the block's team does not exist: nothing is fetched until it does
	imapErrMark       = "mark"       // the server refused to flag or move stored mail: retried at each connection
	imapErrMessage    = "message"    // one message could not be read (not sent, no body, FETCH NO): retried, then refused
)

// NewIMAPMetrics makes the metrics and registers them on reg.
func NewIMAPMetrics(reg prometheus.Registerer) (*IMAPMetrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tidings", Subsystem: "imap", Name: name, Help: help},
			append([]string{"mailbox"}, labels...))
	}
	m := &IMAPMetrics{
		fetched:   counter("messages_fetched_total", "Messages fetched from the IMAP server."),
		stored:    counter("messages_stored_total", "Fetched messages stored as new."),
		duplicate: counter("messages_duplicate_total", "Fetched messages the store already had."),
		refused:   counter("messages_refused_total", "Fetched messages refused (sender check, unreadable, too large) and left flagged in the mailbox."),
		errors:    counter("errors_total", "Poller errors by kind: auth, mailbox, connection, store, team, mark, message.", "kind"),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "tidings", Subsystem: "imap", Name: "connected",
			Help: "1 while the poller is logged in with its mailbox selected."}, []string{"mailbox"}),
	}
	for _, c := range []prometheus.Collector{m.fetched, m.stored, m.duplicate, m.refused, m.errors, m.connected} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("mailin: register imap metrics: %w", err)
		}
	}
	return m, nil
}

// forMailbox binds the metrics to one mailbox's label, creating its series
// at zero so that they are there before the first event.
func (m *IMAPMetrics) forMailbox(label string) *mailboxMetrics {
	if m == nil {
		return &mailboxMetrics{}
	}
	mm := &mailboxMetrics{
		fetched:   m.fetched.WithLabelValues(label),
		stored:    m.stored.WithLabelValues(label),
		duplicate: m.duplicate.WithLabelValues(label),
		refused:   m.refused.WithLabelValues(label),
		connected: m.connected.WithLabelValues(label),
		errors:    map[string]prometheus.Counter{},
	}
	for _, k := range []string{imapErrAuth, imapErrMailbox, imapErrConnection, imapErrStore, imapErrTeam, imapErrMark, imapErrMessage} {
		mm.errors[k] = m.errors.WithLabelValues(label, k)
	}
	return mm
}

// mailboxMetrics is one poller's share; its zero value records nothing.
type mailboxMetrics struct {
	fetched, stored, duplicate, refused prometheus.Counter
	connected                           prometheus.Gauge
	errors                              map[string]prometheus.Counter
}

func inc(c prometheus.Counter) {
	if c != nil {
		c.Inc()
	}
}

func (mm *mailboxMetrics) error(kind string) { inc(mm.errors[kind]) }

func (mm *mailboxMetrics) setConnected(up bool) {
	if mm.connected == nil {
		return
	}
	if up {
		mm.connected.Set(1)
	} else {
		mm.connected.Set(0)
	}
}
