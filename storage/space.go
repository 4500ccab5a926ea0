package storage

import (
	"context"
	"fmt"
)

// MinFreeBytes is how much the database must be able to grow for Ping to call it writable:
// below it writes are about to fail with a full disk, and /readyz says so.
const MinFreeBytes = 1 << 20

// checkSpace reports an error when the database cannot grow by MinFreeBytes: neither the
// filesystem holding it (freeBytes) nor the writer's page limit (PRAGMA max_page_count, which
// tests lower to simulate a full disk) leaves that much room. It runs on the writer connection,
// whose limit is the one that counts.
func (db *DB) checkSpace(ctx context.Context) error {
	if db.Postgres() {
		// The server's disk is the server's to watch; a full one fails writes with an error.
		return nil
	}
	var pageSize, pages, maxPages int64
	for _, q := range []struct {
		sql string
		v   *int64
	}{{`PRAGMA page_size`, &pageSize}, {`PRAGMA page_count`, &pages}, {`PRAGMA max_page_count`, &maxPages}} {
		if err := db.Writer.QueryRowContext(ctx, q.sql).Scan(q.v); err != nil {
			return fmt.Errorf("storage: space: %w", err)
		}
	}
	if room := (maxPages - pages) * pageSize; room < MinFreeBytes {
		return fmt.Errorf("storage: disk full: the database may grow by %d bytes only", max(room, 0))
	}
	if free, ok := freeBytes(db.Path); ok && free < MinFreeBytes {
		return fmt.Errorf("storage: disk full: %d bytes free beside %s", free, db.Path)
	}
	return nil
}
