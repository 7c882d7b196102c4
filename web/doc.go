// Package web is tidings' HTTP side. So far it serves what operators need
// beside the mail: /healthz, which answers 200 while the database can be
// read, and /metrics, the Prometheus exposition of the registry it is
// given. The archive, settings and one-click unsubscribe pages come later.
package web
