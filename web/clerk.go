package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"courtside"
)

// The prosecutor's clerk's pages: the office's docket, posting, continuing and cancelling a
// hearing, sharing a case with an advocacy organisation, and the docket CSV import with a
// preview that writes nothing.

// docketView is the clerk's start page.
type docketView struct {
	Rows  []*hearingRow
	Cases []caseOption
	Kinds []courtside.HearingKind
	Today string
}

// caseOption is a case of the office, for the post form's list.
type caseOption struct {
	ID     int64
	Docket string
	Court  string
}

// docket shows the office's upcoming hearings, its cases and the form to post a hearing.
func (a *App) docket(w http.ResponseWriter, rq *request) {
	ctx := rq.ctx()
	now := a.cfg.Now()
	from, to := now.Add(-12*time.Hour), now.Add(upcomingWindow)
	hearings, err := a.cfg.Hearings.FindHearings(ctx, courtside.HearingFilter{From: &from, To: &to, Limit: 200})
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	v := &docketView{Kinds: courtside.HearingKinds, Today: now.Format("2006-01-02")}
	if v.Rows, err = a.board(ctx, hearings, from, to, false); err != nil {
		a.fail(w, rq, err)
		return
	}
	cases, _, err := a.cfg.Cases.ListCases(ctx, 500, 0)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	courts, err := a.courtMap(ctx)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	for _, c := range cases {
		opt := caseOption{ID: c.ID, Docket: c.Docket}
		if ci := courts[c.CourtID]; ci != nil {
			opt.Court = ci.Name
		}
		v.Cases = append(v.Cases, opt)
	}
	a.render(w, rq, "docket", v)
}

// courtTimes parses the form's date and start and end times in the court's zone.
func courtTimes(rq *request, loc *time.Location) (time.Time, time.Time, error) {
	f := rq.r.PostForm
	day := strings.TrimSpace(f.Get("date"))
	start, err := time.ParseInLocation("2006-01-02 15:04", day+" "+strings.TrimSpace(f.Get("start")), loc)
	if err != nil {
		return time.Time{}, time.Time{}, courtside.Invalidf("startsAt", "%s", rq.T("Give the date as YYYY-MM-DD and the start time as HH:MM."))
	}
	end, err := time.ParseInLocation("2006-01-02 15:04", day+" "+strings.TrimSpace(f.Get("end")), loc)
	if err != nil {
		return time.Time{}, time.Time{}, courtside.Invalidf("endsAt", "%s", rq.T("Give the end time as HH:MM."))
	}
	return start, end, nil
}

// postHearing posts a hearing of one of the office's cases, times in the case's court's zone.
func (a *App) postHearing(w http.ResponseWriter, rq *request) {
	ctx := rq.ctx()
	caseID, ok := formID(rq, "case")
	if !ok {
		a.refuse(w, rq, http.StatusBadRequest, rq.T("Choose a case."))
		return
	}
	c, err := a.cfg.Cases.FindCaseByID(ctx, caseID)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	start, end, err := a.formTimesAt(rq, c.CourtID)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	f := rq.r.PostForm
	h := &courtside.Hearing{CaseID: c.ID, Kind: courtside.HearingKind(f.Get("kind")), StartsAt: start, EndsAt: end,
		Courtroom: strings.TrimSpace(f.Get("courtroom")), Judge: strings.TrimSpace(f.Get("judge"))}
	if _, err := a.cfg.Hearings.PostHearing(ctx, h); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.redirect(w, rq, "/hearings/"+formatInt(h.ID), rq.T("The hearing is posted; everyone on the case is told."))
}

// formTimesAt reads the form's start and end as times in the zone of the court courtID.
func (a *App) formTimesAt(rq *request, courtID int64) (start, end time.Time, err error) {
	court, err := a.cfg.Courts.FindCourtByID(rq.ctx(), courtID)
	if err != nil {
		return start, end, err
	}
	return courtTimes(rq, court.Location())
}

// expectedSequence reads the form's sequence: the version of the hearing the clerk saw.
func expectedSequence(rq *request) *int {
	n, err := strconv.Atoi(rq.r.PostForm.Get("sequence"))
	if err != nil {
		return nil
	}
	return &n
}

// continueHearing moves a hearing (a continuance), refusing it when the hearing changed since
// the page was shown.
func (a *App) continueHearing(w http.ResponseWriter, rq *request) {
	ctx := rq.ctx()
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	h, err := a.cfg.Hearings.FindHearingByID(ctx, id)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	start, end, err := a.formTimesAt(rq, h.CourtID)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	room := strings.TrimSpace(rq.r.PostForm.Get("courtroom"))
	if _, err := a.cfg.Hearings.RescheduleHearing(ctx, id, courtside.HearingUpdate{StartsAt: start, EndsAt: end, Courtroom: &room,
		Reason: strings.TrimSpace(rq.r.PostForm.Get("reason")), ExpectedSequence: expectedSequence(rq)}); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.redirect(w, rq, "/hearings/"+formatInt(id), rq.T("The hearing is continued; everyone on it is told."))
}

// cancelHearing cancels a hearing.
func (a *App) cancelHearing(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	if _, err := a.cfg.Hearings.CancelHearing(rq.ctx(), id, strings.TrimSpace(rq.r.PostForm.Get("reason")), expectedSequence(rq)); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.redirect(w, rq, "/hearings/"+formatInt(id), rq.T("The hearing is cancelled; everyone on it is told."))
}

// caseView is the page of one of the office's cases: its shares.
type caseView struct {
	Case     *courtside.Case
	Court    string
	Shares   []*courtside.CaseShare
	Requests []*courtside.CaseAccessRequest
	Hearings []*hearingRow
}

// caseShares shows a case of the office, who it is shared with, and the form to share it.
func (a *App) caseShares(w http.ResponseWriter, rq *request) {
	ctx := rq.ctx()
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	c, err := a.cfg.Cases.FindCaseByID(ctx, id)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	v := &caseView{Case: c}
	if court, err := a.cfg.Courts.FindCourtByID(ctx, c.CourtID); err == nil {
		v.Court = court.Name
	}
	if v.Shares, err = a.cfg.Cases.FindCaseShares(ctx, c.ID); err != nil {
		a.fail(w, rq, err)
		return
	}
	pending := courtside.AccessPending
	reqs, err := a.cfg.Cases.FindCaseAccessRequests(ctx, &pending)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	for _, r := range reqs {
		if r.CaseID == c.ID {
			v.Requests = append(v.Requests, r)
		}
	}
	hearings, err := a.cfg.Hearings.FindHearings(ctx, courtside.HearingFilter{CaseIDs: []int64{c.ID}, Limit: 100})
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	if v.Hearings, err = a.board(ctx, hearings, time.Time{}, time.Time{}, false); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.render(w, rq, "case", v)
}

// shareCase shares a case of the office with an advocacy organisation named exactly.
func (a *App) shareCase(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	org := strings.TrimSpace(rq.r.PostForm.Get("organisation"))
	share, err := a.cfg.Cases.ShareCase(rq.ctx(), id, org)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	name := org
	if share.Organization != nil {
		name = share.Organization.Name
	}
	a.redirect(w, rq, "/cases/"+formatInt(id), rq.T("The case is shared with %s.", name))
}

// importView is the docket import page.
type importView struct {
	Preview   *DocketPreview
	CSV       string // base64 of the previewed file, posted back to import it
	FileName  string
	Result    *courtside.ImportResult
	Error     string
	NoPreview bool
}

// importForm shows the upload form.
func (a *App) importForm(w http.ResponseWriter, rq *request) {
	a.render(w, rq, "import", &importView{NoPreview: a.cfg.PreviewDocket == nil})
}

// importPreview parses the uploaded docket CSV and shows what it would do and every problem
// found, line by line; nothing is written.
func (a *App) importPreview(w http.ResponseWriter, rq *request) {
	file, header, err := rq.r.FormFile("docket")
	if err != nil {
		a.renderStatus(w, rq, http.StatusBadRequest, "import", &importView{Error: rq.T("Choose a CSV file to upload.")})
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, MaxUploadBytes+1))
	if err != nil || len(data) > MaxUploadBytes {
		a.renderStatus(w, rq, http.StatusRequestEntityTooLarge, "import", &importView{Error: rq.T("The file is too large: at most 2 MiB at a time. Split it.")})
		return
	}
	v := &importView{CSV: base64.StdEncoding.EncodeToString(data), FileName: header.Filename}
	if a.cfg.PreviewDocket == nil {
		v.NoPreview = true
		a.render(w, rq, "import", v)
		return
	}
	if v.Preview, err = a.cfg.PreviewDocket(rq.ctx(), bytes.NewReader(data)); err != nil {
		if courtside.ErrorCode(err) == courtside.EINVALID {
			a.renderStatus(w, rq, http.StatusBadRequest, "import", &importView{Error: courtside.ErrorMessage(err)})
			return
		}
		a.fail(w, rq, err)
		return
	}
	a.render(w, rq, "import", v)
}

// importCommit imports the file the preview showed, in one transaction: all or nothing.
func (a *App) importCommit(w http.ResponseWriter, rq *request) {
	data, err := base64.StdEncoding.DecodeString(rq.r.PostForm.Get("csv"))
	if err != nil || len(data) == 0 {
		a.renderStatus(w, rq, http.StatusBadRequest, "import", &importView{Error: rq.T("Upload the file again.")})
		return
	}
	res, err := a.cfg.Imports.ImportHearings(rq.ctx(), bytes.NewReader(data), nil)
	if err != nil {
		if courtside.ErrorCode(err) == courtside.EINVALID {
			a.renderStatus(w, rq, http.StatusBadRequest, "import", &importView{Error: rq.T("Nothing was imported:") + " " + courtside.ErrorMessage(err)})
			return
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = courtside.Invalidf("csv", "The file is incomplete.")
		}
		a.fail(w, rq, err)
		return
	}
	a.render(w, rq, "import", &importView{Result: res})
}
