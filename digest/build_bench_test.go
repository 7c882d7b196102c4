package digest

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/links"
	"github.com/tidings/tidings/store"
	"github.com/tidings/tidings/templates"
)

// The benchmark's world: benchMembers members in benchTeams teams (each
// member in one team, a third of them in a second), benchMessages new
// messages in benchThreads threads since everyone's cursor, and a few
// earlier messages per thread in its history.
const (
	benchMembers  = 10_000
	benchMessages = 50_000
	benchThreads  = 500
	benchTeams    = 10
	benchHistory  = 4 // earlier messages per thread
)

type benchWorld struct {
	members  []store.Member
	teams    []store.Team
	byTeam   map[string][]store.Team
	messages []store.Message
	threads  map[uint64]store.Thread
	history  map[uint64][]store.Message
	zones    []*time.Location
}

var benchZones = []string{"Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/Sao_Paulo", "Pacific/Chatham", "UTC"}

var benchWords = strings.Fields(`the build is green again after we pinned the image and moved the cache
to the new volume which should keep the arm64 runners from failing about one time in five; please have
a look at the numbers before Friday since the release notes depend on them and we want to tag early`)

func benchText(r *rand.Rand, names []string) string {
	var b strings.Builder
	paras := 1 + r.IntN(3)
	for p := range paras {
		if p > 0 {
			b.WriteString("\n\n")
		}
		n := 15 + r.IntN(45)
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			w := benchWords[r.IntN(len(benchWords))]
			switch r.IntN(40) {
			case 0:
				w = "**" + w + "**"
			case 1:
				w = "`" + w + "`"
			case 2:
				w = "@" + names[r.IntN(len(names))]
			}
			b.WriteString(w)
		}
		b.WriteByte('.')
	}
	if r.IntN(4) == 0 {
		b.WriteString("\n\nOn Mon, 30 Nov 2026 at 10:00, Someone <someone@example.com> wrote:\n> quoted line one\n> quoted line two\n")
	}
	return b.String()
}

func newBenchWorld() *benchWorld {
	r := rand.New(rand.NewPCG(1, 2))
	w := &benchWorld{threads: make(map[uint64]store.Thread), history: make(map[uint64][]store.Message), byTeam: make(map[string][]store.Team)}
	for _, z := range benchZones {
		w.zones = append(w.zones, mustZone(z))
	}
	for i := range benchTeams {
		w.teams = append(w.teams, store.Team{Name: fmt.Sprintf("team%d", i), Address: fmt.Sprintf("team%d@example.com", i)})
	}
	teamMembers := make([][]int, benchTeams)
	handles := make([]string, benchMembers)
	for i := range benchMembers {
		m := store.Member{
			Address: fmt.Sprintf("m%05d@example.com", i),
			Name:    fmt.Sprintf("Member %05d", i),
			Zone:    benchZones[i%len(benchZones)],
			Start:   "09:00", Days: "mon-fri",
			Teams: map[string]string{},
		}
		handles[i] = fmt.Sprintf("m%05d", i)
		t1 := i % benchTeams
		m.Teams[w.teams[t1].Name] = store.ModeDigest
		teamMembers[t1] = append(teamMembers[t1], i)
		if i%3 == 0 {
			t2 := (t1 + 1 + i%(benchTeams-1)) % benchTeams
			m.Teams[w.teams[t2].Name] = store.ModeDigest
			teamMembers[t2] = append(teamMembers[t2], i)
		}
		if i%10 == 0 {
			m.Muted = []uint64{uint64(1 + i%benchThreads)}
		}
		w.members = append(w.members, m)
	}
	for _, m := range w.members {
		for _, tm := range w.teams {
			if _, ok := m.Teams[tm.Name]; ok {
				w.byTeam[m.Address] = append(w.byTeam[m.Address], tm)
			}
		}
	}
	start := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	seq := uint64(0)
	msg := func(thread uint64, at time.Time) store.Message {
		th := w.threads[thread]
		ti := int(thread-1) % benchTeams
		author := teamMembers[ti][r.IntN(len(teamMembers[ti]))]
		seq++
		m := store.Message{
			Seq: seq, Team: th.Team, Thread: thread, MessageID: fmt.Sprintf("b%d@example.com", seq),
			From: w.members[author].Address, FromName: w.members[author].Name, To: []string{th.Team + "@example.com"},
			Subject: th.Subject, Date: at, Received: at, Kind: store.KindMessage,
		}
		switch k := r.IntN(100); {
		case k < 10:
			m.Kind, m.Text = store.KindReaction, []string{"👍", "+1", "🎉", "thanks"}[r.IntN(4)]
		default:
			m.Text = benchText(r, handles[:200])
			if k < 15 {
				m.To = append(m.To, w.members[teamMembers[ti][r.IntN(len(teamMembers[ti]))]].Address)
			}
			if k == 99 {
				m.Urgent = true
			}
			if k >= 95 {
				m.Attachments = []store.Attachment{{Name: fmt.Sprintf("report-%d.pdf", seq), Type: "application/pdf", Size: int64(r.IntN(5 << 20))}}
			}
		}
		return m
	}
	for id := uint64(1); id <= benchThreads; id++ {
		tm := w.teams[int(id-1)%benchTeams]
		w.threads[id] = store.Thread{ID: id, Team: tm.Name, Subject: fmt.Sprintf("Thread %d: %s", id, strings.Join(benchWords[id%20:id%20+5], " ")),
			Count: benchHistory + benchMessages/benchThreads}
		for h := range benchHistory {
			w.history[id] = append(w.history[id], msg(id, start.Add(-time.Duration(benchHistory-h)*time.Hour)))
		}
	}
	for i := range benchMessages {
		at := start.Add(time.Duration(i) * 24 * time.Hour / benchMessages)
		w.messages = append(w.messages, msg(uint64(1+r.IntN(benchThreads)), at))
	}
	return w
}

func (w *benchWorld) historyOf(id uint64) []store.Message { return w.history[id] }

// BenchmarkBuildRender builds and renders the digests of 10,000 members over
// 50,000 new messages in 500 threads: one Prepare, then Build and Render
// per member, one member after another. It reports the time for all of
// them (ns/op), members per second, the average size of a digest (text
// and HTML), the largest HTML part (Gmail clips a mail over 102 KB) and the
// process's peak resident memory (VmHWM, Linux), which includes the
// generated messages themselves: run it alone in its process for that
// figure to mean anything.
func BenchmarkBuildRender(b *testing.B) {
	w := newBenchWorld()
	r, err := templates.New("")
	if err != nil {
		b.Fatal(err)
	}
	signer := links.Signer{Secret: fixSec, Domain: "example.com", BaseURL: "https://tidings.example.com"}
	days := weekdays
	due := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	var bytes, sent, maxHTML int
	for range b.N {
		bytes, sent = 0, 0
		p := Prepare(w.messages, w.threads, w.historyOf)
		for i, m := range w.members {
			loc := w.zones[i%len(w.zones)]
			d, ok := p.Build(Input{Member: m, Teams: w.byTeam[m.Address], Due: due.In(loc), Loc: loc, Days: days, Links: signer})
			if !ok {
				continue
			}
			text, html, err := Render(d, r)
			if err != nil {
				b.Fatal(err)
			}
			bytes += len(text) + len(html)
			maxHTML = max(maxHTML, len(html))
			sent++
		}
	}
	b.StopTimer()
	if sent == 0 {
		b.Fatal("no digest built")
	}
	b.ReportMetric(float64(benchMembers)/(b.Elapsed().Seconds()/float64(b.N)), "members/s")
	b.ReportMetric(float64(bytes)/float64(sent)/1024, "KiB/digest")
	b.ReportMetric(float64(maxHTML)/1024, "max-HTML-KiB")
	if hwm := peakRSS(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MiB")
	}
}

// BenchmarkBuildRenderParallel is BenchmarkBuildRender with the members
// shared out over GOMAXPROCS goroutines, as a Prepared allows.
func BenchmarkBuildRenderParallel(b *testing.B) {
	w := newBenchWorld()
	r, err := templates.New("")
	if err != nil {
		b.Fatal(err)
	}
	signer := links.Signer{Secret: fixSec, Domain: "example.com", BaseURL: "https://tidings.example.com"}
	due := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	workers := runtime.GOMAXPROCS(0)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p := Prepare(w.messages, w.threads, w.historyOf)
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for k := range workers {
			wg.Go(func() {
				for i := k; i < len(w.members); i += workers {
					m := w.members[i]
					loc := w.zones[i%len(w.zones)]
					d, ok := p.Build(Input{Member: m, Teams: w.byTeam[m.Address], Due: due.In(loc), Loc: loc, Days: weekdays, Links: signer})
					if !ok {
						continue
					}
					if _, _, err := Render(d, r); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(benchMembers)/(b.Elapsed().Seconds()/float64(b.N)), "members/s")
	if hwm := peakRSS(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MiB")
	}
}

// peakRSS is the process's peak resident set in bytes, 0 where /proc is
// not there.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
