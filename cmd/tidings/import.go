package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tidings/tidings/control"
	"github.com/tidings/tidings/mailin"
	"github.com/tidings/tidings/store"
)

// Messages go to the pipeline in batches that share transactions; a batch
// is also the unit of progress and of stopping on Ctrl-C.
const (
	importBatch      = 500
	importBatchBytes = 32 << 20
	// maxRefusalsListed keeps an archive that is refused wholesale (say,
	// for want of --team) from flooding the terminal.
	maxRefusalsListed = 20
)

func importCommand() *command {
	return &command{
		name:     "import",
		synopsis: "[--team NAME] (--mbox FILE | --maildir DIR | FILE.eml ...)",
		summary:  "import an archive; without --team each message goes to the team its To/Cc names",
		where:    inStore,
		setup: func(fs *flag.FlagSet) runFunc {
			team := fs.String("team", "", "import into team `NAME`")
			mbox := fs.String("mbox", "", "read an mbox `FILE`")
			maildir := fs.String("maildir", "", "read the Maildir (or directory of message files) `DIR`")
			return func(e *env, args []string) error {
				sources := 0
				for _, given := range []bool{*mbox != "", *maildir != "", len(args) > 0} {
					if given {
						sources++
					}
				}
				if sources != 1 {
					return usagef("give exactly one of --mbox FILE, --maildir DIR or FILE.eml ...")
				}
				return importMail(e, *team, e.abs(*mbox), e.abs(*maildir), absAll(e, args))
			}
		},
	}
}

func absAll(e *env, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = e.abs(p)
	}
	return out
}

type importCounts struct {
	imported, duplicates, refused int
}

func (c importCounts) total() int { return c.imported + c.duplicates + c.refused }

func importMail(e *env, team, mbox, maildir string, files []string) error {
	opts := mailin.SourceOptions{MaxMessageBytes: e.cfg.SMTP.MaxMessageBytes}
	var (
		src mailin.Source
		err error
	)
	switch {
	case mbox != "":
		src, err = mailin.OpenMbox(mbox, opts)
	case maildir != "":
		src, err = mailin.OpenMaildir(maildir, opts)
	default:
		src, err = mailin.OpenFiles(files, opts)
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer src.Close()

	route, err := newRouter(e, team)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}

	var (
		counts  importCounts
		batch   []mailin.Delivery
		origins []string
		bytesIn int
		tempErr error
	)
	refuse := func(origin string, why error) {
		counts.refused++
		if counts.refused <= maxRefusalsListed {
			fmt.Fprintf(e.stderr, "refused %s: %v\n", origin, why)
		}
	}
	report := func() {
		done, total := src.Progress()
		e.progress(control.Progress{Label: "importing", Done: done, Total: total, Items: int64(counts.total()), Unit: "messages"})
	}
	// One batch commits while the next is read and parsed: the group
	// commit lets the second queue behind the first, so parsing overlaps
	// the fsync instead of waiting for it.
	type inflight struct {
		origins []string
		outs    []mailin.Outcome
		errs    []error
		done    chan struct{}
	}
	var prev *inflight
	collect := func(f *inflight) {
		if f == nil {
			return
		}
		<-f.done
		for i := range f.origins {
			var rej *mailin.Rejection
			switch {
			case f.errs[i] == nil && len(f.outs[i].Stored) > 0:
				counts.imported++
			case f.errs[i] == nil:
				counts.duplicates++
			case errors.As(f.errs[i], &rej):
				refuse(f.origins[i], rej)
			case tempErr == nil:
				tempErr = fmt.Errorf("import %s: %w", f.origins[i], f.errs[i])
			}
		}
		report()
	}
	flush := func() {
		if len(batch) > 0 {
			cur := &inflight{origins: origins, done: make(chan struct{})}
			go func(ds []mailin.Delivery) {
				defer close(cur.done)
				// A batch handed over is finished even after Ctrl-C, so
				// that the summary tells exactly what was imported.
				cur.outs, cur.errs = e.pipe.DeliverBatch(context.WithoutCancel(e.ctx), ds)
			}(batch)
			batch, origins, bytesIn = nil, nil, 0
			collect(prev)
			prev = cur
		}
	}
	drain := func() {
		flush()
		collect(prev)
		prev = nil
	}

	for tempErr == nil && e.ctx.Err() == nil {
		m, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			drain()
			fmt.Fprintf(e.stdout, "%s\n", summary(counts))
			return fmt.Errorf("import: %w", err)
		}
		if m.Err != nil {
			refuse(m.Origin, m.Err)
			continue
		}
		teams, err := route(m.Raw)
		if err != nil {
			refuse(m.Origin, err)
			continue
		}
		batch = append(batch, mailin.Delivery{Teams: teams, Raw: m.Raw, SkipSenderCheck: true})
		origins = append(origins, m.Origin)
		bytesIn += len(m.Raw)
		if len(batch) >= importBatch || bytesIn >= importBatchBytes {
			flush()
		}
	}
	if e.ctx.Err() == nil {
		flush()
	}
	collect(prev)
	fmt.Fprintf(e.stdout, "%s\n", summary(counts))
	if n := counts.refused - maxRefusalsListed; n > 0 {
		fmt.Fprintf(e.stderr, "(%d more refused messages not listed)\n", n)
	}
	switch {
	case tempErr != nil:
		return tempErr
	case e.ctx.Err() != nil:
		return fmt.Errorf("import: interrupted after %d messages: %w", counts.total(), e.ctx.Err())
	case counts.refused > 0:
		return fmt.Errorf("import: %d messages refused", counts.refused)
	}
	return nil
}

func summary(c importCounts) string {
	return fmt.Sprintf("imported %d, duplicates %d, refused %d", c.imported, c.duplicates, c.refused)
}

// newRouter returns how to find a message's teams: the one named by --team,
// or else the teams whose address (or a plus-address of it) appears in the
// message's recipient fields.
func newRouter(e *env, team string) (func(raw []byte) ([]string, error), error) {
	var teams []store.Team
	err := e.st.View(func(tx *store.Tx) error {
		if team != "" {
			return teamExists(tx, team)
		}
		var err error
		teams, err = tx.Teams()
		return err
	})
	if err != nil {
		return nil, err
	}
	if team != "" {
		return func([]byte) ([]string, error) { return []string{team}, nil }, nil
	}
	if len(teams) == 0 {
		return nil, fmt.Errorf("there are no teams yet: add one with 'tidings team add' first")
	}
	return func(raw []byte) ([]string, error) {
		names := mailin.RecipientTeams(teams, raw)
		if len(names) == 0 {
			return nil, fmt.Errorf("no team address in To, Cc or Delivered-To (name the team with --team)")
		}
		return names, nil
	}, nil
}
