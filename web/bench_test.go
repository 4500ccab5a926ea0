package web_test

import (
	"courtside/storage"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkWeekPage measures the coordinator's week page, with its coverage and conflicts,
// over 5,000 hearings of a shared case (a hundred a week), through the real handler and a
// real SQLite file. make bench reports every role's pages (cmd/courtside-bench, "pages").
func BenchmarkWeekPage(b *testing.B) {
	w := newAppWorld(b)
	var csv strings.Builder
	csv.WriteString("external_id,docket,court,kind,starts_at,ends_at\n")
	base := time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC)
	for i := 0; i < 5000; i++ {
		start := base.AddDate(0, 0, (i/100)*7+(i%100)%5).Add(time.Duration((i%100)/20) * time.Hour)
		fmt.Fprintf(&csv, "B-%05d,26-CR-01042,Superior Court,MOTION,%s,%s\n", i, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339))
	}
	if _, err := storage.NewImportService(w.db).ImportHearings(w.as("clerk"), strings.NewReader(csv.String()), nil); err != nil {
		b.Fatal(err)
	}
	br := w.signedIn("coordinator")
	if p := br.get("/week?start=2026-12-07"); p.status != http.StatusOK || !strings.Contains(p.body, "101 hearings") {
		b.Fatalf("week: %d %s", p.status, p.body[:min(len(p.body), 2000)])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if p := br.get("/week?start=2026-12-07"); p.status != http.StatusOK {
			b.Fatal(p.status)
		}
	}
}
