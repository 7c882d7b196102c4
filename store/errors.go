package store

import "errors"

var (
	// ErrNotFound is returned when a team, member, message or thread does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrExists is returned when adding something that is already there.
	ErrExists = errors.New("store: already exists")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("store: closed")
	// ErrLocked is returned by Open when another process holds the database.
	ErrLocked = errors.New("store: database is in use by another process")
)
