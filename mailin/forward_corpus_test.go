package mailin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// forwardCorpusCase is one case of testdata/forward/expected.json (see
// testdata/forward/SOURCES.md): a body, maybe a subject, and the values
// upstream's test checks. An absent key is not checked.
type forwardCorpusCase struct {
	BodyFile    string                     `json:"body_file"`
	SubjectFile *string                    `json:"subject_file"`
	Expected    map[string]json.RawMessage `json:"expected"`
}

// forwardCorpusFloors are the rates below which TestForwardCorpus fails:
// set just under what DetectForward reaches, so that a change that loses
// cases is seen. The misses are listed by the test (go test -v).
var forwardCorpusFloors = map[string]float64{
	"forwarded":    0.99,
	"from.address": 0.99,
	"from.name":    0.99,
	"subject":      0.99,
	"body":         0.99,
	"note":         0.99,
	"date":         0.99,
	"date.value":   0.99,
}

// fixtureDates are the dates the fixtures' header blocks state, by file
// name prefix (the longest that matches wins), as the instant they name;
// a zone-less one is read as UTC (see parseLooseDate). The date written in
// each fixture was read by eye; "date.value" counts the cases whose date
// DetectForward reads exactly.
var fixtureDates = map[string]string{
	"apple_mail_":                         "2021-10-26T14:25:08+03:00",
	"apple_mail_en_body":                  "2021-10-25T11:17:21+03:00",
	"apple_mail_en_body_variant_6":        "2021-07-16T19:24:14+02:00",
	"apple_mail_en_body_variant_7":        "2021-07-16T19:24:14+02:00",
	"apple_mail_en_body_variant_13":       "2022-08-17T09:06:24+02:00",
	"gmail_":                              "2021-10-27T09:31:00Z",
	"gmail_en_body_variant_14":            "2023-04-06T16:17:00Z",
	"gmail_en_body_variant_15":            "2023-04-06T16:17:00Z",
	"hubspot_":                            "2022-09-19T17:55:44-04:00",
	"hubspot_fr_body":                     "2022-09-19T15:20:05+02:00",
	"ionos_":                              "2023-02-10T16:52:00-05:00",
	"mailmate_":                           "2021-10-27T09:31:00Z",
	"missive_en_body":                     "2022-07-19T15:09:00Z",
	"missive_en_body_variant_1":           "2022-07-19T15:36:00Z",
	"missive_en_body_variant_2":           "2022-07-19T15:36:00Z",
	"missive_en_body_variant_3":           "2022-07-01T17:03:00Z",
	"new_outlook_2019_":                   "2021-10-28T12:46:00Z",
	"new_outlook_2019_cs":                 "2021-10-28T12:06:00Z",
	"new_outlook_2019_da":                 "2021-10-28T12:06:00Z",
	"new_outlook_2019_fi":                 "2021-10-28T12:06:00Z",
	"new_outlook_2019_fr":                 "2021-10-28T12:06:00Z",
	"new_outlook_2019_nl":                 "2021-10-28T12:06:00Z",
	"new_outlook_2019_en_body_variant_14": "2023-04-06T16:17:00Z",
	"new_outlook_2019_en_body_variant_15": "2023-04-06T16:17:00Z",
	"outlook_2013_":                       "2021-10-25T11:17:00Z",
	"outlook_2019_":                       "2021-10-28T12:46:00Z",
	"outlook_live_":                       "2021-10-27T15:14:00Z",
	"outlook_live_en_body_variant_14":     "2023-04-06T16:17:00Z",
	"outlook_live_en_body_variant_15":     "2023-04-06T16:17:00Z",
	"thunderbird_":                        "2021-11-03T15:51:30+01:00",
	"thunderbird_en_body_variant_14":      "2023-04-06T16:17:00Z",
	"thunderbird_en_body_variant_15":      "2023-04-06T16:17:00Z",
	"unknown_":                            "2022-07-23T07:53:00Z",
	"yahoo_":                              "2021-11-02T09:26:50+01:00",
}

// fixtureDate is the date fixtureDates gives a fixture.
func fixtureDate(name string) (time.Time, bool) {
	best := ""
	for p := range fixtureDates {
		if strings.HasPrefix(name, p) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, fixtureDates[best])
	return t.UTC(), err == nil
}

// TestForwardCorpus runs DetectForward over the forward corpus and prints
// the match rate per field.
func TestForwardCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "forward")
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Cases []forwardCorpusCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Cases) < 200 {
		t.Fatalf("expected.json has %d cases, want 206", len(exp.Cases))
	}
	checked := map[string]int{}
	matched := map[string]int{}
	var misses []string
	check := func(c forwardCorpusCase, field string, ok bool, got, want any) {
		checked[field]++
		if ok {
			matched[field]++
			return
		}
		misses = append(misses, fmt.Sprintf("%-12s %s: got %q, want %q", field, filepath.Base(c.BodyFile), got, want))
	}
	str := func(m json.RawMessage) string {
		var s *string
		_ = json.Unmarshal(m, &s)
		if s == nil {
			return ""
		}
		return *s
	}
	for _, c := range exp.Cases {
		body, err := os.ReadFile(filepath.Join(dir, c.BodyFile))
		if err != nil {
			t.Fatal(err)
		}
		p := &Parsed{Text: string(body)}
		if c.SubjectFile != nil {
			subj, err := os.ReadFile(filepath.Join(dir, *c.SubjectFile))
			if err != nil {
				t.Fatal(err)
			}
			p.Subject = strings.TrimSpace(string(subj))
		}
		f, ok := DetectForward(p)
		var want bool
		if err := json.Unmarshal(c.Expected["forwarded"], &want); err != nil {
			t.Fatalf("%s: forwarded: %v", c.BodyFile, err)
		}
		check(c, "forwarded", ok == want, ok, want)
		if !want {
			continue
		}
		if m, has := c.Expected["email.from"]; has {
			var from struct{ Address, Name *string }
			if err := json.Unmarshal(m, &from); err != nil {
				t.Fatal(err)
			}
			wantAddr, wantName := "", ""
			if from.Address != nil {
				wantAddr = *from.Address
			}
			if from.Name != nil {
				wantName = *from.Name
			}
			check(c, "from.address", f.From.Addr == wantAddr, f.From.Addr, wantAddr)
			check(c, "from.name", f.From.Name == wantName, f.From.Name, wantName)
		}
		if m, has := c.Expected["email.subject"]; has {
			check(c, "subject", f.Subject == str(m), f.Subject, str(m))
		}
		if m, has := c.Expected["email.body"]; has {
			check(c, "body", f.Text == str(m), f.Text, str(m))
		}
		if m, has := c.Expected["message"]; has {
			check(c, "note", f.Note == str(m), f.Note, str(m))
		}
		if _, has := c.Expected["email.date"]; has {
			// Upstream only asks for a date string; we ask for a time.
			check(c, "date", !f.Date.IsZero(), f.Date.String(), "a date")
			if wantDate, ok := fixtureDate(filepath.Base(c.BodyFile)); ok {
				check(c, "date.value", f.Date.Equal(wantDate), f.Date.Format(time.RFC3339), wantDate.Format(time.RFC3339))
			}
		}
	}
	fields := make([]string, 0, len(checked))
	for k := range checked {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	var report strings.Builder
	fmt.Fprintf(&report, "forward corpus (%d cases):\n", len(exp.Cases))
	for _, k := range fields {
		fmt.Fprintf(&report, "  %-13s %3d/%3d  %5.1f%%\n", k, matched[k], checked[k], 100*float64(matched[k])/float64(checked[k]))
	}
	for _, m := range misses {
		fmt.Fprintf(&report, "  miss %s\n", m)
	}
	t.Log(report.String())
	if testing.Verbose() {
		fmt.Print(report.String())
	}
	for _, k := range fields {
		rate := float64(matched[k]) / float64(checked[k])
		if floor, ok := forwardCorpusFloors[k]; !ok {
			t.Errorf("no floor for field %s", k)
		} else if rate < floor {
			t.Errorf("%s: %.1f%% matched, below the floor of %.1f%%", k, 100*rate, 100*floor)
		}
	}
}

// sharedCorpusDir holds the team's mail corpora, beside the repository.
const sharedCorpusDir = "../../shared/corpus"

// sharedCorpusPath returns a path under sharedCorpusDir, or skips the test
// when the corpus is not there (it fails under CI, which runs with it).
func sharedCorpusPath(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(sharedCorpusDir, rel)
	if _, err := os.Stat(p); os.IsNotExist(err) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus not found at %s: CI runs with ../shared beside the repository", p)
		}
		t.Skipf("corpus not found at %s (it lives in ../shared, outside the repository)", p)
	} else if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestForwardSharedCorpus: mail of the shared corpus that is not a
// forward stays so, and the forwards in it are read.
func TestForwardSharedCorpus(t *testing.T) {
	t.Parallel()
	t.Run("replies are no forwards", func(t *testing.T) {
		t.Parallel()
		// The reply corpus holds the texts of answers (Gmail, Outlook,
		// iPhone, …), as a reply carries them: with "Re:" and In-Reply-To.
		dir := sharedCorpusPath(t, "github__email_reply_parser/test/emails")
		files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
		if err != nil || len(files) < 20 {
			t.Fatalf("%d reply fixtures in %s (%v)", len(files), dir, err)
		}
		kept, bare := 0, 0
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if f, ok := DetectForward(&Parsed{Text: string(b), Subject: "Re: Budget", InReplyTo: []string{"a@example.com"}}); ok {
				t.Errorf("%s: a reply read as a forward from %+v", filepath.Base(name), f.From)
			} else {
				kept++
			}
			if _, ok := DetectForward(&Parsed{Text: string(b)}); ok {
				bare++
			}
		}
		report := fmt.Sprintf("reply corpus: %d/%d replies not taken for forwards; without subject and In-Reply-To %d read as forwards "+
			"(Outlook answers of one line above the block, which only the subject or In-Reply-To tell from a forward)\n", kept, len(files), bare)
		t.Log(report)
		if testing.Verbose() {
			fmt.Print(report)
		}
	})
	cases := []struct {
		file    string
		ok      bool
		from    Address
		subject string
		date    time.Time
		note    string // its beginning
	}{
		{file: "stalwartlabs__mail-parser/resources/eml/rfc/002.eml", ok: true,
			from: Address{Name: "Bill Clinton", Addr: "president@whitehouse.gov"}, subject: "Map of Argentina with Description",
			date: time.Date(1998, 8, 13, 7, 42, 41, 0, time.UTC), note: "Fred,\n\nFire up Air Force One!"},
		{file: "mikel__mail/spec/fixtures/emails/plain_emails/raw_email8.eml", ok: true,
			from: Address{Name: "xxxxx xxxxxx", Addr: "xxxxxxxx@xxx.com"}, subject: "Signed email causes file attachments",
			date: time.Date(2005, 5, 8, 13, 17, 0, 0, time.UTC), note: "We should not include these files or vcards as attachments."},
		{file: "postalsys__postal-mime/test/fixtures/bounce.eml"},
		{file: "postalsys__postal-mime/test/fixtures/arf.eml"},
		{file: "nodemailer__mailparser/test/fixtures/delivery-status.eml"},
		{file: "nodemailer__mailparser/test/fixtures/nested.eml"},
		{file: "jhillyerd__enmime/dsn/testdata/simple_dsn.raw"},
		{file: "jhillyerd__enmime/dsn/testdata/multi_recipient_dsn.raw"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(sharedCorpusPath(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(raw, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			f, ok := DetectForward(p)
			if ok != c.ok {
				t.Fatalf("DetectForward = %v, want %v (Auto %q)", ok, c.ok, p.Auto)
			}
			if !ok {
				return
			}
			if f.From != c.from || f.Subject != c.subject || !f.Date.Equal(c.date) || !strings.HasPrefix(f.Note, c.note) {
				t.Errorf("got From %+v, Subject %q, Date %v, Note %q\nwant From %+v, Subject %q, Date %v, Note %q…",
					f.From, f.Subject, f.Date, f.Note, c.from, c.subject, c.date, c.note)
			}
		})
	}
}
