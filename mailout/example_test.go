package mailout_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/tidings/tidings/mailout"
	"github.com/tidings/tidings/store"
)

func ExampleCompose() {
	raw, err := mailout.Compose(mailout.Mail{
		From:              mail.Address{Name: "Eng", Address: "eng@example.com"},
		To:                mail.Address{Name: "Zoë", Address: "zoe@example.com"},
		ReplyTo:           &mail.Address{Address: "eng+dq2xb7yzpa@example.com"},
		Subject:           "[tidings] 1 waiting on you · 3 updates · Mon 30 Nov",
		Date:              time.Date(2026, 11, 30, 9, 0, 0, 0, time.FixedZone("CET", 3600)),
		MessageID:         mailout.MessageID("digest", "zoe@example.com|2026-11-30T08:00:00Z", "example.com"),
		ListID:            "eng.example.com",
		ListName:          "Eng",
		UnsubscribeURL:    "https://tidings.example.com/u/zoe",
		UnsubscribeMailto: "eng+unsubscribe@example.com",
		Text:              []byte("Good morning.\n"),
		HTML:              []byte("<p>Good morning.</p>\n"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(string(raw), "\r\n", "\n"))
	// Output:
	// Date: Mon, 30 Nov 2026 09:00:00 +0100
	// From: "Eng" <eng@example.com>
	// To: =?utf-8?q?Zo=C3=AB?= <zoe@example.com>
	// Reply-To: <eng+dq2xb7yzpa@example.com>
	// Subject: =?utf-8?q?[tidings]_1_waiting_on_you_=C2=B7_3_updates_=C2=B7_Mon_30_Nov?=
	// Message-ID: <digest.e68a88823012033e58f29235@example.com>
	// List-Id: "Eng" <eng.example.com>
	// List-Unsubscribe: <https://tidings.example.com/u/zoe>,
	//  <mailto:eng+unsubscribe@example.com>
	// List-Unsubscribe-Post: List-Unsubscribe=One-Click
	// Auto-Submitted: auto-generated
	// X-Auto-Response-Suppress: All
	// Precedence: list
	// X-Loop: tidings@example.com
	// MIME-Version: 1.0
	// Content-Type: multipart/alternative;
	//  boundary="=_b49a1fac21948288a554c2da52ccc2a0"
	//
	// --=_b49a1fac21948288a554c2da52ccc2a0
	// Content-Type: text/plain; charset=utf-8
	// Content-Transfer-Encoding: quoted-printable
	//
	// Good morning.
	//
	// --=_b49a1fac21948288a554c2da52ccc2a0
	// Content-Type: text/html; charset=utf-8
	// Content-Transfer-Encoding: quoted-printable
	//
	// <p>Good morning.</p>
	//
	// --=_b49a1fac21948288a554c2da52ccc2a0--
}

// A digest claim queues its mail in the same transaction that advances the
// member's state, and wakes the Deliverer once that has committed.
func ExampleDeliverer() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	st, err := store.Open("tidings-data/tidings.db", store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := &mailout.Deliverer{Store: st, Dir: "tidings-data/outbox", Lifetime: 120 * time.Hour, Logger: slog.Default()}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	now := time.Now()
	err = st.Update(ctx, func(tx *store.Tx) error {
		// … claim the slot, build and render the digest …
		m := mailout.Mail{
			From:      mail.Address{Name: "Eng", Address: "eng@example.com"},
			To:        mail.Address{Address: "zoe@example.com"},
			Subject:   "[tidings] 3 updates · Mon 30 Nov",
			MessageID: mailout.MessageID("digest", "zoe@example.com|2026-11-30T08:00:00Z", "example.com"),
			ListID:    "eng.example.com",
			Text:      []byte("…"),
		}
		_, err := mailout.Queue(tx, m, "digest", "zoe@example.com", "", now)
		// … record the outbox ID and advance the cursor …
		return err
	})
	if err == nil {
		d.Notify()
	}

	// At shutdown: stop Run, wait for it, then close the store.
	stop()
	<-done
	st.Close()
}
