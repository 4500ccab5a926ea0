package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"

	"courtside/calendar"
	"courtside/storage"
)

// profileCalDAV runs each CalDAV operation under the CPU profiler against calendar's real
// handler in-process, over the database the measured server uses (SQLite's WAL lets both
// open it), wired as serve wires it. It writes caldav-<operation>.pprof into b.Profile.
func (b *Bench) profileCalDAV(ctx context.Context, dbPath string, ops []*davOp, like *davTarget, times int) ([]string, error) {
	db, err := b.openStore(dbPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	h := calendar.NewHandler(calendar.Config{Users: storage.NewUserService(db), Tokens: storage.NewTokenService(db), Calendars: storage.NewCalendarService(db), Availability: storage.NewAvailabilityService(db), Bookings: storage.NewBookingService(db),
		Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(h)
	defer srv.Close()
	t := &davTarget{name: "Courtside in-process", base: srv.URL, coll: like.coll, auth: like.auth, client: newClient(), token: like.token}
	var files []string
	for i, op := range ops {
		path := filepath.Join(b.Profile, "caldav-"+op.short+".pprof")
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		for round := 0; round < times; round++ {
			if op.before != nil {
				if err := op.before(ctx, t, 1000+i*times+round); err != nil {
					pprof.StopCPUProfile()
					f.Close()
					return nil, err
				}
			}
			if _, _, err := op.send(ctx, t); err != nil {
				pprof.StopCPUProfile()
				f.Close()
				return nil, fmt.Errorf("in-process: %w", err)
			}
		}
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return nil, err
		}
		files = append(files, path)
	}
	return files, nil
}
