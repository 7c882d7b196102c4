package main

import (
	"flag"
	"fmt"
	"path/filepath"
)

func backupCommand() *command {
	return &command{
		name:     "backup",
		synopsis: "FILE",
		summary:  "write a consistent copy of the database to FILE, also while serve runs",
		where:    inStore,
		setup: func(fs *flag.FlagSet) runFunc {
			return func(e *env, args []string) error {
				if err := wantArgs(args, "FILE"); err != nil {
					return err
				}
				return backup(e, e.abs(args[0]))
			}
		},
	}
}

func backup(e *env, path string) error {
	if filepath.Clean(path) == filepath.Clean(e.cfg.DBPath()) {
		return fmt.Errorf("backup: %s is the database itself", path)
	}
	n, err := e.st.BackupFile(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s\n", byteSize(n), path)
	return nil
}
