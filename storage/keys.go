package storage

import (
	"context"
	"encoding/hex"
	"fmt"

	"courtside"
)

// sealedColumn is a column holding sealed values, and the column name its additional data uses.
type sealedColumn struct {
	table, key, column, adColumn string // key: the table's integer primary key
}

// sealedColumns lists every column that holds values sealed by a Sealer. A new sealed column
// must be added here, or key rotation leaves it under the old key.
var sealedColumns = []sealedColumn{
	{"victims", "id", "legal_name_sealed", "legal_name"},
	{"victim_contacts", "id", "address_sealed", "address"},
	{"webhook_endpoints", "organization_id", "secret_sealed", "secret"},
	{"deliveries", "id", "body_sealed", "body"},
	{"releases", "id", "reference_sealed", "reference"},
}

// DefaultRotateBatch is how many values RotateKeys re-encrypts in one transaction.
const DefaultRotateBatch = 500

// RotateKeys re-encrypts every sealed value that is not yet under next's key: it opens the
// value with db.Sealer combined with next (so values of either key open) and seals it with
// next. It works in transactions of batch values (DefaultRotateBatch when batch <= 0), so the
// writer is never held for long and an interrupted rotation resumes where it stopped: a value
// already under next's key id is skipped. After each committed batch progress (if not nil) is
// called with the number of values rotated so far; an error from it stops the rotation.
//
// Replaced ciphertexts are overwritten (secure_delete) and the WAL is checkpointed and
// truncated at the end, so the file keeps no value under the old key. It returns the number of
// values rotated.
func (db *DB) RotateKeys(ctx context.Context, next *Sealer, batch int, progress func(rotated int) error) (int, error) {
	if db.Sealer == nil || next == nil {
		return 0, fmt.Errorf("storage: key rotation needs the current and the new key")
	}
	if batch <= 0 {
		batch = DefaultRotateBatch
	}
	combined := next.WithOlder(db.Sealer)
	newID := next.KeyID()

	// The writer pool has one connection, so this PRAGMA applies to every batch below.
	// PostgreSQL has no such setting: the old row versions stay in its files until vacuumed
	// (docs/operations.md).
	if !db.Postgres() {
		if _, err := db.Writer.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
			return 0, fmt.Errorf("storage: secure_delete: %w", err)
		}
		defer db.Writer.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`)
	}

	rotated := 0
	for _, sc := range sealedColumns {
		var after int64
		for {
			n, last, err := db.rotateBatch(ctx, sc, combined, newID, after, batch)
			if err != nil {
				return rotated, err
			}
			if n == 0 && last == 0 {
				break
			}
			rotated += n
			after = last
			if progress != nil && n > 0 {
				if err := progress(rotated); err != nil {
					return rotated, err
				}
			}
		}
	}
	// The blind index of contact addresses is keyed by a key derived from the encryption key:
	// recompute it under next (rows indexed under an older key, or not at all, are redone).
	if err := db.reindexContacts(ctx, combined, newID, batch); err != nil {
		return rotated, err
	}
	if err := db.Audit(ctx, "keys.rotate", "key:"+hex.EncodeToString(newID[:]), courtside.OutcomeOK); err != nil {
		return rotated, err
	}
	if db.Postgres() {
		return rotated, nil
	}
	// Move the new pages into the database file and drop the WAL, which still holds the old
	// page images.
	var busy, logFrames, checkpointed int
	if err := db.Writer.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
		return rotated, fmt.Errorf("storage: checkpoint: %w", err)
	}
	if busy != 0 {
		return rotated, fmt.Errorf("storage: key rotation done, but the WAL could not be checkpointed while readers are active; run it again when the service is idle")
	}
	return rotated, nil
}

// rotateBatch re-encrypts up to batch values of sc with ids above after that are not under
// newID, in one transaction. It returns how many it rotated and the last id it looked at (0
// when there were none).
func (db *DB) rotateBatch(ctx context.Context, sc sealedColumn, s *Sealer, newID [8]byte, after int64, batch int) (int, int64, error) {
	var n int
	var last int64
	err := db.update(ctx, func(tx *Tx) error {
		// sc.key is the table's integer primary key (on SQLite, its rowid).
		rows, err := tx.QueryContext(ctx, `SELECT `+sc.key+`, `+sc.column+` FROM `+sc.table+`
			WHERE `+sc.key+` > ? AND `+sc.column+` IS NOT NULL AND length(`+sc.column+`) > 0 AND substr(`+sc.column+`, 1, 8) <> ?
			ORDER BY `+sc.key+` LIMIT ?`, after, newID[:], batch)
		if err != nil {
			return fmt.Errorf("storage: rotate %s: %w", sc.table, err)
		}
		type value struct {
			id     int64
			sealed []byte
		}
		var vals []value
		for rows.Next() {
			var v value
			if err := rows.Scan(&v.id, &v.sealed); err != nil {
				rows.Close()
				return fmt.Errorf("storage: rotate %s: %w", sc.table, err)
			}
			vals = append(vals, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("storage: rotate %s: %w", sc.table, err)
		}
		for _, v := range vals {
			plain, err := s.Open(v.sealed, sc.table, sc.adColumn, v.id)
			if err != nil {
				return fmt.Errorf("storage: rotate %s row %d: %w", sc.table, v.id, err)
			}
			resealed, err := s.Seal(plain, sc.table, sc.adColumn, v.id)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE `+sc.table+` SET `+sc.column+` = ? WHERE `+sc.key+` = ?`, resealed, v.id); err != nil {
				return fmt.Errorf("storage: rotate %s row %d: %w", sc.table, v.id, err)
			}
			n++
			last = v.id
		}
		return nil
	})
	return n, last, err
}

// reindexContacts recomputes, in transactions of batch rows, the blind index (address_index) of
// every contact whose index is missing or not under newID, opening the address with s (which
// must open values of both keys and index under newID's key).
func (db *DB) reindexContacts(ctx context.Context, s *Sealer, newID [8]byte, batch int) error {
	var after int64
	for {
		done := true
		err := db.update(ctx, func(tx *Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, channel, address_sealed FROM victim_contacts
				WHERE id > ? AND (address_index IS NULL OR substr(address_index, 1, 8) <> ?)
				ORDER BY id LIMIT ?`, after, newID[:], batch)
			if err != nil {
				return fmt.Errorf("storage: reindex contacts: %w", err)
			}
			type contact struct {
				id      int64
				channel courtside.Channel
				sealed  []byte
			}
			var cs []contact
			for rows.Next() {
				var c contact
				if err := rows.Scan(&c.id, &c.channel, &c.sealed); err != nil {
					rows.Close()
					return fmt.Errorf("storage: reindex contacts: %w", err)
				}
				cs = append(cs, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("storage: reindex contacts: %w", err)
			}
			for _, c := range cs {
				address, err := s.Open(c.sealed, "victim_contacts", "address", c.id)
				if err != nil {
					return fmt.Errorf("storage: reindex contact %d: %w", c.id, err)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE victim_contacts SET address_index = ? WHERE id = ?`,
					s.BlindIndex(c.channel, address), c.id); err != nil {
					return fmt.Errorf("storage: reindex contact %d: %w", c.id, err)
				}
				after = c.id
			}
			done = len(cs) < batch
			return nil
		})
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}
