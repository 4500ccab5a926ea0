package main_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestREADME_TourShowsVictimMessage follows the README's five-minute tour word for word: the
// demo (the built binary in place of `go run`, on a free port), then each shell block of the
// tour through bash, with the prosecutor's token and the demo's address put in where the README
// says. The tour ends by showing the message the victim received about the continuance.
func TestREADME_TourShowsVictimMessage(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the tour uses curl, which is not installed")
	}
	readme := readRepo(t, "README.md")
	_, tour, ok := strings.Cut(readme, "## A five-minute tour")
	if !ok {
		t.Fatal("README.md has no five-minute tour")
	}
	tour, _, _ = strings.Cut(tour, "### Subscribing by feed")
	var blocks []string
	for _, part := range strings.Split(tour, "```sh\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		blocks = append(blocks, block)
	}
	if len(blocks) < 4 || strings.TrimSpace(blocks[0]) != "go run ./cmd/courtside serve --demo" {
		t.Fatalf("the tour's shell blocks: %q", blocks)
	}
	d := startDemoNoDB(t, t.TempDir())
	token := d.tokens["prosecutor"][0]
	var outputs []string
	for i, block := range blocks[1:] {
		script := strings.ReplaceAll(block, "http://127.0.0.1:8080", d.url)
		script = strings.Replace(script, "TOKEN=cs_api_...", "TOKEN="+token, 1)
		if i > 0 {
			script = "TOKEN=" + token + "\n" + script // the shell of the earlier blocks keeps it
		}
		run := func() string {
			out, err := exec.Command("bash", "-e", "-c", script).CombinedOutput()
			if err != nil {
				t.Fatalf("tour block %d: %v\n%s\n%s", i+2, err, script, out)
			}
			return string(out)
		}
		out := run()
		// Messages go out as soon as the worker gets to them: a reader takes longer than that.
		for deadline := time.Now().Add(30 * time.Second); strings.Contains(block, "/demo/outbox") && !strings.Contains(out, "SMS to +12025550143"); {
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
			out = run()
		}
		outputs = append(outputs, out)
	}
	all := strings.Join(outputs, "\n")
	for _, want := range []string{`"username":"prosecutor"`, `"kind":"ARRAIGNMENT"`, `"sequence":1`, `"status":"CONTINUED"`,
		"SMS to +12025550143  (HEARING_CHANGED, es)", "From: Harbor Health", "Nueva fecha: martes 15 de enero de 2030",
		"EMAIL to advocate@example.org  (HEARING_CHANGED, en)"} {
		if !strings.Contains(all, want) {
			t.Errorf("the tour's output lacks %q:\n%s", want, all)
		}
	}
}
