package main

import (
	"cmp"
	"flag"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/tidings/tidings/digest"
	"github.com/tidings/tidings/store"
)

func digestScheduleCommand() *command {
	return &command{
		name:     "digest schedule",
		synopsis: "[--json]",
		summary: "when each member's next digest falls due, local and UTC; --json: " +
			"[{address, tz, start, days, next_local, next_utc, owed, skip, error}], soonest first",
		where: inStore,
		setup: func(fs *flag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print a JSON array")
			return func(e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				return digestSchedule(e, *asJSON)
			}
		},
	}
}

// scheduleJSON is the stable --json form of one member's next digest.
type scheduleJSON struct {
	Address string `json:"address"`
	TZ      string `json:"tz"`    // the zone the schedule runs in (the default when the member has none)
	Start   string `json:"start"` // HH:MM local
	Days    string `json:"days"`  // working days, e.g. "mon-fri"
	// NextLocal and NextUTC are the due instant in RFC 3339, with the
	// zone's offset and in UTC; both "" when there is none (no working
	// day, or an error).
	NextLocal string `json:"next_local"`
	NextUTC   string `json:"next_utc"`
	// Owed: the instant has passed and the slot is not claimed yet (the
	// service is down, or about to send it). Skip: it was missed by more
	// than digest.catch_up, so it will not be sent; its content goes into
	// the digest after it.
	Owed bool `json:"owed"`
	Skip bool `json:"skip"`
	// Error says why the member gets no digest (e.g. an unknown zone).
	Error string `json:"error,omitempty"`
}

type scheduleRow struct {
	scheduleJSON
	next time.Time // UTC; zero when none
	loc  *time.Location
}

func digestSchedule(e *env, asJSON bool) error {
	defaults := digestDefaults(e.cfg)
	now := e.now()
	var rows []scheduleRow
	err := e.st.View(func(tx *store.Tx) error {
		members, err := tx.Members()
		if err != nil {
			return err
		}
		for _, m := range members {
			if !digest.GetsDigest(m) {
				continue
			}
			st, _, err := tx.DigestState(m.Address)
			if err != nil {
				return err
			}
			rows = append(rows, scheduleOf(m, st, defaults, now, e.cfg.Digest.CatchUp))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("digest schedule: %w", err)
	}
	// Soonest first; members without a next digest last.
	slices.SortStableFunc(rows, func(a, b scheduleRow) int {
		if a.next.IsZero() != b.next.IsZero() {
			if a.next.IsZero() {
				return 1
			}
			return -1
		}
		return cmp.Or(a.next.Compare(b.next), cmp.Compare(a.Address, b.Address))
	})
	if asJSON {
		out := make([]scheduleJSON, len(rows))
		for i, r := range rows {
			out[i] = r.scheduleJSON
		}
		return e.writeJSON(out)
	}
	if len(rows) == 0 {
		fmt.Fprintln(e.stdout, "no member gets digests")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tZONE\tNEXT (LOCAL)\tNEXT (UTC)\tOWED")
	for _, r := range rows {
		local, utc, owed := "-", "-", "-"
		if !r.next.IsZero() {
			local = r.next.In(r.loc).Format("Mon 2006-01-02 15:04 MST")
			utc = r.next.Format("2006-01-02 15:04Z")
		}
		switch {
		case r.Error != "":
			owed = "error: " + r.Error
		case r.Skip:
			owed = "missed: its content goes into the next"
		case r.Owed:
			owed = "yes: sent as soon as serve runs"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Address, r.TZ, local, utc, owed)
	}
	return tw.Flush()
}

// scheduleOf works out one member's next digest as things stand at now.
func scheduleOf(m store.Member, st store.DigestState, d digest.Defaults, now time.Time, catchUp time.Duration) scheduleRow {
	r := scheduleRow{scheduleJSON: scheduleJSON{
		Address: m.Address,
		TZ:      cmp.Or(m.Zone, d.TZ, "UTC"),
		Start:   cmp.Or(m.Start, d.Start, "09:00"),
		Days:    cmp.Or(m.Days, d.Days, "mon-fri"),
	}}
	sched, err := digest.ScheduleOf(m, d)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	next, err := digest.NextDue(m, st, d, now)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if next.IsZero() {
		return r
	}
	if catchUp <= 0 {
		catchUp = digest.DefaultCatchUp
	}
	r.next, r.loc = next.UTC(), sched.Loc
	r.NextLocal = next.In(sched.Loc).Format(time.RFC3339)
	r.NextUTC = r.next.Format(time.RFC3339)
	r.Owed = !next.After(now)
	r.Skip = r.Owed && now.Sub(next) >= catchUp
	return r
}
