package storage

import "github.com/google/uuid"

// newEventID returns a new random event ID.
func newEventID() string { return uuid.NewString() }
