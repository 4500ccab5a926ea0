package main_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoRun is a `courtside serve --demo` started without --db.
type demoRun struct {
	cmd    *exec.Cmd
	url    string
	dbPath string
	tokens map[string][2]string
	out    []string
}

// startDemoNoDB runs the demo as the README's first command does, in dir, without --db or
// COURTSIDE_DB.
func startDemoNoDB(t *testing.T, dir string) *demoRun {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--demo", "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COURTSIDE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("demo log:\n%s", logs.String())
		}
	})
	d := &demoRun{cmd: cmd, tokens: map[string][2]string{}}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		d.out = append(d.out, line)
		if f := strings.Fields(line); len(f) == 4 && strings.HasPrefix(f[2], "cs_api_") {
			d.tokens[f[0]] = [2]string{f[2], f[3]}
		}
		if rest, ok := strings.CutPrefix(line, "Demo database: "); ok {
			d.dbPath, _, _ = strings.Cut(rest, " ")
		}
		if base, ok := strings.CutPrefix(line, "listening on "); ok {
			d.url = base
			go io.Copy(io.Discard, stdout)
			return d
		}
	}
	t.Fatalf("demo did not start; stdout %q", d.out)
	return nil
}

// TestDemo_DatabaseOutsideWorkingDirectory: the demo without --db puts its database and key in
// a temporary directory it names, not in the directory it runs in (a clone of the
// repository), and removes them when it stops.
func TestDemo_DatabaseOutsideWorkingDirectory(t *testing.T) {
	cwd := t.TempDir()
	d := startDemoNoDB(t, cwd)
	if d.dbPath == "" || !filepath.IsAbs(d.dbPath) || strings.HasPrefix(d.dbPath, cwd) {
		t.Fatalf("demo database %q (stdout %q)", d.dbPath, d.out)
	}
	for _, p := range []string{d.dbPath, d.dbPath + ".key"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("the demo's %s: %v", p, err)
		}
	}
	if names := dirEntries(t, cwd); len(names) != 0 {
		t.Fatalf("the demo wrote %v into its working directory", names)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(d.dbPath)); err == nil {
		t.Fatalf("the demo's directory %s outlived the demo", filepath.Dir(d.dbPath))
	}
}

// TestDemo_OutboxShowsVictimMessage: a continuance in the demo reaches the victim under her
// policy (SMS, Spanish, neutral sender, no court named) and the advocate by e-mail, both in
// the demo's outbox page; nothing is SUPPRESSED or FAILED for want of a channel.
func TestDemo_OutboxShowsVictimMessage(t *testing.T) {
	d := startDemoNoDB(t, t.TempDir())
	data := mustGQL(t, d.url, d.tokens["prosecutor"][0], `mutation { rescheduleHearing(id: "1", startsAt: "2030-01-15T15:00:00Z",
		endsAt: "2030-01-15T16:00:00Z", reason: "judge unavailable") { id sequence } }`, nil)
	if dig(data, "rescheduleHearing", "sequence") != 1.0 {
		t.Fatalf("reschedule: %v", data)
	}
	var page string
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(d.url + "/demo/outbox")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page = string(raw)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("GET /demo/outbox: %d %q", resp.StatusCode, page)
		}
		if strings.Contains(page, "SMS to +12025550143  (HEARING_CHANGED, es)") && strings.Contains(page, "EMAIL to advocate@example.org  (HEARING_CHANGED, en)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox lacks the continuance's messages:\n%s", page)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, sms, _ := strings.Cut(page, "SMS to +12025550143  (HEARING_CHANGED, es)")
	sms, _, _ = strings.Cut(sms, "\n---- ")
	if !strings.Contains(sms, "From: Harbor Health") || !strings.Contains(sms, "15 de enero de 2030") ||
		strings.Contains(sms, "Court") || strings.Contains(sms, "Demo Person") || strings.Contains(sms, "26-CR-01042") {
		t.Fatalf("the victim's SMS:\n%s", sms)
	}
	deliveries := mustGQL(t, d.url, d.tokens["coordinator"][0], `{ deliveries(hearingId: "1") { channel status } }`, nil)
	list := dig(deliveries, "deliveries").([]any)
	if len(list) < 2 {
		t.Fatalf("the coordinator sees %d deliveries about hearing 1", len(list))
	}
	for _, del := range list {
		if st := dig(del, "status"); st == "FAILED" || st == "SUPPRESSED" {
			t.Errorf("a demo delivery is %v: %v", st, del)
		}
	}
}
