// Command courtside-bench runs every benchmark in one run and writes
// docs/benchmarks.md: CalDAV against Radicale and against a do-nothing HTTP floor, the hearings
// calendars at 1k, 5k and 20k hearings beside the availability calendar and Radicale, fan-out,
// docket import against raw SQLite, a nested GraphQL query, the web app's pages, resident memory
// at scale, the Go testing.B benchmarks of the hot paths, hostile load, the write path under
// concurrent clients, and PostgreSQL (one and two instances) beside SQLite. Every comparison is
// between figures measured in the same run, so the ratios hold on a noisy, shared machine. A run
// of some sections (-only) merges them into the report it writes over.
//
// Usage (from the module root; `make bench` builds the binary and runs this):
//
//	go run ./cmd/courtside-bench -courtside /tmp/courtside [-quick] [-out docs/benchmarks.md]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// Sizes are the sizes of one run; -quick scales them down for a smoke test.
type Sizes struct {
	Events          int // VEVENTs loaded into each CalDAV server
	Rounds          int // interleaved rounds of each CalDAV operation
	RadicaleBudget  time.Duration
	RadicalePuts    int // PUTs timed one by one on Radicale at each of two fill levels (the rest are loaded by PUT of the collection)
	ImportRows      int
	GraphHearings   int
	GraphRequests   int
	MemHearings     int
	MemDeliveries   int
	BenchTime       string // -benchtime of the Go benchmarks
	MultigetSize    int
	CalendarMonths  int // the months the events are spread over
	GraphWarmupRuns int
	Reschedules     int   // reschedules of the fan-out section, one after another
	PageHearings    int   // hearings behind the web app's pages
	PageRequests    int   // requests of each page
	CalendarScales  []int // the hearings calendars' sizes, smallest first
	CalendarRounds  int   // interleaved rounds at each of them

	// The write-path section: hearings imported, the length of each phase of the mix, and the
	// reschedules timed with and without readers (each).
	WriteHearings    int
	WritePhase       time.Duration
	WriteReschedules int

	// The PostgreSQL section: each round's phase of each write workload per configuration, the
	// rounds, the fan-out's reschedules per configuration, and the hearings of the CalDAV reads
	// with their rounds.
	PGPhase       time.Duration
	PGRounds      int
	PGReschedules int
	PGHearings    int
	PGReadRounds  int
}

// fullSizes are the sizes the targets are stated for.
var fullSizes = Sizes{Events: 5000, Rounds: 30, RadicaleBudget: 60 * time.Second, RadicalePuts: 20,
	ImportRows: 50_000, GraphHearings: 100, GraphRequests: 500, MemHearings: 100_000, MemDeliveries: 1_000_000,
	BenchTime: "1s", MultigetSize: 50, CalendarMonths: 12, GraphWarmupRuns: 20,
	Reschedules: 1000, PageHearings: 5000, PageRequests: 100, CalendarScales: []int{1000, 5000, 20_000}, CalendarRounds: 15,
	WriteHearings: 200, WritePhase: 20 * time.Second, WriteReschedules: 300,
	PGPhase: 4 * time.Second, PGRounds: 3, PGReschedules: 100, PGHearings: 5000, PGReadRounds: 40}

// quickSizes make a smoke test of every code path.
var quickSizes = Sizes{Events: 300, Rounds: 5, RadicaleBudget: 5 * time.Second, RadicalePuts: 5,
	ImportRows: 2000, GraphHearings: 20, GraphRequests: 40, MemHearings: 5000, MemDeliveries: 20_000,
	BenchTime: "100x", MultigetSize: 50, CalendarMonths: 12, GraphWarmupRuns: 3,
	Reschedules: 40, PageHearings: 500, PageRequests: 5, CalendarScales: []int{100, 300, 1000}, CalendarRounds: 3,
	WriteHearings: 56, WritePhase: 3 * time.Second, WriteReschedules: 25,
	PGPhase: time.Second, PGRounds: 2, PGReschedules: 25, PGHearings: 300, PGReadRounds: 5}

// Bench is one run of the harness.
type Bench struct {
	Sizes     Sizes
	Courtside string // the courtside binary
	Radicale  string // the radicale command
	Dir       string // scratch directory, removed at the end
	Key       string // the encryption key of every database of the run, hex
	Root      string // the module root
	Log       func(format string, args ...any)
	Profile   string // directory for CPU profiles of the in-process sections, or ""
}

// sectionNames are the sections -only accepts, in report order.
var sectionNames = []string{"caldav", "hearings", "fanout", "import", "graphql", "pages", "memory", "gobench", "attack", "writepath", "postgres"}

func main() {
	quick := flag.Bool("quick", false, "scaled-down sizes: a smoke test of every section, not comparable with the targets")
	out := flag.String("out", "", "the report to write; default: docs/benchmarks.md, and for -quick a file in the temporary directory")
	bin := flag.String("courtside", "", "the courtside binary; default: built from ./cmd/courtside into a temporary directory")
	radicale := flag.String("radicale", "radicale", "the radicale command (Debian's package radicale)")
	only := flag.String("only", strings.Join(sectionNames, ","), "comma-separated sections to run: "+strings.Join(sectionNames, ", "))
	profile := flag.String("profile", "", "write CPU profiles of the in-process sections (import, graphql) into this directory")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "courtside-bench: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		s = strings.TrimSpace(s)
		if !contains(sectionNames, s) {
			fmt.Fprintf(os.Stderr, "courtside-bench: -only: unknown section %q (one of %s)\n", s, strings.Join(sectionNames, ", "))
			os.Exit(2)
		}
		want[s] = true
	}
	if *out == "" {
		*out = "docs/benchmarks.md"
		if *quick {
			*out = filepath.Join(os.TempDir(), "courtside-benchmarks-quick.md")
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *quick, *out, *bin, *radicale, *profile, want); err != nil {
		fmt.Fprintln(os.Stderr, "courtside-bench:", err)
		os.Exit(1)
	}
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// run measures the sections in want and writes the report to out.
func run(ctx context.Context, quick bool, out, bin, radicale, profile string, want map[string]bool) error {
	started := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "courtside-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	b := &Bench{Sizes: fullSizes, Radicale: radicale, Dir: dir, Key: hex.EncodeToString(key), Root: root, Profile: profile,
		Log: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "[%5.0fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
		}}
	if quick {
		b.Sizes = quickSizes
	}
	if bin == "" {
		bin = filepath.Join(dir, "courtside")
		b.Log("building courtside")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/courtside")
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build courtside: %w", err)
		}
	}
	if b.Courtside, err = filepath.Abs(bin); err != nil {
		return err
	}
	if profile != "" {
		if err := os.MkdirAll(profile, 0o755); err != nil {
			return err
		}
	}

	cmdline := "make bench"
	if quick {
		cmdline = "go run ./cmd/courtside-bench -quick"
	}
	// A run of some sections merges them into the report it writes over (merge.go).
	var ran []string
	for _, name := range sectionNames {
		if want[name] {
			ran = append(ran, name)
		}
	}
	merging := len(ran) < len(sectionNames)
	if merging {
		cmdline = "go run ./cmd/courtside-bench -only " + strings.Join(ran, ",")
		if quick {
			cmdline += " -quick"
		}
	}
	rep := &Report{Started: started, Quick: quick, Command: cmdline, Machine: machine(), Versions: b.versions(ctx)}
	steps := []struct {
		name, title string
		fn          func(context.Context) (*Section, error)
	}{
		{"caldav", "CalDAV against Radicale and the loopback floor", b.caldav},
		{"hearings", "Hearings calendars at scale", b.hearingsCalendars},
		{"fanout", "Fan-out of a reschedule", b.fanout},
		{"import", "Docket import against raw SQLite", b.importDocket},
		{"graphql", "Nested GraphQL query", b.graphQL},
		{"pages", "Web app pages", b.pages},
		{"memory", "Resident memory at scale", b.memory},
		{"gobench", "Go benchmarks of the hot paths", b.goBench},
		{"attack", "Hostile load", b.attack},
		{"writepath", "The write path under concurrent clients", b.writePath},
		{"postgres", "PostgreSQL beside SQLite", b.postgres},
	}
	for _, s := range steps {
		if !want[s.name] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b.Log("section %s", s.name)
		t0 := time.Now()
		sec, err := s.fn(ctx)
		if err != nil {
			b.Log("section %s failed: %v", s.name, err)
			sec = notMeasured(s.title, "the run failed: "+err.Error())
		}
		sec.Title = s.title
		sec.Number = 1 + indexOf(sectionNames, s.name)
		sec.Notes = append(sec.Notes, fmt.Sprintf("This section took %s.", time.Since(t0).Round(time.Second)))
		if merging {
			sec.Notes = append(sec.Notes, fmt.Sprintf("Measured by `%s` in a run of its own started %s UTC (courtside commit %s), "+
				"merged into this report: the machine, versions and other sections above are those of the run that wrote them.",
				cmdline, started.UTC().Format("2006-01-02 15:04"), kvValue(rep.Versions, "courtside commit")))
		}
		rep.Sections = append(rep.Sections, sec)
	}
	rep.Appendix = profileFixes + calendarFixes + writePathFixes
	rep.Took = time.Since(started)
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.Machine = append(rep.Machine, KV{"load average at the end (1, 5, 15 min)", strings.Join(strings.Fields(string(data))[:3], " ")})
	}
	var buf bytes.Buffer
	if err := rep.WriteMarkdown(&buf); err != nil {
		return err
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	text := buf.String()
	if old, err := os.ReadFile(out); err == nil && merging {
		if text, err = mergeReport(string(old), text); err != nil {
			return fmt.Errorf("merge into %s: %w (name another file with -out)", out, err)
		}
		b.Log("merged %s into %s", strings.Join(ran, ", "), out)
	}
	if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
		return err
	}
	b.Log("wrote %s", out)
	return nil
}

// indexOf returns the place of s in list, or -1.
func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// kvValue returns the value labelled key, or "unknown".
func kvValue(kvs []KV, key string) string {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value
		}
	}
	return "unknown"
}

// moduleRoot returns the directory of go.mod, searching up from the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(data, []byte("module courtside")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("run courtside-bench inside the courtside module (no go.mod above %s)", dir)
		}
	}
}

// machine describes the machine from /proc.
func machine() []KV {
	cpu := "unknown"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		for _, line := range strings.Split(string(data), "\n") {
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				break
			}
		}
	}
	kernel := "unknown"
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(data))
	}
	load := "unknown"
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	return []KV{{"CPU", cpu}, {"cores", fmt.Sprint(runtime.NumCPU())}, {"RAM", mem}, {"kernel", kernel},
		{"load average at start (1, 5, 15 min)", load}}
}

// versions names what was measured.
func (b *Bench) versions(ctx context.Context) []KV {
	out := func(name string, args ...string) string {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = b.Root
		data, err := cmd.Output()
		if err != nil {
			return "unknown (" + err.Error() + ")"
		}
		return strings.TrimSpace(string(data))
	}
	commit := out("git", "rev-parse", "--short=12", "HEAD")
	if s := out("git", "status", "--porcelain", "--untracked-files=no"); s != "" && !strings.HasPrefix(s, "unknown") {
		commit += " with uncommitted changes"
	}
	sqliteVersion := "unknown"
	if db, err := sql.Open("sqlite3", ":memory:"); err == nil {
		db.QueryRow(`SELECT sqlite_version()`).Scan(&sqliteVersion)
		db.Close()
	}
	return []KV{{"courtside commit", commit}, {"Go", runtime.Version()},
		{"SQLite (mattn/go-sqlite3)", sqliteVersion}, {"Radicale", out(b.Radicale, "--version")},
		{"Python (Radicale's)", out("/usr/bin/python3", "--version")}}
}
