package mailin

import (
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings/tidings/store"
)

// TestParseLimits: hostile structure is cut at the limits, and what was
// read before is kept. (Memory is checked in TestParseLimitsMemory.)
func TestParseLimits(t *testing.T) {
	t.Parallel()
	for _, tt := range limitCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(tt.raw, tt.lim)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, p)
			tt.check(t, p)
		})
	}
}

type limitCase struct {
	name    string
	raw     []byte
	lim     Limits
	wantErr error
	check   func(t *testing.T, p *Parsed)
}

// deepMultipart nests n multipart/mixed levels, each with a text part
// "level i" before the next level.
func deepMultipart(n int) []byte {
	var sb strings.Builder
	sb.WriteString("From: a@example.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 0; i < n; i++ {
		b := "b" + strconv.Itoa(i)
		sb.WriteString("--" + b + "\r\nContent-Type: text/plain\r\n\r\nlevel " + strconv.Itoa(i) + "\r\n--" + b +
			"\r\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i+1) + "\r\n\r\n")
	}
	for i := n; i >= 0; i-- {
		sb.WriteString("--b" + strconv.Itoa(i) + "--\r\n")
	}
	return []byte(sb.String())
}

func limitCases() []limitCase {
	manyParts := func(n int) []byte {
		var sb strings.Builder
		sb.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\n\r\nfirst\r\n")
		for i := 0; i < n; i++ {
			sb.WriteString("--p\r\n\r\n\r\n")
		}
		sb.WriteString("--p--\r\n")
		return []byte(sb.String())
	}
	hugeHeader := func() []byte {
		line := "X-Junk: " + strings.Repeat("x", 990) + "\r\n"
		return []byte("From: a@example.com\r\n" + strings.Repeat(line, 20<<20/len(line)) + "\r\nbody\r\n")
	}
	deepRFC822 := func(n int) []byte {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			sb.WriteString("From: a@example.com\r\nSubject: s" + strconv.Itoa(i) + "\r\nContent-Type: message/rfc822\r\n\r\n")
		}
		sb.WriteString("From: a@example.com\r\n\r\ninnermost\r\n")
		return []byte(sb.String())
	}
	return []limitCase{
		{
			name: "5000 levels of multipart",
			raw:  deepMultipart(5000),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Truncated", p.Truncated, true)
				wantContains(t, "Problems", strings.Join(p.Problems, "|"), "truncated: MIME nesting deeper than 20")
				wantContains(t, "Text", p.Text, "level 0\n\nlevel 1\n", "level 19")
				if strings.Contains(p.Text, "level 20") {
					t.Error("text beyond the depth limit was read")
				}
			},
		},
		{
			name: "depth limit of 3",
			raw:  deepMultipart(10),
			lim:  Limits{MaxDepth: 3},
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "level 0\n\nlevel 1\n\nlevel 2")
				wantEqual(t, "Truncated", p.Truncated, true)
			},
		},
		{
			name: "within the depth limit",
			raw:  deepMultipart(5),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "level 0\n\nlevel 1\n\nlevel 2\n\nlevel 3\n\nlevel 4")
				wantEqual(t, "Truncated", p.Truncated, false)
			},
		},
		{
			name: "2000 levels of message/rfc822",
			raw:  deepRFC822(2000),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Truncated", p.Truncated, true)
				depth := 0
				for q := p; len(q.Embedded) > 0; q = q.Embedded[0] {
					depth++
				}
				wantEqual(t, "embedded depth", depth, 20)
			},
		},
		{
			name: "100000 empty parts",
			raw:  manyParts(100000),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "first")
				wantEqual(t, "Truncated", p.Truncated, true)
				wantContains(t, "Problems", strings.Join(p.Problems, "|"), "truncated: more than 500 MIME parts")
			},
		},
		{
			name: "part limit of 10",
			raw:  manyParts(100),
			lim:  Limits{MaxParts: 10},
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Truncated", p.Truncated, true)
			},
		},
		{
			name: "499 parts are fine",
			raw:  manyParts(498), // with the root and "first": 500
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Truncated", p.Truncated, false)
			},
		},
		{
			// Fields that would take quadratic time to read if dedupe,
			// atoms or encoded-word searches were naive (about 60 KB each).
			name: "hostile fields",
			raw: []byte("From: a@example.com\r\nReferences: " + strings.Repeat("<a@b> <c@d> ", 5000) +
				"\r\nIn-Reply-To: " + strings.Repeat("<"+strings.Repeat("x", 10)+"@y>", 3000) + strings.Repeat("<z@y>", 1) +
				"\r\nTo: b@example.com" + strings.Repeat(":a@b", 14000) +
				"\r\nSubject: " + strings.Repeat("=?utf-8?q?", 6000) + "\r\n\r\nbody\r\n"),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "References", p.References, []string{"a@b", "c@d"})
				wantEqual(t, "InReplyTo", p.InReplyTo, []string{"xxxxxxxxxx@y", "z@y"})
				wantEqual(t, "Text", p.Text, "body")
				if len(p.To) != 1 || !strings.HasPrefix(p.To[0].Addr, "b@example.com:a@b:") {
					t.Errorf("To: %d addresses, want one long one", len(p.To))
				}
				wantEqual(t, "Subject", p.Subject, strings.Repeat("=?utf-8?q?", 6000))
			},
		},
		{
			name:    "20 MB header",
			raw:     hugeHeader(),
			wantErr: ErrHeaderTooLarge,
		},
		{
			name:    "20 MB single header line",
			raw:     []byte("From: a@example.com\r\nSubject: " + strings.Repeat("a", 20<<20) + "\r\n\r\nbody\r\n"),
			wantErr: ErrHeaderTooLarge,
		},
		{
			name:    "header over a small limit",
			raw:     []byte("From: a@example.com\r\nSubject: " + strings.Repeat("a", 200) + "\r\n\r\nbody\r\n"),
			lim:     Limits{MaxHeaderBytes: 100},
			wantErr: ErrHeaderTooLarge,
		},
		{
			name: "20 MB part header",
			raw: []byte("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\n\r\nkept\r\n--p\r\n" +
				"X-Junk: " + strings.Repeat("x", 20<<20) + "\r\n\r\nlost\r\n--p--\r\n"),
			check: func(t *testing.T, p *Parsed) {
				wantEqual(t, "Text", p.Text, "kept")
				wantEqual(t, "Truncated", p.Truncated, true)
				wantContains(t, "Problems", strings.Join(p.Problems, "|"), "MIME part header too large")
			},
		},
	}
}

func TestParseTruncatedAttachments(t *testing.T) {
	t.Parallel()
	// A cut part is not a reason to lose the attachments before it.
	raw := "From: a@example.com\nContent-Type: multipart/mixed; boundary=p\n\n--p\n\ntext\n" +
		"--p\nContent-Type: application/pdf; name=a.pdf\n\nPDF\n" + strings.Repeat("--p\n\n\n", 600) + "--p--\n"
	p, err := Parse([]byte(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "Attachments", p.Attachments, []store.Attachment{{Name: "a.pdf", Type: "application/pdf", Size: 3}})
	wantEqual(t, "Truncated", p.Truncated, true)
}

func TestParseProblemsBounded(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	sb.WriteString("From: a@example.com\nContent-Type: multipart/mixed; boundary=p\n\n")
	for i := 0; i < 200; i++ {
		sb.WriteString("--p\nContent-Type: text/plain; charset=x-unknown-" + strconv.Itoa(i) + "\n\nx\n")
	}
	sb.WriteString("--p--\n")
	p, err := Parse([]byte(sb.String()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Problems) != maxProblems {
		t.Fatalf("%d problems, want them capped at %d", len(p.Problems), maxProblems)
	}
	if !slices.Contains(p.Problems, `unknown charset "x-unknown-0"`) {
		t.Fatalf("first problem missing: %q", p.Problems)
	}
}

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
