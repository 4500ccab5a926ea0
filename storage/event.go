package storage

import "github.com/google/uuid"

// newEventID returns a new event ID: a version 7 UUID, unique like a random one but ordered by
// time, so that the events table's UNIQUE index on uuid grows at its end instead of at random
// places. That matters to a bulk import, which appends one event per hearing in one
// transaction. Should the clock fail, it falls back to a random (version 4) UUID.
func newEventID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
