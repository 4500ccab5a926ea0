package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"courtside"
)

// The pages are html/template files in pages/, each defining "content" and "title" for the
// layout in pages/layout.html, with the shared pieces of the files whose names start with _; the stylesheet and the one script are in static/, embedded and
// served from /static/ with a long cache life (their URLs carry a hash of their content).

//go:embed pages/*.html
var pageFS embed.FS

//go:embed static/*
var staticFS embed.FS

// pageTemplates maps each page name (its file name without .html) to its template: the
// layout with the page's blocks.
var pageTemplates = func() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(templateFuncs).ParseFS(pageFS, "pages/layout.html", "pages/_*.html"))
	names, err := fs.Glob(pageFS, "pages/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		out[base] = template.Must(template.Must(layout.Clone()).ParseFS(pageFS, name))
	}
	return out
}()

// templateFuncs are the few helpers the templates use beyond the request's methods.
var templateFuncs = template.FuncMap{
	"id": func(n int64) string { return formatInt(n) },
	"join": func(sep string, s []string) string {
		return strings.Join(s, sep)
	},
	"isoDate": func(t time.Time, loc *time.Location) string { return t.In(locOrUTC(loc)).Format("2006-01-02") },
	"isoTime": func(t time.Time, loc *time.Location) string { return t.In(locOrUTC(loc)).Format("15:04") },
	"minutes": func(d time.Duration) int { return int(d / time.Minute) },
	"inc":     func(i int) int { return i + 1 },
	"lower":   func(v any) string { return strings.ToLower(fmt.Sprint(v)) },
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i + 1
		}
		return out
	},
	"deref": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
	"clock": func(d time.Duration) string { return courtside.FormatClock(d) },
}

// staticFiles are the embedded assets by name, with their content type and hash.
var staticFiles = func() map[string]staticFile {
	out := map[string]staticFile{}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		ct := "text/plain; charset=utf-8"
		switch path.Ext(e.Name()) {
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		out[e.Name()] = staticFile{data: b, contentType: ct, hash: hex.EncodeToString(sum[:6])}
	}
	return out
}()

type staticFile struct {
	data        []byte
	contentType string
	hash        string
}

// Static returns the URL of an embedded asset, versioned by its content.
func (rq *request) Static(name string) string {
	return "/static/" + name + "?v=" + staticFiles[name].hash
}

// serveStatic serves an embedded asset.
func (a *App) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := staticFiles[r.PathValue("file")]
	if !ok {
		plain(w, http.StatusNotFound, "Not found.")
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(f.data)
}

// pageView is what the layout renders: the request (translation, dates, the form token, the
// user) and the page's own data.
type pageView struct {
	*request
	Page string
	Data any
}

// rowView is a hearing row with the page around it, for the shared hearing templates.
type rowView struct {
	*pageView
	Row *hearingRow
}

// WithRow pairs the page with one hearing row.
func (v *pageView) WithRow(r *hearingRow) *rowView { return &rowView{pageView: v, Row: r} }

// cellView is a report cell with the page around it.
type cellView struct {
	*pageView
	Suppressed bool
	Value      int
}

// Cell pairs the page with one report cell.
func (v *pageView) Cell(c courtside.ReportCell) *cellView {
	return &cellView{pageView: v, Suppressed: c.Suppressed || c.Value == nil, Value: max(c.Published(), 0)}
}

// navItem is one entry of the menu.
type navItem struct {
	Path, Label string
	Current     bool
}

// Nav returns the menu of the signed-in user's role.
func (v *pageView) Nav() []navItem {
	if v.User == nil {
		return nil
	}
	var items [][2]string
	switch v.User.Role {
	case courtside.RoleCoordinator:
		items = [][2]string{{"/week", "This week"}, {"/victims", "Victims"}, {"/requests", "Requests"}, {"/report", "Caseload report"}, {"/calendar", "My calendar"}}
	case courtside.RoleAdvocate:
		items = [][2]string{{"/my", "My hearings"}, {"/victims", "My victims"}, {"/calendar", "Add to my calendar"}}
	case courtside.RoleInterpreter:
		items = [][2]string{{"/offers", "Offers and bookings"}, {"/calendar", "Add to my calendar"}}
	case courtside.RoleProsecutor:
		items = [][2]string{{"/docket", "Docket"}, {"/import", "Import a docket"}, {"/calendar", "My calendar"}}
	case courtside.RoleAdmin:
		items = [][2]string{{"/admin", "Users and organisations"}, {"/admin/courts", "Courts"}, {"/admin/webhooks", "Webhooks"}, {"/admin/events", "Failed events"}}
	}
	out := make([]navItem, len(items))
	for i, it := range items {
		out[i] = navItem{Path: it[0], Label: v.T(it[1]), Current: v.r.URL.Path == it[0]}
	}
	return out
}

// Path is the request's path and query, for the language switch to come back to.
func (v *pageView) Path() string {
	if v.r.Method != http.MethodGet {
		return "/"
	}
	return v.r.URL.RequestURI()
}

// messageView is the data of a page that only says something.
type messageView struct {
	Title, Text string
	Back        bool
}

// render writes the page name with 200.
func (a *App) render(w http.ResponseWriter, rq *request, name string, data any) {
	a.renderStatus(w, rq, http.StatusOK, name, data)
}

// renderStatus writes the page name with status. The page is rendered into a buffer first,
// so that a template error answers a clean 500.
func (a *App) renderStatus(w http.ResponseWriter, rq *request, status int, name string, data any) {
	t, ok := pageTemplates[name]
	if !ok {
		a.cfg.Logger.Error("web: no page template", "name", name)
		plain(w, http.StatusInternalServerError, "Internal error.")
		return
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", &pageView{request: rq, Page: name, Data: data}); err != nil {
		a.cfg.Logger.Error("web: render", "page", name, "err", err)
		plain(w, http.StatusInternalServerError, "Internal error.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", rq.LangCode())
	h.Add("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
