package courtside

import "time"

// Audit outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
	OutcomeFailed = "failed"
)

// AuditEntry records who did or read what, when, and with what outcome. It names objects by
// type and ID and never holds a PII value. Entries are append-only and hash-chained.
type AuditEntry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	ActorID  int64     `json:"actorId,omitempty"`
	Action   string    `json:"action"`
	Object   string    `json:"object"`
	Outcome  string    `json:"outcome"`
	PrevHash string    `json:"prevHash"`
	Hash     string    `json:"hash"`

	// Actor is the actor's username, filled in by listings (ListAuditEntries) for display. It is
	// not stored in the row and not part of the hash.
	Actor string `json:"actor,omitempty"`
}
