package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/control"
)

// progressBar draws a one-line progress bar on a terminal, at most ten times
// a second. On anything else it draws nothing: logs and pipes get only the
// summary.
type progressBar struct {
	w     io.Writer
	on    bool
	mu    sync.Mutex
	last  time.Time
	cur   control.Progress
	shown bool
}

func newProgressBar(w io.Writer, terminal bool) *progressBar {
	return &progressBar{w: w, on: terminal}
}

func (b *progressBar) update(p control.Progress) {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cur = p
	if now := time.Now(); now.Sub(b.last) >= 100*time.Millisecond {
		b.last = now
		b.draw()
	}
}

// finish draws the last state and ends the line.
func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.on && b.shown {
		b.draw()
		fmt.Fprintln(b.w)
		b.shown = false
	}
}

// wrap returns w such that writing to it first ends the bar's line, so
// that output never lands on the bar or gets drawn over.
func (b *progressBar) wrap(w io.Writer) io.Writer {
	if !b.on {
		return w
	}
	return barBreaker{b, w}
}

type barBreaker struct {
	b *progressBar
	w io.Writer
}

func (bb barBreaker) Write(p []byte) (int, error) {
	bb.b.mu.Lock()
	if bb.b.shown {
		bb.b.draw() // the latest state, which throttling may have held back
		fmt.Fprintln(bb.b.w)
		bb.b.shown = false
	}
	bb.b.mu.Unlock()
	return bb.w.Write(p)
}

func (b *progressBar) draw() {
	io.WriteString(b.w, "\r"+renderProgress(b.cur, 30)+"\x1b[K")
	b.shown = true
}

// renderProgress formats p as "importing  42% [#####     ] 1234 messages".
func renderProgress(p control.Progress, width int) string {
	var sb strings.Builder
	sb.WriteString(p.Label)
	if p.Total > 0 {
		done := min(max(p.Done, 0), p.Total)
		filled := int(int64(width) * done / p.Total)
		fmt.Fprintf(&sb, " %3d%% [%s%s]", 100*done/p.Total, strings.Repeat("#", filled), strings.Repeat(" ", width-filled))
	}
	if p.Unit != "" {
		fmt.Fprintf(&sb, " %d %s", p.Items, p.Unit)
	}
	return sb.String()
}
