// Package digest decides when each member's digest falls due and builds what
// it holds.
//
// The schedule (schedule.go) turns a member's zone, start time and working
// days into due instants: the start time on each working day, in the
// member's zone, the same wall-clock time across DST changes. The Scheduler
// (scheduler.go) sleeps until the earliest slot of any member and hands each
// due slot to a ClaimFunc, which claims it, builds and queues the digest and
// advances the member's cursor in one store transaction, so that no crash
// sends a slot twice or skips content.
//
// Build turns the messages stored since a member's cursor into a Digest of
// threads in sections, and Render turns that into the text and HTML parts
// through the templates package.
package digest
