package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"courtside"
	"courtside/storage"
)

// serviceGroups are the consumer groups a running service works the event log with, in the
// order it registers them.
var serviceGroups = []string{noticePlanner, reminderPlanner, calendarProjection, liveFeed}

// importProgress returns the progress callback of `courtside import hearings`: one line on w,
// rewritten in place, with the phase and the lines done.
func importProgress(w io.Writer) func(courtside.ImportProgress) {
	var phase courtside.ImportPhase
	return func(p courtside.ImportProgress) {
		if phase != "" && p.Phase != phase {
			fmt.Fprintln(w) // the finished phase keeps its line
		}
		phase = p.Phase
		switch p.Phase {
		case courtside.ImportParsing:
			fmt.Fprintf(w, "\rread %d lines", p.Done)
		case courtside.ImportWriting:
			fmt.Fprintf(w, "\rwrote %d of %d hearings", p.Done, p.Total)
		}
	}
}

// backlogPoll is how often followBacklog looks at the event log; backlogPatience is how long
// it waits without seeing the backlog shrink before it leaves the service to it.
const (
	backlogPoll     = 250 * time.Millisecond
	backlogPatience = 30 * time.Second
)

// followBacklog shows, after an import has committed, the events the service has still to
// work through for it (calendars, reminders, notices): the largest backlog of its consumer
// groups. While a service holds the database it follows the backlog down to zero, or until it
// stops shrinking for backlogPatience or ctx ends; without a service it says that the work
// waits for one. The import itself is done either way.
func followBacklog(ctx context.Context, db *storage.DB, dbPath string, w io.Writer) {
	largest := func() (int64, error) {
		backlog, err := db.EventBacklog(ctx, serviceGroups...)
		if err != nil {
			return 0, err
		}
		var n int64
		for _, v := range backlog {
			n = max(n, v)
		}
		return n, nil
	}
	n, err := largest()
	if err != nil {
		return
	}
	running := serviceRunning(dbPath)
	if !running && n > 0 {
		fmt.Fprintf(w, "%d events wait for the service (calendars, reminders, notices); they are handled when `courtside serve` runs\n", n)
		return
	} else if !running {
		return
	}
	lastChange := time.Now()
	for n > 0 {
		fmt.Fprintf(w, "\rthe service has %d events to work through (calendars, reminders, notices)   ", n)
		select {
		case <-ctx.Done():
			fmt.Fprintln(w)
			return
		case <-time.After(backlogPoll):
		}
		next, err := largest()
		if err != nil {
			fmt.Fprintln(w)
			return
		}
		if next < n {
			lastChange = time.Now()
		} else if time.Since(lastChange) > backlogPatience {
			fmt.Fprintf(w, "\rthe service has %d events to work through; it goes on in the background\n", next)
			return
		}
		n = next
	}
	fmt.Fprintf(w, "\rthe service has worked through the import's events%s\n", "                              ")
}

// serviceRunning reports whether a service holds the database's lock.
func serviceRunning(dbPath string) bool {
	l, err := lockDB(dbPath, holderLine("courtside (probe)"), false)
	if err != nil {
		return true
	}
	l.Release()
	return false
}
