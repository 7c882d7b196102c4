package mailin

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tidings/tidings/store"
)

// The notmuch corpus is GPL-licensed, so it stays in ../shared and is read
// from there; without it these tests skip.
const notmuchDir = "../../shared/corpus/notmuch__notmuch"

type notmuchMsg struct {
	ID     string  `json:"id"`
	Parent *string `json:"parent"`
}

type notmuchExpect struct {
	Default struct {
		CorpusDir   string `json:"corpus_dir"`
		ThreadCount int    `json:"thread_count"`
		Threads     []struct {
			Messages []notmuchMsg `json:"messages"`
		} `json:"threads"`
	} `json:"default"`
	Threading struct {
		CorpusDir string `json:"corpus_dir"`
		Trees     []struct {
			Test     string       `json:"test"`
			Messages []notmuchMsg `json:"messages"`
		} `json:"trees"`
	} `json:"threading"`
	Duplicate struct {
		Summary struct {
			Files            int `json:"files"`
			UniqueMessageIDs int `json:"unique_message_ids"`
		} `json:"summary"`
	} `json:"duplicate"`
}

func loadNotmuch(t *testing.T) notmuchExpect {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(notmuchDir, "expected_threads.json"))
	if os.IsNotExist(err) && os.Getenv("CI") == "true" {
		t.Fatalf("notmuch corpus not found at %s: CI runs with ../shared beside the repository", notmuchDir)
	}
	if os.IsNotExist(err) {
		t.Skipf("notmuch corpus not found at %s (it lives in ../shared, outside the repository)", notmuchDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	var e notmuchExpect
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// importDir delivers every file below dir through the import path.
func importDir(t *testing.T, p *Pipeline, dir string) int {
	t.Helper()
	var ds []Delivery
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		ds = append(ds, Delivery{Teams: []string{"eng"}, Raw: raw, SkipSenderCheck: true})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, errs := p.DeliverBatch(context.Background(), ds)
	for i, err := range errs {
		if err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	return len(ds)
}

// shownTree is a thread as notmuch shows it: messages in tree order, each
// with its nearest stored ancestor (placeholders are not shown).
type shownTree struct {
	ids     []string
	parents map[string]string
}

func shownThreads(t *testing.T, st *store.Store) map[string]*shownTree {
	t.Helper()
	byMember := map[string]*shownTree{}
	err := st.View(func(tx *store.Tx) error {
		ths, err := tx.Threads("eng")
		if err != nil {
			return err
		}
		for _, th := range ths {
			ms, err := tx.ThreadMessages(th.ID)
			if err != nil {
				return err
			}
			tree := &shownTree{parents: map[string]string{}}
			for _, m := range ms {
				tree.ids = append(tree.ids, m.MessageID)
				byMember[m.MessageID] = tree
				// Walk up through placeholders to the nearest stored message.
				parent, seen := m.Parent, map[string]bool{}
				for parent != "" && !seen[parent] {
					seen[parent] = true
					n, ok, err := tx.Node("eng", parent)
					if err != nil {
						return err
					}
					if !ok || n.Seq != 0 {
						break
					}
					parent = n.Parent
				}
				tree.parents[m.MessageID] = parent
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return byMember
}

// compareTree reports whether our thread holding want's first message has
// exactly want's messages, in want's order, with want's parents.
func compareTree(t *testing.T, got map[string]*shownTree, want []notmuchMsg) bool {
	t.Helper()
	tree := got[want[0].ID]
	if tree == nil {
		t.Errorf("message %s not in any thread", want[0].ID)
		return false
	}
	var wantIDs []string
	for _, m := range want {
		wantIDs = append(wantIDs, m.ID)
	}
	ok := true
	if !slices.Equal(tree.ids, wantIDs) {
		t.Errorf("thread of %s:\n got  %q\n want %q", want[0].ID, tree.ids, wantIDs)
		ok = false
	}
	for _, m := range want {
		wp := ""
		if m.Parent != nil {
			wp = *m.Parent
		}
		if gp := tree.parents[m.ID]; gp != wp {
			t.Errorf("parent of %s = %q, want %q", m.ID, gp, wp)
			ok = false
		}
	}
	return ok
}

func TestNotmuchDefaultCorpus(t *testing.T) {
	e := loadNotmuch(t)
	p, st := threadTestPipeline(t)
	importDir(t, p, filepath.Join(notmuchDir, e.Default.CorpusDir))
	got := shownThreads(t, st)
	var ths []store.Thread
	st.View(func(tx *store.Tx) error { ths, _ = tx.Threads("eng"); return nil })
	if len(ths) != e.Default.ThreadCount {
		t.Errorf("%d threads, want %d", len(ths), e.Default.ThreadCount)
	}
	agree := 0
	for _, th := range e.Default.Threads {
		if compareTree(t, got, th.Messages) {
			agree++
		}
	}
	t.Logf("notmuch default corpus: %d of %d threads agree exactly (membership, order, parents); %d threads in all",
		agree, len(e.Default.Threads), len(ths))
}

func TestNotmuchThreadingCorpus(t *testing.T) {
	e := loadNotmuch(t)
	for _, sub := range []string{"ghost-root", "parent-priority"} {
		t.Run(sub, func(t *testing.T) {
			p, st := threadTestPipeline(t)
			importDir(t, p, filepath.Join(notmuchDir, e.Threading.CorpusDir, sub))
			got := shownThreads(t, st)
			compared := 0
			for _, tree := range e.Threading.Trees {
				if _, ok := got[tree.Messages[0].ID]; ok {
					compared++
					compareTree(t, got, tree.Messages)
				}
			}
			if compared == 0 {
				t.Errorf("no expected tree matched the %s import", sub)
			}
		})
	}
}

func TestNotmuchBrokenAndDuplicates(t *testing.T) {
	e := loadNotmuch(t)
	t.Run("loop", func(t *testing.T) {
		p, st := threadTestPipeline(t)
		importDir(t, p, filepath.Join(notmuchDir, "test/corpora/broken/loop"))
		got := shownThreads(t, st)
		tree := got["mid-loop-12@example.org"]
		if tree == nil || !slices.Equal(tree.ids, []string{"mid-loop-12@example.org", "mid-loop-21@example.org"}) {
			t.Errorf("loop thread = %+v, want both messages, oldest first", tree)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		p, st := threadTestPipeline(t)
		n := importDir(t, p, filepath.Join(notmuchDir, "test/corpora/duplicate"))
		if n != e.Duplicate.Summary.Files {
			t.Fatalf("read %d files, want %d", n, e.Duplicate.Summary.Files)
		}
		var stored int
		st.View(func(tx *store.Tx) error {
			return tx.MessagesSince(0, func(store.Message) bool { stored++; return true })
		})
		if stored != e.Duplicate.Summary.UniqueMessageIDs {
			t.Errorf("stored %d messages, want %d", stored, e.Duplicate.Summary.UniqueMessageIDs)
		}
	})
	t.Run("lkml", func(t *testing.T) {
		p, st := threadTestPipeline(t)
		n := importDir(t, p, filepath.Join(notmuchDir, "test/corpora/lkml"))
		var stored, inThreads int
		st.View(func(tx *store.Tx) error {
			ths, _ := tx.Threads("eng")
			for _, th := range ths {
				inThreads += th.Count
			}
			return tx.MessagesSince(0, func(store.Message) bool { stored++; return true })
		})
		// 210 files carry 176 distinct Message-IDs (grep -h '^Message-ID:' | sort -u).
		if stored != 176 || inThreads != stored {
			t.Errorf("lkml: %d files, %d stored, %d in threads", n, stored, inThreads)
		}
		t.Logf("lkml: %d files, %d stored, %d in threads", n, stored, inThreads)
	})
}
