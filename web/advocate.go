package web

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"courtside"
)

// The advocate's and the interpreter's pages: what is coming up for them, and the offers an
// interpreter answers.

// myView is the advocate's start page.
type myView struct {
	Rows    []*hearingRow
	Victims []*courtside.Victim
}

// upcomingWindow is how far ahead the start pages look.
const upcomingWindow = 366 * 24 * time.Hour

// myHearings shows the hearings the advocate accompanies from today on, and the victims the
// advocate accompanies.
func (a *App) myHearings(w http.ResponseWriter, rq *request) {
	ctx := rq.ctx()
	me := rq.User.ID
	accs, err := a.cfg.Accompaniments.FindAccompaniments(ctx, courtside.AccompanimentFilter{AdvocateID: &me})
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	var ids []int64
	for _, acc := range accs {
		if acc.Live() {
			ids = append(ids, acc.HearingID)
		}
	}
	v := &myView{}
	if len(ids) > 0 {
		from, to := a.cfg.Now().Add(-12*time.Hour), a.cfg.Now().Add(upcomingWindow)
		hearings, err := a.cfg.Hearings.FindHearings(ctx, courtside.HearingFilter{IDs: ids, From: &from, To: &to, Limit: 200})
		if err != nil {
			a.fail(w, rq, err)
			return
		}
		if v.Rows, err = a.board(ctx, hearings, from, to, false); err != nil {
			a.fail(w, rq, err)
			return
		}
	}
	if v.Victims, _, err = a.cfg.Victims.ListVictims(ctx, maxVictimsListed, 0); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.render(w, rq, "my", v)
}

// offersView is the interpreter's start page.
type offersView struct {
	Offers   []offerLine
	Accepted []offerLine
}

// offerLine is one booking with its hearing, in the court's zone.
type offerLine struct {
	Booking   *courtside.InterpreterBooking
	Hearing   *courtside.Hearing
	Court     string
	Courtroom string
	Docket    string
	Loc       *time.Location
}

// offers shows the interpreter's open offers, with Accept and Decline, and the bookings
// accepted or awaiting reconfirmation.
func (a *App) offers(w http.ResponseWriter, rq *request) {
	ctx := rq.ctx()
	bookings, err := a.cfg.Bookings.FindBookings(ctx, courtside.BookingFilter{})
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	var ids []int64
	for _, b := range bookings {
		ids = append(ids, b.HearingID)
	}
	v := &offersView{}
	if len(ids) == 0 {
		a.render(w, rq, "offers", v)
		return
	}
	hearings, err := a.cfg.Hearings.FindHearings(ctx, courtside.HearingFilter{IDs: ids, Limit: 500})
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	courts, err := a.courtMap(ctx)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	byID := map[int64]*courtside.Hearing{}
	var caseIDs []int64
	for _, h := range hearings {
		byID[h.ID] = h
		caseIDs = append(caseIDs, h.CaseID)
	}
	cases, err := a.cfg.Cases.FindCases(ctx, caseIDs...)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	dockets := map[int64]string{}
	for _, c := range cases {
		dockets[c.ID] = c.Docket
	}
	now := a.cfg.Now()
	for _, b := range bookings {
		h := byID[b.HearingID]
		if h == nil {
			continue
		}
		line := offerLine{Booking: b, Hearing: h, Courtroom: h.Courtroom, Docket: dockets[h.CaseID]}
		if c := courts[h.CourtID]; c != nil {
			line.Court, line.Loc = c.Name, c.loc
		}
		switch {
		case b.Status == courtside.BookingOffered && b.Live(now):
			v.Offers = append(v.Offers, line)
		case b.Status == courtside.BookingNeedsReconfirmation:
			v.Offers = append(v.Offers, line)
		case b.Status == courtside.BookingAccepted && h.Open():
			v.Accepted = append(v.Accepted, line)
		}
	}
	for _, l := range [][]offerLine{v.Offers, v.Accepted} {
		sort.SliceStable(l, func(i, j int) bool { return l[i].Hearing.StartsAt.Before(l[j].Hearing.StartsAt) })
	}
	a.render(w, rq, "offers", v)
}

// answerOffer records the interpreter's Accept or Decline (with a reason).
func (a *App) answerOffer(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	var accept bool
	switch rq.r.PostForm.Get("answer") {
	case "accept":
		accept = true
	case "decline":
	default:
		a.refuse(w, rq, http.StatusBadRequest, rq.T("Choose Accept or Decline."))
		return
	}
	reason := strings.TrimSpace(rq.r.PostForm.Get("reason"))
	if _, err := a.cfg.Bookings.RespondToBooking(rq.ctx(), id, accept, reason); err != nil {
		a.fail(w, rq, err)
		return
	}
	msg := rq.T("You declined. Thank you for letting us know; the hearing goes to another interpreter.")
	if accept {
		msg = rq.T("You accepted. The hearing is in your Courtside calendar now.")
	}
	a.redirect(w, rq, "/offers", msg)
}
