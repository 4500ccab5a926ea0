package calendar_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// TestVdirsyncerAvailability syncs an advocate's availability calendar both ways with
// vdirsyncer: an event created locally reaches the server, one created on the server reaches
// the directory, edits travel both ways, and so do deletions.
func TestVdirsyncerAvailability(t *testing.T) {
	bin, err := exec.LookPath("vdirsyncer")
	if err != nil {
		t.Fatal("vdirsyncer is not installed: run `make test`, which installs it")
	}
	t.Parallel()
	w := newWorld(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	err = os.WriteFile(config, []byte(fmt.Sprintf(`[general]
status_path = "%[1]s/status/"

[pair availability]
a = "courtside"
b = "local"
collections = ["availability"]
conflict_resolution = "a wins"

[storage courtside]
type = "caldav"
url = "%[2]s/"
username = "adv"
password = "%[3]s"

[storage local]
type = "filesystem"
path = "%[1]s/local/"
fileext = ".ics"
`, dir, w.srv.URL, w.secrets["adv"])), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"-c", config}, args...)...)
		cmd.Stdin = strings.NewReader("y\n") // create the local collection
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("vdirsyncer %v: %v\n%s", args, err, out)
		}
	}
	local := filepath.Join(dir, "local", "availability")
	// localUIDs returns the UIDs in the local directory, with each file's content.
	localUIDs := func() map[string]string {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(local, "*.ics"))
		out := map[string]string{}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, uid := range []string{"local-1", "server-1"} {
				if strings.Contains(string(b), "UID:"+uid) {
					out[uid] = f
				}
			}
		}
		return out
	}
	// server returns the UIDs on the server, with each object's busy end.
	server := func() map[string]time.Time {
		t.Helper()
		objs, err := storage.NewAvailabilityService(w.db).FindAvailabilityObjects(w.as(w.advocate), courtside.AvailabilityCalendar)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := storage.NewAvailabilityService(w.db).FindBusyBlocks(w.as(w.advocate), t0.Add(-24*time.Hour), t0.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]time.Time{}
		for _, o := range objs {
			out[o.UID] = time.Time{}
			for _, b := range blocks {
				if b.Object == o.Name {
					out[o.UID] = b.End
				}
			}
		}
		return out
	}

	run("discover")
	run("sync")
	if err := os.WriteFile(filepath.Join(local, "local-1.ics"), []byte(vevent("local-1", t0, t0.Add(time.Hour))), 0o600); err != nil {
		t.Fatal(err)
	}
	serverPath := calendar.AvailabilityPath("adv") + "server-1.ics"
	if resp, _ := w.do(request{method: "PUT", path: serverPath, user: w.advocate, body: vevent("server-1", t0.Add(3*time.Hour), t0.Add(4*time.Hour)),
		header: icalHeader}); resp.StatusCode != 201 {
		t.Fatalf("PUT on the server: %d", resp.StatusCode)
	}
	run("sync")
	if s := server(); !s["local-1"].Equal(t0.Add(time.Hour)) || !s["server-1"].Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("server after the first two-way sync: %v", s)
	}
	l := localUIDs()
	if l["local-1"] == "" || l["server-1"] == "" {
		t.Fatalf("local after the first two-way sync: %v", l)
	}

	// Edits both ways.
	if err := os.WriteFile(l["local-1"], []byte(vevent("local-1", t0, t0.Add(2*time.Hour))), 0o600); err != nil {
		t.Fatal(err)
	}
	if resp, _ := w.do(request{method: "PUT", path: serverPath, user: w.advocate, body: vevent("server-1", t0.Add(3*time.Hour), t0.Add(5*time.Hour)),
		header: icalHeader}); resp.StatusCode != 204 {
		t.Fatalf("overwrite on the server: %d", resp.StatusCode)
	}
	run("sync")
	if s := server(); !s["local-1"].Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("server after a local edit: %v", s)
	}
	if b, err := os.ReadFile(localUIDs()["server-1"]); err != nil || !strings.Contains(string(b), "DTEND:20261201T180000Z") {
		t.Fatalf("local copy after a server edit: %v\n%s", err, b)
	}

	// Deletions both ways.
	if err := os.Remove(localUIDs()["local-1"]); err != nil {
		t.Fatal(err)
	}
	if resp, _ := w.do(request{method: "DELETE", path: serverPath, user: w.advocate}); resp.StatusCode != 204 {
		t.Fatalf("DELETE on the server: %d", resp.StatusCode)
	}
	run("sync")
	if s := server(); len(s) != 0 {
		t.Fatalf("server after deletions: %v", s)
	}
	if l := localUIDs(); len(l) != 0 {
		t.Fatalf("local after deletions: %v", l)
	}
}
