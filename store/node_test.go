package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestPutNodeIndex checks that a thread's membership index follows its nodes
// through rewrites, unchanged ones included (which PutNode skips).
func TestPutNodeIndex(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	date := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		name string
		put  Node
		want map[uint64][]string // thread -> message ids indexed in it
	}{
		{"placeholder", Node{MessageID: "a", Thread: 1}, map[uint64][]string{1: {"a"}}},
		{"unchanged", Node{MessageID: "a", Thread: 1}, map[uint64][]string{1: {"a"}}},
		{"seen", Node{MessageID: "a", Thread: 1, Seq: 7, Date: date}, map[uint64][]string{1: {"a"}}},
		{"child", Node{MessageID: "b", Parent: "a", Thread: 1, Seq: 8, Date: date}, map[uint64][]string{1: {"a", "b"}}},
		{"moved", Node{MessageID: "a", Thread: 2, Seq: 7, Date: date}, map[uint64][]string{1: {"b"}, 2: {"a"}}},
		{"moved again unchanged", Node{MessageID: "a", Thread: 2, Seq: 7, Date: date}, map[uint64][]string{1: {"b"}, 2: {"a"}}},
		{"unthreaded", Node{MessageID: "b", Parent: "a", Seq: 8, Date: date}, map[uint64][]string{1: nil, 2: {"a"}}},
	}
	for _, st := range steps {
		err := s.Update(context.Background(), func(tx *Tx) error { return tx.PutNode("eng", st.put) })
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		err = s.View(func(tx *Tx) error {
			n, ok, err := tx.Node("eng", st.put.MessageID)
			if err != nil || !ok || n.Thread != st.put.Thread || n.Parent != st.put.Parent || n.Seq != st.put.Seq {
				t.Errorf("%s: Node = %+v, %v, %v; want %+v", st.name, n, ok, err, st.put)
			}
			for thread, want := range st.want {
				nodes, err := tx.ThreadNodes("eng", thread)
				if err != nil {
					return err
				}
				var got []string
				for _, n := range nodes {
					got = append(got, n.MessageID)
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s: thread %d holds %q, want %q", st.name, thread, got, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
}
