package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository, two levels above this package.
const repoRoot = "../.."

// readRepo reads a file of the repository.
func readRepo(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRepo_GitignoreCoversDatabasesAndKeys: `git add -A` after a demo or a test run never
// stages a database, its WAL or shared memory, its lock or an encryption key.
func TestRepo_GitignoreCoversDatabasesAndKeys(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	paths := []string{"courtside.db", "courtside.db-wal", "courtside.db-shm", "courtside.db.key", "courtside.db.lock",
		"cmd/courtside/demo.db", "new.key", "courtside"}
	out, err := exec.Command("git", append([]string{"-C", repoRoot, "check-ignore", "--no-index"}, paths...)...).Output()
	if err != nil {
		t.Fatalf("git check-ignore: %v (%s)", err, out)
	}
	ignored := strings.Fields(string(out))
	for _, p := range paths {
		if !strings.Contains(" "+strings.Join(ignored, " ")+" ", " "+p+" ") {
			t.Errorf(".gitignore does not cover %s", p)
		}
	}
}

// TestRepo_ToolchainPinned: go.mod's toolchain line is the Makefile's GOTOOLCHAIN, so that
// `go run` and `go build` from the README compile with the release `make test` uses.
func TestRepo_ToolchainPinned(t *testing.T) {
	mod := regexp.MustCompile(`(?m)^toolchain (go\S+)$`).FindStringSubmatch(readRepo(t, "go.mod"))
	mk := regexp.MustCompile(`(?m)^export GOTOOLCHAIN := (go\S+)$`).FindStringSubmatch(readRepo(t, "Makefile"))
	if mod == nil || mk == nil || mod[1] != mk[1] {
		t.Fatalf("go.mod toolchain %v, Makefile GOTOOLCHAIN %v: want one release in both", mod, mk)
	}
}

// TestRepo_EveryFuzzTargetRunsInMakeTest: every Fuzz function of the module is in the
// Makefile's FUZZ_TARGETS (run by `make fuzz`, part of `make test`), and the fuzz log is a
// temporary file of each run, not a fixed path that parallel runs would share.
func TestRepo_EveryFuzzTargetRunsInMakeTest(t *testing.T) {
	mk := readRepo(t, "Makefile")
	m := regexp.MustCompile(`(?m)^FUZZ_TARGETS := (.*)$`).FindStringSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile has no FUZZ_TARGETS")
	}
	listed := map[string]bool{}
	for _, tgt := range strings.Fields(m[1]) {
		listed[tgt] = true
	}
	fuzzFunc := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)
	found := 0
	filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != repoRoot {
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return err
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, _ := os.ReadFile(path)
		rel, _ := filepath.Rel(repoRoot, filepath.Dir(path))
		for _, f := range fuzzFunc.FindAllStringSubmatch(string(src), -1) {
			found++
			if !listed[filepath.ToSlash(rel)+":"+f[1]] {
				t.Errorf("%s:%s is not in the Makefile's FUZZ_TARGETS", rel, f[1])
			}
		}
		return nil
	})
	if found < 5 {
		t.Fatalf("found %d fuzz targets", found)
	}
	if strings.Contains(mk, "/tmp/courtside-fuzz") || !strings.Contains(mk, "mktemp") {
		t.Error("make fuzz logs to a fixed path; each run needs a temporary file of its own")
	}
}

// TestRepo_NoReferencesOutsideTheRepository: docs and code comments cite only what the
// repository holds: every Markdown file they name (docs/caldav.md, README.md ...) outside a web
// address is one of its own, and every relative link of the docs stays inside it and exists.
func TestRepo_NoReferencesOutsideTheRepository(t *testing.T) {
	mention := regexp.MustCompile(`[A-Za-z0-9_-]+\.md\b`)
	webAddress := regexp.MustCompile(`https?://\S+`)
	link := regexp.MustCompile(`\]\((\.\.?/[^)#\s]+)`)
	var files []string
	have := map[string]bool{}
	filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != repoRoot && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".md":
			have[d.Name()] = true
			files = append(files, path)
		case ".go":
			files = append(files, path)
		}
		return nil
	})
	if !have["README.md"] || !have["architecture.md"] {
		t.Fatalf("the walk found none of the repository's own Markdown files: %v", have)
	}
	for _, path := range files {
		src, _ := os.ReadFile(path)
		doc := strings.HasSuffix(path, ".md")
		for i, line := range strings.Split(string(src), "\n") {
			text := line
			if !doc {
				_, comment, ok := strings.Cut(line, "// ")
				if !ok {
					continue // code: file names in it are what it reads or writes, not citations
				}
				text = comment
			}
			for _, name := range mention.FindAllString(webAddress.ReplaceAllString(text, ""), -1) {
				if !have[name] {
					t.Errorf("%s:%d cites %s, which is not in the repository", path, i+1, name)
				}
			}
			if !doc {
				continue
			}
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := filepath.Clean(filepath.Join(filepath.Dir(path), m[1]))
				rel, err := filepath.Rel(repoRoot, target)
				if _, statErr := os.Stat(target); err != nil || strings.HasPrefix(rel, "..") || statErr != nil {
					t.Errorf("%s:%d links to %s, which is not in the repository", path, i+1, m[1])
				}
			}
		}
	}
}

// TestDocs_ImportExampleRunsOnDemo: docs/api.md's importHearings example imports into the
// demo's court as the demo's prosecutor.
func TestDocs_ImportExampleRunsOnDemo(t *testing.T) {
	doc := readRepo(t, "docs/api.md")
	_, section, _ := strings.Cut(doc, "### importHearings")
	_, block, _ := strings.Cut(section, "<<'JSON'\n")
	body, _, ok := strings.Cut(block, "\nJSON\n")
	if !ok || !strings.Contains(body, "importHearings") {
		t.Fatalf("no importHearings example in docs/api.md")
	}
	base, logins := startDemo(t)
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+logins["prosecutor"][0])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 || dig(out.Data, "importHearings", "created") != 2.0 {
		t.Fatalf("the importHearings example on the demo: %s", raw)
	}
}

// TestDeploy_UnitUsesRealSettings: every COURTSIDE_* setting the systemd unit sets is one
// `courtside serve` reads (its --help names each), the unit runs `serve`, and the proxy
// examples pass WebSocket upgrades and keep secrets in request lines out of their logs.
func TestDeploy_UnitUsesRealSettings(t *testing.T) {
	unit := readRepo(t, "deploy/courtside.service")
	_, _, help := cliResult(t, "", "serve", "--help")
	settings := regexp.MustCompile(`(?m)^Environment=(COURTSIDE_[A-Z_]+)=`).FindAllStringSubmatch(unit, -1)
	if len(settings) < 4 {
		t.Fatalf("the unit sets %d settings", len(settings))
	}
	for _, s := range settings {
		if !strings.Contains(help, s[1]) {
			t.Errorf("the unit sets %s, which serve does not read", s[1])
		}
	}
	for _, want := range []string{"ExecStart=/usr/local/bin/courtside serve\n", "User=courtside", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"ReadWritePaths=/var/lib/courtside", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "KillSignal=SIGTERM"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	if path, err := exec.LookPath("systemd-analyze"); err == nil {
		// The binary is not installed here: that one complaint is expected, no other.
		out, _ := exec.Command(path, "verify", filepath.Join(repoRoot, "deploy/courtside.service")).CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" && !strings.Contains(line, "/usr/local/bin/courtside is not executable") {
				t.Errorf("systemd-analyze verify: %s", line)
			}
		}
	}
	nginx := readRepo(t, "deploy/nginx.conf")
	for _, want := range []string{"proxy_set_header Upgrade $http_upgrade;", "proxy_http_version 1.1;", "access_log off;", "client_max_body_size"} {
		if !strings.Contains(nginx, want) {
			t.Errorf("deploy/nginx.conf lacks %q", want)
		}
	}
	if caddy := readRepo(t, "deploy/Caddyfile"); !strings.Contains(caddy, "reverse_proxy 127.0.0.1:8080") {
		t.Error("deploy/Caddyfile does not proxy to the service")
	}
}
