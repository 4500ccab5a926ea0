package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"courtside"
)

// The admin's pages: users and organisations, courts with their hours and the travel times
// between them, organisations' webhook receivers, and the events that failed. Creating users
// and setting webhooks are the operator's actions of the command line; here they are offered to
// admins only (the page's role check), audited as the admin.

// adminView is the users and organisations page.
type adminView struct {
	Users []*courtside.User
	Orgs  []orgLine
	Roles []courtside.Role
	// Created is the user just created, with the organisation when it is new.
	Created *courtside.User
}

// orgLine is one organisation with its members.
type orgLine struct {
	Name    string
	Kind    courtside.OrganizationKind
	Members int
}

// maxCourtsForTravel bounds the travel-time table (one lookup per pair).
const maxCourtsForTravel = 12

// adminUsers lists users and organisations, with the form to add a user.
func (a *App) adminUsers(w http.ResponseWriter, rq *request) {
	a.renderAdminUsers(w, rq, http.StatusOK, nil)
}

func (a *App) renderAdminUsers(w http.ResponseWriter, rq *request, status int, created *courtside.User) {
	users, err := a.cfg.Users.FindUsers(rq.ctx(), courtside.UserFilter{})
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	v := &adminView{Users: users, Roles: courtside.Roles, Created: created}
	byName := map[string]*orgLine{}
	for _, u := range users {
		if u.Organization == nil {
			continue
		}
		o := byName[u.Organization.Name]
		if o == nil {
			o = &orgLine{Name: u.Organization.Name, Kind: u.Organization.Kind}
			byName[o.Name] = o
		}
		o.Members++
	}
	for _, o := range byName {
		v.Orgs = append(v.Orgs, *o)
	}
	sort.Slice(v.Orgs, func(i, j int) bool { return v.Orgs[i].Name < v.Orgs[j].Name })
	a.renderStatus(w, rq, status, "admin", v)
}

// createUser adds a user (and a new organisation when the name is new) with a first password.
func (a *App) createUser(w http.ResponseWriter, rq *request) {
	f := rq.r.PostForm
	role, err := courtside.ParseRole(f.Get("role"))
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	nu := courtside.NewUser{User: courtside.User{Username: strings.TrimSpace(f.Get("username")), Role: role,
		Email: strings.TrimSpace(f.Get("email")), Phone: strings.TrimSpace(f.Get("phone"))},
		OrganizationName: strings.TrimSpace(f.Get("organisation")), Password: f.Get("password")}
	if langs := strings.TrimSpace(f.Get("languages")); langs != "" {
		if nu.User.Languages, err = courtside.ParseInterpreterLanguages(langs); err != nil {
			a.fail(w, rq, err)
			return
		}
	}
	if nu.Password == "" {
		a.refuse(w, rq, http.StatusBadRequest, rq.T("Give the new user a first password; they sign in with it."))
		return
	}
	u, err := a.cfg.Users.CreateUser(rq.ctx(), nu)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	a.renderAdminUsers(w, rq, http.StatusOK, u)
}

// courtsView is the courts page.
type courtsView struct {
	Courts []*courtside.Court
	Travel []travelLine
}

// travelLine is the travel time between two courts.
type travelLine struct {
	From, To string
	Minutes  int
}

// adminCourts lists the courts with their hours and the travel times between them.
func (a *App) adminCourts(w http.ResponseWriter, rq *request) {
	ctx := rq.ctx()
	courts, err := a.cfg.Courts.FindCourts(ctx)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	v := &courtsView{Courts: courts}
	if len(courts) <= maxCourtsForTravel {
		for i, c := range courts {
			for _, d := range courts[i+1:] {
				m, err := a.cfg.Courts.TravelTime(ctx, c.ID, d.ID)
				if err != nil {
					a.fail(w, rq, err)
					return
				}
				v.Travel = append(v.Travel, travelLine{From: c.Name, To: d.Name, Minutes: m})
			}
		}
	}
	a.render(w, rq, "courts", v)
}

// createCourt adds a court with its zone and hours.
func (a *App) createCourt(w http.ResponseWriter, rq *request) {
	f := rq.r.PostForm
	c := &courtside.Court{Name: strings.TrimSpace(f.Get("name")), TimeZone: strings.TrimSpace(f.Get("time_zone")), Address: strings.TrimSpace(f.Get("address"))}
	if opens, closes := strings.TrimSpace(f.Get("opens")), strings.TrimSpace(f.Get("closes")); opens != "" || closes != "" {
		o, err := courtside.ParseClock("opensAt", opens)
		if err != nil {
			a.fail(w, rq, err)
			return
		}
		cl, err := courtside.ParseClock("closesAt", closes)
		if err != nil {
			a.fail(w, rq, err)
			return
		}
		c.Hours = courtside.CourtHours{Opens: o, Closes: cl}
	}
	if err := a.cfg.Courts.CreateCourt(rq.ctx(), c); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.redirect(w, rq, "/admin/courts", rq.T("The court %s is added.", c.Name))
}

// setTravelTime sets the travel time between two courts, both ways.
func (a *App) setTravelTime(w http.ResponseWriter, rq *request) {
	from, ok1 := formID(rq, "from")
	to, ok2 := formID(rq, "to")
	minutes, err := strconv.Atoi(strings.TrimSpace(rq.r.PostForm.Get("minutes")))
	if !ok1 || !ok2 || err != nil {
		a.refuse(w, rq, http.StatusBadRequest, rq.T("Choose two courts and give the minutes."))
		return
	}
	if _, err := a.cfg.Courts.SetTravelTime(rq.ctx(), from, to, minutes); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.redirect(w, rq, "/admin/courts", rq.T("The travel time is saved."))
}

// webhooksView is the webhooks page.
type webhooksView struct {
	Available bool
	Orgs      []string
	SetFor    string
	Secret    string
}

// adminWebhooks shows the form to set an organisation's webhook receiver.
func (a *App) adminWebhooks(w http.ResponseWriter, rq *request) {
	a.renderWebhooks(w, rq, &webhooksView{})
}

func (a *App) renderWebhooks(w http.ResponseWriter, rq *request, v *webhooksView) {
	v.Available = a.cfg.Webhooks != nil && a.cfg.NewWebhookSecret != nil
	users, err := a.cfg.Users.FindUsers(rq.ctx(), courtside.UserFilter{})
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	seen := map[string]bool{}
	for _, u := range users {
		if u.Organization != nil && !seen[u.Organization.Name] {
			seen[u.Organization.Name] = true
			v.Orgs = append(v.Orgs, u.Organization.Name)
		}
	}
	sort.Strings(v.Orgs)
	a.render(w, rq, "webhooks", v)
}

// setWebhook sets an organisation's receiver with a new signing secret, shown once.
func (a *App) setWebhook(w http.ResponseWriter, rq *request) {
	if a.cfg.Webhooks == nil || a.cfg.NewWebhookSecret == nil {
		a.refuse(w, rq, http.StatusNotImplemented, rq.T("Webhooks cannot be set here in this version of Courtside."))
		return
	}
	org := strings.TrimSpace(rq.r.PostForm.Get("organisation"))
	secret := a.cfg.NewWebhookSecret()
	if err := a.cfg.Webhooks.SetWebhookEndpoint(rq.ctx(), org, strings.TrimSpace(rq.r.PostForm.Get("url")), secret); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.renderWebhooks(w, rq, &webhooksView{SetFor: org, Secret: secret})
}

// eventsView is the failed events page.
type eventsView struct {
	Available bool
	Events    []FailedEvent
}

// failedEvents lists the events that failed, when the service is there.
func (a *App) failedEvents(w http.ResponseWriter, rq *request) {
	v := &eventsView{Available: a.cfg.FailedEvents != nil}
	if v.Available {
		var err error
		if v.Events, err = a.cfg.FailedEvents.FindFailedEvents(rq.ctx(), 200); err != nil {
			a.fail(w, rq, err)
			return
		}
	}
	a.render(w, rq, "events", v)
}

// retryEvent hands a failed event back to its consumer group.
func (a *App) retryEvent(w http.ResponseWriter, rq *request) {
	if a.cfg.FailedEvents == nil {
		a.refuse(w, rq, http.StatusNotImplemented, rq.T("The list of failed events is not available in this version of Courtside."))
		return
	}
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	if err := a.cfg.FailedEvents.RetryFailedEvent(rq.ctx(), id); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.redirect(w, rq, "/admin/events", rq.T("The event is handed back; it is retried within seconds."))
}
