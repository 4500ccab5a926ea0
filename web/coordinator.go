package web

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"courtside"
)

// The coordinator's pages: the week of hearings with their coverage, and the two actions that
// fill a gap (assign an advocate, request an interpreter).

// maxWeekHearings caps one week's board; a busier week says so and pages by court.
const maxWeekHearings = 500

// weekView is the week page.
type weekView struct {
	Grid       bool
	Start, End time.Time
	Loc        *time.Location
	Prev, Next string
	Rows       []*hearingRow
	Days       []weekDay
	Flagged    int
	Truncated  bool
	StartISO   string
	ListURL    string
	GridURL    string
}

// weekDay is one day column of the grid.
type weekDay struct {
	Day  time.Time
	Rows []*hearingRow
}

// week shows the organisation's hearings of one week, Monday to Sunday in the zone of its
// courts, as a list or a grid, each with its coverage and flags.
func (a *App) week(w http.ResponseWriter, rq *request) {
	ctx := rq.ctx()
	courts, err := a.courtMap(ctx)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	loc := homeZone(courts)
	now := a.cfg.Now()
	start, _ := courtside.BookingWeek(now, loc)
	if s := rq.r.URL.Query().Get("start"); s != "" {
		d, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			a.refuse(w, rq, http.StatusBadRequest, rq.T("The week must be a date such as 2026-12-07."))
			return
		}
		start, _ = courtside.BookingWeek(d, loc)
	}
	startLocal := start.In(loc)
	end := time.Date(startLocal.Year(), startLocal.Month(), startLocal.Day()+7, 0, 0, 0, 0, loc)
	hearings, err := a.cfg.Hearings.FindHearings(ctx, courtside.HearingFilter{From: &start, To: &end, Limit: maxWeekHearings + 1})
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	v := &weekView{Grid: rq.r.URL.Query().Get("view") == "grid", Start: start, End: end, Loc: loc}
	if len(hearings) > maxWeekHearings {
		hearings, v.Truncated = hearings[:maxWeekHearings], true
	}
	if v.Rows, err = a.board(ctx, hearings, start, end, true); err != nil {
		a.fail(w, rq, err)
		return
	}
	for _, r := range v.Rows {
		if r.Flagged() {
			v.Flagged++
		}
	}
	for i := 0; i < 7; i++ {
		day := time.Date(startLocal.Year(), startLocal.Month(), startLocal.Day()+i, 0, 0, 0, 0, loc)
		next := time.Date(startLocal.Year(), startLocal.Month(), startLocal.Day()+i+1, 0, 0, 0, 0, loc)
		wd := weekDay{Day: day}
		for _, r := range v.Rows {
			if !r.StartsAt.Before(day) && r.StartsAt.Before(next) {
				wd.Rows = append(wd.Rows, r)
			}
		}
		v.Days = append(v.Days, wd)
	}
	mode := ""
	if v.Grid {
		mode = "&view=grid"
	}
	v.StartISO = startLocal.Format("2006-01-02")
	v.Prev = "/week?start=" + startLocal.AddDate(0, 0, -7).Format("2006-01-02") + mode
	v.Next = "/week?start=" + startLocal.AddDate(0, 0, 7).Format("2006-01-02") + mode
	v.ListURL = "/week?start=" + v.StartISO
	v.GridURL = v.ListURL + "&view=grid"
	a.render(w, rq, "week", v)
}

// hearingView is the hearing page.
type hearingView struct {
	Row        *hearingRow
	Court      *courtside.Court
	Loc        *time.Location
	History    []*courtside.HearingChange
	Victims    []victimOnHearing
	Bookings   []bookingLine
	Timeline   []deliveryLine
	NoTimeline bool
	// For coordinators.
	CanCoordinate bool
	Advocates     []*courtside.User
	Attending     []victimOnHearing
	Language      string
	Candidates    []*courtside.Candidate
	CandidatesErr string
	Tiers         []courtside.Tier
	// For the prosecutor's office.
	CanChange bool
}

// victimOnHearing is a victim linked to the hearing's case, by pseudonym.
type victimOnHearing struct {
	ID        int64
	Pseudonym string
	Language  string
	Attends   bool
	Advocates []string
}

// bookingLine is an interpreter booking of the hearing.
type bookingLine struct {
	*courtside.InterpreterBooking
	Interpreter string
}

// deliveryLine is one notice of the evidence timeline.
type deliveryLine struct {
	*courtside.Delivery
	To       string
	Escalate bool
}

// hearing shows one hearing: its facts in its court's zone, its history of continuances, the
// victims by pseudonym, the bookings and the notices as a timeline; a coordinator's actions and
// a prosecutor's continue and cancel forms.
func (a *App) hearing(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	ctx := rq.ctx()
	h, err := a.cfg.Hearings.FindHearingByID(ctx, id)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	rows, err := a.board(ctx, []*courtside.Hearing{h}, h.StartsAt, h.EndsAt.Add(time.Minute), courtside.CanSeeConflicts(rq.User))
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	v := &hearingView{Row: rows[0], Loc: rows[0].Loc, Tiers: courtside.Tiers}
	if v.Court, err = a.cfg.Courts.FindCourtByID(ctx, h.CourtID); err != nil {
		a.fail(w, rq, err)
		return
	}
	if v.History, err = a.cfg.Hearings.FindHearingChanges(ctx, h.ID); err != nil {
		a.fail(w, rq, err)
		return
	}
	names, err := a.staffNames(ctx)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	links, err := a.cfg.Cases.FindCaseVictims(ctx, h.CaseID)
	if err != nil && courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		a.fail(w, rq, err)
		return
	}
	var victimIDs []int64
	attends := map[int64]bool{}
	for _, l := range links {
		victimIDs = append(victimIDs, l.VictimID)
		attends[l.VictimID] = l.Attends
	}
	pseudonyms := map[int64]string{}
	if len(victimIDs) > 0 {
		victims, err := a.cfg.Victims.FindVictims(ctx, victimIDs...)
		if err != nil && courtside.ErrorCode(err) != courtside.EFORBIDDEN {
			a.fail(w, rq, err)
			return
		}
		accs, err := a.cfg.Accompaniments.FindAccompaniments(ctx, courtside.AccompanimentFilter{HearingIDs: []int64{h.ID}})
		if err != nil && courtside.ErrorCode(err) != courtside.EFORBIDDEN {
			a.fail(w, rq, err)
			return
		}
		for _, vic := range victims {
			pseudonyms[vic.ID] = vic.Pseudonym
			vh := victimOnHearing{ID: vic.ID, Pseudonym: vic.Pseudonym, Language: vic.PreferredLanguage, Attends: attends[vic.ID]}
			for _, acc := range accs {
				if acc.VictimID == vic.ID && acc.Live() {
					vh.Advocates = append(vh.Advocates, names[acc.AdvocateID])
				}
			}
			v.Victims = append(v.Victims, vh)
			if vh.Attends {
				v.Attending = append(v.Attending, vh)
			}
		}
	}
	bookings, err := a.cfg.Bookings.FindBookings(ctx, courtside.BookingFilter{HearingIDs: []int64{h.ID}})
	if err != nil && courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		a.fail(w, rq, err)
		return
	}
	for _, b := range bookings {
		v.Bookings = append(v.Bookings, bookingLine{InterpreterBooking: b, Interpreter: names[b.InterpreterID]})
	}
	deliveries, err := a.cfg.Deliveries.FindDeliveries(ctx, courtside.DeliveryFilter{HearingID: &h.ID})
	switch courtside.ErrorCode(err) {
	case "":
		for _, d := range deliveries {
			dl := deliveryLine{Delivery: d, Escalate: d.Kind == courtside.NotifyNoticeSuppressed || d.Kind == courtside.NotifyBookingUnfilled}
			switch {
			case d.VictimID != 0 && pseudonyms[d.VictimID] != "":
				dl.To = pseudonyms[d.VictimID]
			case d.VictimID != 0:
				dl.To = rq.T("a victim")
			case names[d.UserID] != "":
				dl.To = names[d.UserID]
			default:
				dl.To = rq.Label(d.Audience)
			}
			v.Timeline = append(v.Timeline, dl)
		}
	case courtside.EFORBIDDEN, courtside.ENOTFOUND:
		v.NoTimeline = true
	default:
		a.fail(w, rq, err)
		return
	}
	switch rq.User.Role {
	case courtside.RoleCoordinator:
		v.CanCoordinate = h.Open()
		role := courtside.RoleAdvocate
		advocates, err := a.cfg.Users.FindUsers(ctx, courtside.UserFilter{Role: &role})
		if err != nil {
			a.fail(w, rq, err)
			return
		}
		for _, adv := range advocates {
			if adv.OrganizationID == rq.User.OrganizationID {
				v.Advocates = append(v.Advocates, adv)
			}
		}
		v.Language = strings.TrimSpace(rq.r.URL.Query().Get("language"))
		if v.Language == "" {
			for _, vh := range v.Attending {
				if vh.Language != "" && !strings.HasPrefix(vh.Language, "en") {
					v.Language = vh.Language
					break
				}
			}
		}
		if v.Language != "" && v.CanCoordinate {
			v.Candidates, err = a.cfg.Bookings.InterpreterCandidates(ctx, h.ID, v.Language)
			if err != nil {
				if courtside.ErrorCode(err) == courtside.EINTERNAL {
					a.fail(w, rq, err)
					return
				}
				v.CandidatesErr = courtside.ErrorMessage(err)
			}
		}
	case courtside.RoleProsecutor:
		v.CanChange = h.Open()
	}
	a.render(w, rq, "hearing", v)
}

// assignAdvocate assigns an advocate of the organisation to take a victim to the hearing.
func (a *App) assignAdvocate(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	victimID, ok2 := formID(rq, "victim")
	advocateID, ok3 := formID(rq, "advocate")
	if !ok || !ok2 || !ok3 {
		a.refuse(w, rq, http.StatusBadRequest, rq.T("Choose a victim and an advocate."))
		return
	}
	if _, err := a.cfg.Accompaniments.AssignAdvocate(rq.ctx(), id, victimID, advocateID); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.redirect(w, rq, "/hearings/"+formatInt(id), rq.T("The advocate is assigned; the hearing is in their calendar now."))
}

// requestInterpreter offers the hearing to the best available interpreter of the language at
// or above the chosen tier.
func (a *App) requestInterpreter(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	lang := strings.TrimSpace(rq.r.PostForm.Get("language"))
	var tier *courtside.Tier
	if t := courtside.Tier(rq.r.PostForm.Get("tier")); t != "" {
		if t.Rank() < 0 {
			a.refuse(w, rq, http.StatusBadRequest, rq.T("Choose a tier from the list."))
			return
		}
		tier = &t
	}
	b, err := a.cfg.Bookings.RequestInterpreter(rq.ctx(), id, lang, tier)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	who := ""
	if u, err := a.cfg.Users.FindUserByID(rq.ctx(), b.InterpreterID); err == nil {
		who = u.Username
	}
	a.redirect(w, rq, "/hearings/"+formatInt(id), rq.T("Offered to %s; they have until %s to answer.", who, rq.When(b.RespondBy, nil)))
}

// victimsView is the list of victims.
type victimsView struct {
	Victims []*courtside.Victim
	More    bool
}

// maxVictimsListed caps the victims page.
const maxVictimsListed = 500

// victims lists the victims the user may see, by pseudonym.
func (a *App) victims(w http.ResponseWriter, rq *request) {
	list, more, err := a.cfg.Victims.ListVictims(rq.ctx(), maxVictimsListed, 0)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Pseudonym < list[j].Pseudonym })
	a.render(w, rq, "victims", &victimsView{Victims: list, More: more})
}

// victimView is the victim page.
type victimView struct {
	Victim   *courtside.Victim
	Revealed bool
	CanEdit  bool
	Channels []policyChannel
	Details  []courtside.DetailLevel
}

// policyChannel is one channel of the contact-policy editor.
type policyChannel struct {
	Channel   courtside.Channel
	Rank      int
	Allowed   bool
	Detail    courtside.DetailLevel
	Address   string
	Confirmed *time.Time
}

// victim shows a victim by pseudonym. The legal name, contacts and contact policy stay hidden
// until the user asks to see them ("Show"), which is audited.
func (a *App) victim(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	vic, err := a.cfg.Victims.FindVictimByID(rq.ctx(), id)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	a.render(w, rq, "victim", &victimView{Victim: vic})
}

// showVictim opens the victim's legal name, contacts and policy (VictimService.OpenVictimPII
// audits it) and shows them with the contact-policy editor. It is a POST: opening PII is an
// act, recorded, never a link a browser or a scanner may prefetch.
func (a *App) showVictim(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	opened, err := a.cfg.Victims.OpenVictimPII(rq.ctx(), id)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	if len(opened) == 0 {
		a.fail(w, rq, courtside.Errorf(courtside.ENOTFOUND, "Victim not found."))
		return
	}
	vic := opened[0]
	v := &victimView{Victim: vic, Revealed: true, CanEdit: courtside.CanManageVictimsOf(rq.User, vic.OrganizationID),
		Details: []courtside.DetailLevel{courtside.DetailFull, courtside.DetailMinimal, courtside.DetailContentFree}}
	policy := vic.Policy
	if policy == nil {
		policy = &courtside.ContactPolicy{}
	}
	for i, ch := range []courtside.Channel{courtside.ChannelSMS, courtside.ChannelEmail, courtside.ChannelWebhook} {
		pc := policyChannel{Channel: ch, Rank: len(policy.Channels) + i + 1, Detail: courtside.DetailContentFree}
		for j, r := range policy.Channels {
			if r.Channel == ch {
				pc.Rank, pc.Allowed, pc.Detail = j+1, r.Allowed, r.Detail
			}
		}
		for _, c := range vic.Contacts {
			if c.Channel == ch {
				pc.Address, pc.Confirmed = c.Address, c.ConfirmedSafeAt
			}
		}
		v.Channels = append(v.Channels, pc)
	}
	sort.SliceStable(v.Channels, func(i, j int) bool { return v.Channels[i].Rank < v.Channels[j].Rank })
	a.render(w, rq, "victim", v)
}

// setPolicy replaces the victim's contact policy from the editor's form.
func (a *App) setPolicy(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	f := rq.r.PostForm
	type ranked struct {
		rule courtside.ChannelRule
		rank string
	}
	var rules []ranked
	var confirm []courtside.Channel
	for _, ch := range courtside.Channels {
		name := strings.ToLower(string(ch))
		rules = append(rules, ranked{rule: courtside.ChannelRule{Channel: ch, Allowed: f.Get("allowed_"+name) == "on",
			Detail: courtside.DetailLevel(f.Get("detail_" + name))}, rank: f.Get("rank_" + name)})
		if f.Get("confirm_"+name) == "on" {
			confirm = append(confirm, ch)
		}
	}
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].rank < rules[j].rank })
	p := courtside.ContactPolicy{QuietHoursStart: strings.TrimSpace(f.Get("quiet_start")), QuietHoursEnd: strings.TrimSpace(f.Get("quiet_end")),
		NeutralSender: strings.TrimSpace(f.Get("neutral_sender")), TimeZone: strings.TrimSpace(f.Get("time_zone"))}
	for _, r := range rules {
		p.Channels = append(p.Channels, r.rule)
	}
	if _, err := a.cfg.Victims.SetContactPolicy(rq.ctx(), id, p, confirm); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.redirect(w, rq, "/victims/"+formatInt(id), rq.T("The contact policy is saved. It applies to the next message."))
}

// requestsView is the page of victims' requests.
type requestsView struct {
	Available bool
	Open      []VictimRequest
	Closed    []VictimRequest
}

// requests lists the victims' requests, open first, newest first, when the service is there.
func (a *App) requests(w http.ResponseWriter, rq *request) {
	v := &requestsView{Available: a.cfg.Requests != nil}
	if v.Available {
		all, err := a.victimRequests(rq.ctx())
		if err != nil {
			a.fail(w, rq, err)
			return
		}
		for _, r := range all {
			if r.Open {
				v.Open = append(v.Open, r)
			} else {
				v.Closed = append(v.Closed, r)
			}
		}
	}
	a.render(w, rq, "requests", v)
}

// maxRequestsShown bounds the requests page: the newest ones.
const maxRequestsShown = 200

// victimRequests returns the caller's victims' requests, newest first, with the victims'
// pseudonyms and the usernames of who closed them.
func (a *App) victimRequests(ctx context.Context) ([]VictimRequest, error) {
	rs, err := a.cfg.Requests.FindRequests(ctx, courtside.RequestFilter{})
	if err != nil {
		return nil, err
	}
	slices.Reverse(rs) // the service answers oldest first
	rs = rs[:min(len(rs), maxRequestsShown)]
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.VictimID)
	}
	pseudonyms := map[int64]string{}
	if len(ids) > 0 {
		vs, err := a.cfg.Victims.FindVictims(ctx, ids...)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			pseudonyms[v.ID] = v.Pseudonym
		}
	}
	closers := map[int64]string{}
	out := make([]VictimRequest, 0, len(rs))
	for _, r := range rs {
		vr := VictimRequest{ID: r.ID, VictimID: r.VictimID, Pseudonym: pseudonyms[r.VictimID], HearingID: r.HearingID, Kind: r.Kind,
			Open: r.Status == courtside.RequestOpen, ReceivedAt: r.CreatedAt, ClosedAt: r.ClosedAt, Restored: r.Outcome == "SMS_RESTORED"}
		if r.ClosedBy != 0 {
			if _, ok := closers[r.ClosedBy]; !ok {
				if u, err := a.cfg.Users.FindUserByID(ctx, r.ClosedBy); err == nil {
					closers[r.ClosedBy] = u.Username
				}
			}
			vr.ClosedBy = closers[r.ClosedBy]
		}
		out = append(out, vr)
	}
	return out, nil
}

// closeRequest closes a victim's request as handled.
func (a *App) closeRequest(w http.ResponseWriter, rq *request) {
	a.answerRequest(w, rq, a.cfg.Requests.CloseRequest, rq.T("The request is closed."))
}

// confirmSMSRestart confirms a victim's START: texts are allowed again, and the request closes.
func (a *App) confirmSMSRestart(w http.ResponseWriter, rq *request) {
	a.answerRequest(w, rq, a.cfg.Requests.ConfirmSMSRestart, rq.T("Text messages to the victim are allowed again; the request is closed."))
}

// answerRequest closes the request of the path with act, when the service is there.
func (a *App) answerRequest(w http.ResponseWriter, rq *request, act func(context.Context, int64) (*courtside.Request, error), done string) {
	if a.cfg.Requests == nil {
		a.refuse(w, rq, http.StatusNotImplemented, rq.T("Victims' requests are not available in this version of Courtside."))
		return
	}
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	if _, err := act(rq.ctx(), id); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.redirect(w, rq, "/requests", done)
}
