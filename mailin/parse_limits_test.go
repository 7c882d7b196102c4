package mailin

import (
	"runtime"
	"testing"
)

// TestParseLimitsMemory checks that hostile structure costs bounded memory:
// go-message took 105 MB for 4,000 nested levels and 142 MB for 200,000
// empty parts. It measures the bytes allocated by Parse alone, so it is
// not parallel: parallel tests only start once the sequential ones are
// done, and nothing else of this package allocates meanwhile. (Time is not
// asserted; bounded allocation is the proxy for bounded work.)
func TestParseLimitsMemory(t *testing.T) {
	budget := uint64(1 << 20)
	if raceEnabled {
		budget *= 4 // pooled buffers are allocated anew: see raceEnabled
	}
	for _, tt := range limitCases() {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			p, err := Parse(raw, tt.lim)
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes in, %d bytes allocated", len(raw), allocated)
			if allocated > budget {
				t.Errorf("Parse allocated %d bytes for a %d byte message, want at most %d", allocated, len(raw), budget)
			}
			if tt.wantErr == nil && err == nil {
				tt.check(t, p)
			}
		})
	}
}
