package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
)

// benchCourt is the court every generated hearing sits in.
const benchCourt = "Superior Court, Bench Courthouse"

// benchOffice is the prosecutor's office of the generated dockets.
const benchOffice = "Bench County Prosecutor"

// openStore opens a database of the run in-process, with the run's key and the event publisher.
func (b *Bench) openStore(path string) (*storage.DB, error) {
	db := storage.NewDB(path)
	db.Publish = events.PublishTx
	key, err := storage.ParseKey(b.Key)
	if err != nil {
		return nil, err
	}
	if db.Sealer, err = storage.NewSealer(key); err != nil {
		return nil, err
	}
	if err := db.Open(); err != nil {
		return nil, err
	}
	return db, nil
}

// seedOffice creates an administrator, a prosecutor of benchOffice and benchCourt in db, and
// returns the prosecutor and the court.
func seedOffice(ctx context.Context, db *storage.DB) (*courtside.User, *courtside.Court, error) {
	admin, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "bench-admin", Role: courtside.RoleAdmin}})
	if err != nil {
		return nil, nil, err
	}
	pros, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "bench-pros", Role: courtside.RoleProsecutor},
		OrganizationName: benchOffice})
	if err != nil {
		return nil, nil, err
	}
	court := &courtside.Court{Name: benchCourt, TimeZone: "America/New_York", Address: "1 Bench Plaza"}
	if err := storage.NewCourtService(db).CreateCourt(courtside.NewContextWithUser(ctx, admin), court); err != nil {
		return nil, nil, err
	}
	return pros, court, nil
}

// writeDocket writes a docket CSV of n hearings, five per case, over two years of weekdays.
func writeDocket(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(courtside.ImportColumns)
	kinds := courtside.HearingKinds
	base := time.Date(2031, 1, 6, 14, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		start := base.Add(time.Duration(i%500)*24*time.Hour + time.Duration(i/500%8)*time.Hour)
		w.Write([]string{fmt.Sprintf("B-%07d", i), fmt.Sprintf("31-CR-%06d", i/5), benchCourt, string(kinds[i%len(kinds)]),
			start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339), fmt.Sprintf("%dB", 1+i%9),
			fmt.Sprintf("Judge of Part %d", 1+i%12), "SCHEDULED"})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// importDocket measures `courtside import hearings` of the docket against a raw SQLite insert
// of the same rows in one transaction, with the same driver and pragmas.
func (b *Bench) importDocket(ctx context.Context) (*Section, error) {
	n := b.Sizes.ImportRows
	csvPath := filepath.Join(b.Dir, "docket.csv")
	if err := writeDocket(csvPath, n); err != nil {
		return nil, err
	}
	// Courtside: the real command, on a database with the office and the court.
	dbPath := filepath.Join(b.Dir, "import.db")
	db, err := b.openStore(dbPath)
	if err != nil {
		return nil, err
	}
	if _, _, err := seedOffice(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	db.Close()

	// Raw SQLite first and last, Courtside in between: the reference brackets the measurement.
	raw1, err := rawImport(ctx, filepath.Join(b.Dir, "raw1.db"), csvPath)
	if err != nil {
		return nil, fmt.Errorf("raw sqlite: %w", err)
	}
	b.Log("raw sqlite: %d rows in %s", n, raw1)
	t0 := time.Now()
	out, err := b.cli(ctx, "", "import", "hearings", "--db", dbPath, "--org", benchOffice, "--file", csvPath)
	if err != nil {
		return nil, err
	}
	took := time.Since(t0)
	if want := fmt.Sprintf("created %d,", n); !strings.Contains(out, want) {
		return nil, fmt.Errorf("import printed %q, want %q", strings.TrimSpace(out), want)
	}
	b.Log("courtside import: %d rows in %s", n, took)
	raw2, err := rawImport(ctx, filepath.Join(b.Dir, "raw2.db"), csvPath)
	if err != nil {
		return nil, fmt.Errorf("raw sqlite: %w", err)
	}
	raw := min(raw1, raw2)
	rate := float64(n) / took.Seconds()
	rawRate := float64(n) / raw.Seconds()
	ratio := rate / rawRate

	sec := &Section{
		Intro: fmt.Sprintf("A docket CSV of %s hearings (five per case, %s cases, one court) through the real "+
			"`courtside import hearings` (process start, parsing and validation, one transaction: cases, hearings, "+
			"audit row, events), against the same CSV read and inserted by a minimal Go program: the same "+
			"mattn/go-sqlite3 driver and pragmas (WAL, synchronous=FULL), the same `cases` and `hearings` tables "+
			"and indexes, no triggers, audit or events, one transaction. The reference runs before and after "+
			"the import; the faster of the two counts.", fmtInt(n), fmtInt(n/5)),
		Targets: []Target{{Figure: "import rate as a share of raw SQLite", Value: fmt.Sprintf("%.0f%% (%s rows/s against %s rows/s)",
			ratio*100, fmtRate(rate), fmtRate(rawRate)), Goal: "≥ 25%", Measured: true, Pass: ratio >= 0.25}},
		Tables: []Table{{Header: []string{"", "rows", "time", "rows/s"}, Rows: [][]string{
			{"courtside import hearings", fmt.Sprint(n), fmtDur(took), fmtRate(rate)},
			{"raw SQLite, before", fmt.Sprint(n), fmtDur(raw1), fmtRate(float64(n) / raw1.Seconds())},
			{"raw SQLite, after", fmt.Sprint(n), fmtDur(raw2), fmtRate(float64(n) / raw2.Seconds())},
		}}},
	}
	if b.Profile != "" {
		if err := b.profileImport(ctx, csvPath); err != nil {
			return nil, err
		}
		sec.Notes = append(sec.Notes, "A CPU profile of an in-process import was written to "+filepath.Join(b.Profile, "import.pprof")+".")
	}
	return sec, nil
}

// profileImport imports the docket in-process into a fresh database under the CPU profiler.
func (b *Bench) profileImport(ctx context.Context, csvPath string) error {
	db, err := b.openStore(filepath.Join(b.Dir, "import-profile.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	pros, _, err := seedOffice(ctx, db)
	if err != nil {
		return err
	}
	f, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	defer f.Close()
	pf, err := os.Create(filepath.Join(b.Profile, "import.pprof"))
	if err != nil {
		return err
	}
	defer pf.Close()
	if err := pprof.StartCPUProfile(pf); err != nil {
		return err
	}
	t0 := time.Now()
	_, err = storage.NewImportService(db).ImportHearings(courtside.NewContextWithUser(ctx, pros), f, nil)
	pprof.StopCPUProfile()
	b.Log("in-process import under the profiler: %s", time.Since(t0))
	return err
}

// rawSchema is the shape of Courtside's cases and hearings tables, without the rest.
const rawSchema = `
CREATE TABLE cases (id INTEGER PRIMARY KEY, docket TEXT NOT NULL, court_id INTEGER NOT NULL,
    organization_id INTEGER NOT NULL, created_at TEXT NOT NULL, UNIQUE (court_id, docket));
CREATE INDEX cases_org ON cases (organization_id);
CREATE TABLE hearings (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases (id),
    court_id INTEGER NOT NULL, organization_id INTEGER NOT NULL, kind TEXT NOT NULL, starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL, courtroom TEXT NOT NULL DEFAULT '', judge TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL, sequence INTEGER NOT NULL DEFAULT 0, external_id TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE UNIQUE INDEX hearings_external ON hearings (organization_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX hearings_case ON hearings (case_id, starts_at);
CREATE INDEX hearings_starts ON hearings (starts_at, id);`

// rawDSN is the go-sqlite3 data source name with Courtside's pragmas.
func rawDSN(path string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode() + "&_txlock=immediate"
}

// rawImport reads the CSV and inserts its rows into a fresh database with rawSchema in one
// transaction, and returns how long that took (from opening the CSV to the commit).
func rawImport(ctx context.Context, dbPath, csvPath string) (time.Duration, error) {
	db, err := sql.Open("sqlite3", rawDSN(dbPath))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, rawSchema); err != nil {
		return 0, err
	}
	t0 := time.Now()
	f, err := os.Open(csvPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil {
		return 0, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	insCase, err := tx.PrepareContext(ctx, `INSERT INTO cases (docket, court_id, organization_id, created_at) VALUES (?, 1, 1, ?)`)
	if err != nil {
		return 0, err
	}
	insHearing, err := tx.PrepareContext(ctx, `INSERT INTO hearings (case_id, court_id, organization_id, kind, starts_at, ends_at,
		courtroom, judge, status, external_id, created_at, updated_at) VALUES (?, 1, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	cases := map[string]int64{}
	now := time.Now().UTC().Format(storage.TimeFormat)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, err
		}
		caseID, ok := cases[rec[1]]
		if !ok {
			res, err := insCase.ExecContext(ctx, rec[1], now)
			if err != nil {
				return 0, err
			}
			if caseID, err = res.LastInsertId(); err != nil {
				return 0, err
			}
			cases[rec[1]] = caseID
		}
		start, err1 := time.Parse(time.RFC3339, rec[4])
		end, err2 := time.Parse(time.RFC3339, rec[5])
		if err := errors.Join(err1, err2); err != nil {
			return 0, err
		}
		if _, err := insHearing.ExecContext(ctx, caseID, rec[3], start.UTC().Format(storage.TimeFormat), end.UTC().Format(storage.TimeFormat),
			rec[6], rec[7], rec[8], rec[0], now, now); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}
