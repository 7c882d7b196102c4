package main

// commandTable lists every subcommand, in the order help shows them.
func commandTable() []*command {
	return []*command{
		serveCommand(),
		teamAddCommand(),
		teamListCommand(),
		memberAddCommand(),
		memberSetCommand(),
		memberRemoveCommand(),
		memberListCommand(),
		digestPreviewCommand(),
		digestScheduleCommand(),
		threadsCommand(),
		threadShowCommand(),
		inspectCommand(),
		importCommand(),
		outboxListCommand(),
		outboxRetryCommand(),
		backupCommand(),
		secretRotateCommand(),
	}
}
