package digest_test

import (
	"fmt"
	"time"

	"github.com/tidings/tidings/digest"
	"github.com/tidings/tidings/store"
)

// A member in Berlin who starts at 02:30 on Sundays: on the day the clocks
// jump from 02:00 to 03:00 the digest comes at 03:00, the first valid
// minute; on the day 02:30 happens twice, at the first 02:30.
func ExampleSchedule_Next() {
	m := store.Member{Address: "ana@example.com", Zone: "Europe/Berlin", Start: "02:30", Days: "sun"}
	s, err := digest.ScheduleOf(m, digest.Defaults{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, after := range []string{"2026-03-22T12:00:00Z", "2026-10-18T12:00:00Z", "2026-10-25T00:30:00Z"} {
		t, _ := time.Parse(time.RFC3339, after)
		due := s.Next(t)
		fmt.Println(due.Format(time.RFC3339), "=", due.In(s.Loc).Format("Mon 2 Jan 15:04 MST"))
	}
	// Output:
	// 2026-03-29T01:00:00Z = Sun 29 Mar 03:00 CEST
	// 2026-10-25T00:30:00Z = Sun 25 Oct 02:30 CEST
	// 2026-11-01T01:30:00Z = Sun 1 Nov 02:30 CET
}

// What `digest schedule` shows: the next digest of a member, from the last
// slot claimed. Monday's digest went out in Berlin; the member has since
// moved to New York, where their next is Tuesday's.
func ExampleNextDue() {
	m := store.Member{Address: "ana@example.com", Zone: "America/New_York", Start: "09:00", Days: "mon-fri",
		Teams: map[string]string{"eng": store.ModeDigest}}
	st := store.DigestState{Member: m.Address, LastDue: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	due, err := digest.NextDue(m, st, digest.Defaults{}, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	loc, _ := time.LoadLocation(m.Zone)
	fmt.Println(due.Format(time.RFC3339), "=", due.In(loc).Format("Mon 2 Jan 15:04 MST"))
	// Output:
	// 2026-03-03T14:00:00Z = Tue 3 Mar 09:00 EST
}
