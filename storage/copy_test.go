package storage_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
	"courtside/storage/pgtest"
	"courtside/storage/storagetest"
)

// TestCopyTo_PostgresKeepsEveryRowAndSealedValue copies a SQLite database that has users,
// a court, a case, hearings, victims with sealed names and contacts, a share and a release, and
// the events and audit rows of it all, into a new PostgreSQL database: every table has the
// same rows, the audit chain verifies, the same key opens the victims' names and contacts,
// the sealed bytes are the same, and new rows get ids after the copied ones.
func TestCopyTo_PostgresKeepsEveryRowAndSealedValue(t *testing.T) {
	if !storagetest.Postgres() {
		t.Skip("needs the throwaway PostgreSQL server: run with COURTSIDE_TEST_ENGINE=postgres (make test-postgres)")
	}
	ctx := context.Background()
	src := storage.NewDB(filepath.Join(t.TempDir(), "courtside.db"))
	src.Publish = events.PublishTx
	var err error
	if src.Sealer, err = storage.NewSealer(testKey); err != nil {
		t.Fatal(err)
	}
	src.Now = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	if err := src.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	f := newFixtureOn(t, src)
	f.postHearing(t, "DA-1")
	f.postHearing(t, "DA-2")
	f.share(t, f.kase, f.prosecutor, f.coordinator)
	ids := registerVictims(t, f, 3)

	dst := openHandle(t, pgtest.URL(t))
	var copied []storage.TableCount
	report, err := src.CopyTo(ctx, dst, func(tc storage.TableCount) { copied = append(copied, tc) })
	if err != nil {
		t.Fatal(err)
	}
	if len(copied) != len(report.Tables) || len(copied) < 40 {
		t.Fatalf("%d tables reported, %d in the report", len(copied), len(report.Tables))
	}
	srcAudit, err := storage.NewAuditService(src).VerifyAudit(ctx)
	if err != nil || report.AuditChain != srcAudit || srcAudit < 10 {
		t.Fatalf("audit chain: copy %d rows, source %d, %v", report.AuditChain, srcAudit, err)
	}
	for _, tc := range report.Tables {
		var n int64
		if err := src.Reader.QueryRow(`SELECT count(*) FROM ` + tc.Table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != tc.Rows {
			t.Errorf("%s: %d rows copied, the source has %d", tc.Table, tc.Rows, n)
		}
	}
	for _, table := range []string{"users", "hearings", "victims", "victim_contacts", "events", "audit_log"} {
		if f.count(t, table) == 0 {
			t.Errorf("the source has no %s: the copy proves little", table)
		}
	}

	// The sealed bytes are the same, and the same key opens them.
	sealed := func(db *storage.DB) [][]byte {
		rows, err := db.Reader.Query(`SELECT address_sealed FROM victim_contacts ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out [][]byte
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		return out
	}
	a, b := sealed(src), sealed(dst)
	if len(a) != 6 || len(a) != len(b) {
		t.Fatalf("sealed contacts: %d in the source, %d in the copy", len(a), len(b))
	}
	for i := range a {
		if string(a[i]) != string(b[i]) {
			t.Fatalf("contact %d's sealed bytes changed in the copy", i)
		}
	}
	copyFixture := *f
	copyFixture.db = dst
	if err := checkVictims(t, &copyFixture, ids); err != nil {
		t.Fatalf("the copy's victims: %v", err)
	}

	// New rows go on after the copied ids.
	v := &courtside.Victim{Pseudonym: "V-NEW", LegalName: "Newname", PreferredLanguage: "en"}
	if err := storage.NewVictimService(dst).RegisterVictim(copyFixture.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	if v.ID <= ids[len(ids)-1] {
		t.Fatalf("a new victim got id %d, not after the copied %d", v.ID, ids[len(ids)-1])
	}
	if _, err := storage.NewAuditService(dst).VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}

	// A second copy into the same database is refused: it is not empty.
	if _, err := src.CopyTo(ctx, dst, nil); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("a copy into a database with rows: %v", err)
	}
}
