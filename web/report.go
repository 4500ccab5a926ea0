package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"courtside"
)

// The caseload report page: the same aggregates as Query.caseloadReport (small cells
// suppressed, no totals), as a table and as bar charts drawn on the server as SVG, with no
// script and nothing loaded from elsewhere.

// reportView is the report page.
type reportView struct {
	From, To string
	Report   *courtside.CaseloadReport
	Charts   []template.HTML
	Statuses []courtside.DeliveryStatus
}

// report shows the caseload report of the coordinator's organisation for a period (by
// default from the first of January to today).
func (a *App) report(w http.ResponseWriter, rq *request) {
	now := a.cfg.Now().UTC()
	q := rq.r.URL.Query()
	from := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if s := q.Get(p.name); s != "" {
			d, err := time.Parse("2006-01-02", s)
			if err != nil {
				a.refuse(w, rq, http.StatusBadRequest, rq.T("Dates are written like 2026-12-07."))
				return
			}
			*p.t = d
		}
	}
	rep, err := a.cfg.Reports.CaseloadReport(rq.ctx(), from, to)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	v := &reportView{From: from.Format("2006-01-02"), To: to.Format("2006-01-02"), Report: rep, Statuses: courtside.NoticeStatuses}
	if len(rep.Rows) > 0 {
		v.Charts = []template.HTML{
			barChart(rq, "chart-hearings", rq.T("Hearings per court and kind"), rep.Rows, func(r courtside.CaseloadRow) courtside.ReportCell { return r.Hearings }),
			barChart(rq, "chart-accompanied", rq.T("Victims accompanied per court and kind"), rep.Rows, func(r courtside.CaseloadRow) courtside.ReportCell { return r.VictimsAccompanied }),
		}
	}
	a.render(w, rq, "report", v)
}

// barChart draws one horizontal bar per row of the report: the cell's value, or a hatched
// "suppressed" mark. Text is escaped; colours are presentation attributes (the CSP allows no
// inline style).
func barChart(rq *request, id, title string, rows []courtside.CaseloadRow, cell func(courtside.CaseloadRow) courtside.ReportCell) template.HTML {
	const (
		labelW = 230
		barW   = 300
		rowH   = 28
		top    = 8
	)
	maxV := 1
	for _, r := range rows {
		if v := cell(r).Published(); v > maxV {
			maxV = v
		}
	}
	height := top*2 + rowH*len(rows)
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-labelledby="%s-title" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`,
		id, labelW+barW+60, height)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, id, esc(title))
	fmt.Fprintf(&b, `<defs><pattern id="%s-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#6b7680" stroke-width="3"/></pattern></defs>`, id)
	for i, r := range rows {
		y := top + i*rowH
		label := r.CourtName + " · " + rq.Label(r.Kind)
		if r := []rune(label); len(r) > 38 {
			label = string(r[:37]) + "…"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="13" fill="#1b1b1b">%s</text>`, labelW-8, y+18, esc(label))
		c := cell(r)
		if c.Suppressed || c.Value == nil {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="40" height="%d" fill="url(#%s-hatch)" stroke="#4a5560"/>`, labelW, y+4, rowH-10, id)
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" fill="#1b1b1b">%s</text>`, labelW+48, y+18, esc(rq.T("suppressed")))
			continue
		}
		wdt := *c.Value * barW / maxV
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#12324f"/>`, labelW, y+4, wdt, rowH-10)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" fill="#1b1b1b">%d</text>`, labelW+wdt+6, y+18, *c.Value)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint: every text above is escaped
}
