package calendar_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"courtside/calendar"
	"courtside/storage"
)

// TestVdirsyncer syncs an advocate's hearings calendar into a directory with vdirsyncer, a
// real CalDAV client that discovers from the server's root, then syncs a cancellation.
func TestVdirsyncer(t *testing.T) {
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

[pair hearings]
a = "courtside"
b = "local"
collections = ["hearings"]

[storage courtside]
type = "caldav"
url = "%[2]s/"
username = "adv"
password = "%[3]s"
read_only = true

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
	// synced returns the local copies, by UID.
	synced := func() map[string]string {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(dir, "local", "hearings", "*.ics"))
		out := map[string]string{}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []int64{w.h1.ID, w.h2.ID, w.h3.ID} {
				if strings.Contains(string(b), "UID:"+calendar.UID(id)) {
					out[calendar.UID(id)] = string(b)
				}
			}
		}
		return out
	}

	run("discover")
	run("sync")
	got := synced()
	if len(got) != 2 || got[calendar.UID(w.h1.ID)] == "" || got[calendar.UID(w.h2.ID)] == "" {
		t.Fatalf("synced %d hearings: %v", len(got), got)
	}

	if _, err := storage.NewHearingService(w.db).CancelHearing(w.as(w.prosecutor), w.h2.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	run("sync")
	if ev := synced()[calendar.UID(w.h2.ID)]; !strings.Contains(ev, "STATUS:CANCELLED") || !strings.Contains(ev, "SEQUENCE:1") {
		t.Errorf("after the cancellation the local copy is:\n%s", ev)
	}
}
