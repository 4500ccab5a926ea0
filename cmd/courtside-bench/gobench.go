package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// goBenchmark is one testing.B benchmark of a hot path, next to its code.
type goBenchmark struct {
	pkg, name, what string
}

// goBenchmarks are the hot paths.
var goBenchmarks = []goBenchmark{
	{"./calendar", "BenchmarkRenderHearing", "rendering one calendar object (calendar/render.go)"},
	{".", "BenchmarkDecideSend", "contact-policy evaluation of one message (courtside.DecideSend)"},
	{".", "BenchmarkRankCandidates", "ranking 50 interpreters with 500 commitments (courtside.RankCandidates)"},
	{"./storage", "BenchmarkCalendarChanges", "sync-collection diff of a 5,000-hearing calendar (storage.CalendarService.CalendarChanges)"},
}

// benchLine is one result line of `go test -bench -benchmem`.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(?:\s+(\d+) B/op\s+(\d+) allocs/op)?`)

// benchResult is one parsed result line.
type benchResult struct {
	name          string
	n             int
	nsPerOp       float64
	bytes, allocs string
}

// parseBenchOutput returns the result lines of go test's output.
func parseBenchOutput(out string) []benchResult {
	var res []benchResult
	for _, line := range strings.Split(out, "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		ns, _ := strconv.ParseFloat(m[3], 64)
		res = append(res, benchResult{name: m[1], n: n, nsPerOp: ns, bytes: m[4], allocs: m[5]})
	}
	return res
}

// goBench runs the testing.B benchmarks with `go test -bench`, one package at a time.
func (b *Bench) goBench(ctx context.Context) (*Section, error) {
	tab := Table{Header: []string{"benchmark", "what", "time per op", "B/op", "allocs/op", "iterations"}}
	var notes []string
	byPkg := map[string][]goBenchmark{}
	var order []string
	for _, gb := range goBenchmarks {
		if _, ok := byPkg[gb.pkg]; !ok {
			order = append(order, gb.pkg)
		}
		byPkg[gb.pkg] = append(byPkg[gb.pkg], gb)
	}
	for _, pkg := range order {
		var names []string
		for _, gb := range byPkg[pkg] {
			names = append(names, gb.name)
		}
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^("+strings.Join(names, "|")+")$",
			"-benchtime", b.Sizes.BenchTime, "-benchmem", "-count", "1", pkg)
		cmd.Dir = b.Root
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		results := parseBenchOutput(out.String())
		if err != nil {
			notes = append(notes, fmt.Sprintf("`go test -bench` in %s failed: %s", pkg, lastLines(out.String(), 3)))
		}
		for _, gb := range byPkg[pkg] {
			found := false
			for _, r := range results {
				if r.name == gb.name || strings.HasPrefix(r.name, gb.name+"/") {
					found = true
					tab.Rows = append(tab.Rows, []string{"`" + r.name + "`", gb.what, fmtDur(time.Duration(r.nsPerOp)),
						r.bytes, r.allocs, fmt.Sprint(r.n)})
				}
			}
			if !found {
				tab.Rows = append(tab.Rows, []string{"`" + gb.name + "`", gb.what, "not measured", "", "", ""})
			}
		}
	}
	return &Section{
		Intro: fmt.Sprintf("Go testing.B benchmarks next to the code they measure (`*_bench_test.go`), run by the harness with "+
			"`go test -run '^$' -bench ... -benchtime %s -benchmem`. Run one alone with, e.g., "+
			"`go test -run '^$' -bench BenchmarkRenderHearing ./calendar`.", b.Sizes.BenchTime),
		Tables: []Table{tab},
		Notes:  notes,
	}, nil
}
