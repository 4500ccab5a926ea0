package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
)

// eventConfig is the event router's configuration, from the environment:
//
//	COURTSIDE_EVENT_ATTEMPTS   tries of a failing event before it is parked (default 11)
//	COURTSIDE_EVENT_RETRY      the wait before the first retry, doubling up to 5 min (default 1s)
func eventConfig(getenv func(string) string) (events.Config, error) {
	var cfg events.Config
	if s := getenv("COURTSIDE_EVENT_ATTEMPTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 50 {
			return cfg, usagef("COURTSIDE_EVENT_ATTEMPTS: give a number from 1 to 50")
		}
		cfg.MaxAttempts = n
	}
	if s := getenv("COURTSIDE_EVENT_RETRY"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Millisecond || d > 5*time.Minute {
			return cfg, usagef("COURTSIDE_EVENT_RETRY: give a duration from 1ms to 5m, e.g. 1s")
		}
		cfg.RetryBase = d
	}
	return cfg, nil
}

// maxListedError is how much of a parked event's error `events failed` prints.
const maxListedError = 200

// runEventsFailed lists the parked events: `courtside events failed`.
func runEventsFailed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("events failed", &cfg, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	db, err := openExistingDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	parked, err := events.ListParked(ctx, db.Reader)
	if err != nil {
		return err
	}
	backlog, err := events.Backlog(ctx, db.Reader)
	if err != nil {
		return err
	}
	var retrying int64
	for _, b := range backlog {
		retrying += b.Retrying
	}
	if len(parked) == 0 {
		fmt.Fprintln(stdout, "No parked events.")
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tHANDLER\tEVENT TYPE\tHEARING\tATTEMPTS\tPARKED AT\tLAST ERROR")
		for _, p := range parked {
			hearing := "-"
			if p.HearingID != 0 {
				hearing = fmt.Sprint(p.HearingID)
			}
			text := strings.Join(strings.Fields(p.Error), " ")
			if len(text) > maxListedError {
				text = strings.ToValidUTF8(text[:maxListedError], "") + "…"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", p.ID, p.Group, orDash(string(p.Type)), hearing, p.Attempts,
				p.ParkedAt.UTC().Format(time.RFC3339), text)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "%d parked, %d waiting for a retry; `courtside events retry --db %s ID|--all` requeues parked events\n",
		len(parked), retrying, cfg.DB)
	return nil
}

// runEventsRetry requeues parked events: `courtside events retry [ID...|--all]`. The running
// service retries them at its next poll; without one, the next `courtside serve` does at its
// start. Each requeued event is audited.
func runEventsRetry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("events retry", &cfg, stderr)
	all := fs.Bool("all", false, "requeue every parked event")
	ids, err := parseWithIDs(fs, args)
	if err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	switch {
	case *all && len(ids) > 0:
		return usagef("give the IDs of parked events or --all, not both")
	case !*all && len(ids) == 0:
		return usagef("give the ID of a parked event (`courtside events failed` lists them) or --all")
	}
	db, err := openExistingDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	db.Waiting = waitingLine(stderr)
	tx, err := db.BeginTx(ctx)
	if err != nil {
		return err
	}
	requeued, err := events.RequeueParked(ctx, tx.Tx, ids, db.Now())
	if err != nil {
		tx.Rollback()
		return err
	}
	byGroup := map[string]int{}
	var groups []string
	for _, p := range requeued {
		tx.Audit("events.retry", fmt.Sprintf("event:%s:%s", p.EventID, p.Group), courtside.OutcomeOK)
		if byGroup[p.Group] == 0 {
			groups = append(groups, p.Group)
		}
		byGroup[p.Group]++
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if len(requeued) == 0 {
		fmt.Fprintln(stdout, "No parked events to requeue.")
		return nil
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = fmt.Sprintf("%s %d", g, byGroup[g])
	}
	fmt.Fprintf(stdout, "requeued %d (%s)\n", len(requeued), strings.Join(parts, ", "))
	fmt.Fprintln(stderr, "a running service retries them within a second; otherwise `courtside serve` does when it starts")
	return nil
}

// parseWithIDs parses flags and positional IDs in any order.
func parseWithIDs(fs *flag.FlagSet, args []string) ([]int64, error) {
	var ids []int64
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%v", err)
		}
		if fs.NArg() == 0 {
			return ids, nil
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil || id <= 0 {
			return nil, usagef("%q is not the ID of a parked event (`courtside events failed` lists them)", fs.Arg(0))
		}
		ids = append(ids, id)
		args = fs.Args()[1:]
	}
}

// waitingLine returns a storage.DB.Waiting that tells the user on stderr what the command waits
// for.
func waitingLine(stderr io.Writer) func(time.Duration) {
	return func(waited time.Duration) {
		if waited < storage.WaitingEvery {
			fmt.Fprintln(stderr, "waiting for the database: another process is writing to it (a running service works through its events); Ctrl-C to give up")
			return
		}
		fmt.Fprintf(stderr, "still waiting for the database (%s)\n", waited.Round(time.Second))
	}
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
