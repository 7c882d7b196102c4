package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// These benchmarks measure the store's share of ingest: the writes one
// message makes (as mailin's pipeline makes them for a new thread) under the
// three shapes of load that bench/run.sh drives end to end — many SMTP
// sessions sharing group commits, one session waiting for each fsync, and
// import's large batches.

func openBench(b testing.TB) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "tidings.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	err = s.Update(context.Background(), func(tx *Tx) error {
		return tx.AddTeam(Team{Name: "bench", Address: "bench@example.com"})
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func reportRate(b *testing.B) {
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(float64(b.N)/sec, "msgs/s")
	}
}

// benchRaw is a 4 KiB body, as smtp-source -l 4096 sends.
var benchRaw = bytes.Repeat([]byte("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\r\n"), 51)

// addBenchMessage does a new root message's writes: the dedupe lookup, a new
// thread, its node, the message and its raw bytes.
func addBenchMessage(tx *Tx, i int64, now time.Time) error {
	mid := fmt.Sprintf("%d.bench@example.com", i)
	raw := append([]byte("Message-ID: <"+mid+">\r\n\r\n"), benchRaw...)
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:])
	if _, ok, err := tx.Node("bench", mid); err != nil || ok {
		return fmt.Errorf("node %s: %v, %v", mid, ok, err)
	}
	seq, err := tx.ReserveSeq()
	if err != nil {
		return err
	}
	id, err := tx.NewThread(Thread{Team: "bench", Subject: "bench", Created: now, LastAt: now, Count: 1})
	if err != nil {
		return err
	}
	if err := tx.PutNode("bench", Node{MessageID: mid, Thread: id, Seq: seq, Date: now}); err != nil {
		return err
	}
	m := &Message{Seq: seq, Team: "bench", MessageID: mid, From: "a@example.com", Subject: "bench",
		Date: now, Received: now, Kind: KindMessage, Text: string(benchRaw[:1024]), Size: len(raw),
		Hash: hash, Thread: id}
	return tx.AddMessage(m, raw)
}

// BenchmarkIngestSessions20 is many sessions at once: each Update waits for
// its fsync, and the group commit shares one fsync among those that arrive
// together. Run with -cpu or rely on SetParallelism for the session count.
func BenchmarkIngestSessions20(b *testing.B) {
	s := openBench(b)
	var next atomic.Int64
	now := time.Now().UTC()
	b.SetParallelism(10) // × GOMAXPROCS goroutines: about 20 sessions on 2 cores
	b.SetBytes(int64(len(benchRaw)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			if err := s.Update(context.Background(), func(tx *Tx) error { return addBenchMessage(tx, i, now) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b)
}

// BenchmarkIngestSession1 is one session: one transaction and one fsync per
// message, the floor of the 1-session SMTP figure.
func BenchmarkIngestSession1(b *testing.B) {
	s := openBench(b)
	now := time.Now().UTC()
	b.SetBytes(int64(len(benchRaw)))
	b.ResetTimer()
	for i := range int64(b.N) {
		if err := s.Update(context.Background(), func(tx *Tx) error { return addBenchMessage(tx, i, now) }); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// BenchmarkIngestBatch256 is import's shape: 256 messages per transaction.
func BenchmarkIngestBatch256(b *testing.B) {
	s := openBench(b)
	now := time.Now().UTC()
	b.SetBytes(int64(len(benchRaw)))
	b.ResetTimer()
	for i := int64(0); i < int64(b.N); i += 256 {
		first, last := i, min(i+256, int64(b.N))
		err := s.Update(context.Background(), func(tx *Tx) error {
			for j := first; j < last; j++ {
				if err := addBenchMessage(tx, j, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}
