package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/tidings/tidings/store"
)

// defaultGrace is how long reply addresses and links made with a replaced
// secret keep working: a month covers digests read late and threads
// answered after a holiday.
const defaultGrace = 30 * 24 * time.Hour

func secretRotateCommand() *command {
	return &command{
		name:     "secret rotate",
		synopsis: "[--grace 720h] [--json]",
		summary:  "make a new instance secret for reply addresses and links; those made before work until the grace ends; --json: {rotated, grace_end}",
		where:    inStore,
		setup: func(fs *flag.FlagSet) runFunc {
			grace := fs.Duration("grace", defaultGrace, "how long addresses and links made before keep working, a `DURATION` such as 720h (30 days); 0 refuses them at once")
			asJSON := fs.Bool("json", false, "print a JSON object")
			return func(e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				if *grace < 0 {
					return usagef("--grace %v: must not be negative", *grace)
				}
				return secretRotate(e, *grace, *asJSON)
			}
		},
	}
}

// secretRotateJSON is the stable --json form of a rotation.
type secretRotateJSON struct {
	Rotated  string `json:"rotated"`   // RFC 3339, UTC
	GraceEnd string `json:"grace_end"` // RFC 3339, UTC: addresses made before are refused from then on
}

func secretRotate(e *env, grace time.Duration, asJSON bool) error {
	now := e.now()
	err := e.st.Update(e.ctx, func(tx *store.Tx) error { return tx.RotateSecret(now, grace) })
	if err != nil {
		return fmt.Errorf("secret rotate: %w", err)
	}
	end := now.Add(grace)
	if asJSON {
		return e.writeJSON(secretRotateJSON{Rotated: now.Format(time.RFC3339), GraceEnd: end.Format(time.RFC3339)})
	}
	fmt.Fprintln(e.stdout, "rotated the instance secret: digests from now on carry new reply addresses and links")
	if grace == 0 {
		fmt.Fprintln(e.stdout, "every reply address and link made before is refused from now on")
		return nil
	}
	fmt.Fprintf(e.stdout, "those made before are accepted until %s (%s)\n", end.Format(time.RFC3339), end.Local().Format(time.DateTime+" MST"))
	return nil
}
