//go:build race

package mailin

// raceEnabled: under the race detector sync.Pool drops a quarter of what
// is put back, so the buffers the standard library pools (io.Discard's,
// which go-message's multipart reader takes on every part) count as
// allocations of their own.
const raceEnabled = true
