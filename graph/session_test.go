package graph_test

import (
	"bytes"
	"context"
	"courtside/storage"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"courtside"
)

// asBearer runs an operation with a raw bearer secret.
func (e *env) asBearer(secret, query string, vars map[string]any) *response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	return e.send(req)
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	const pw = "tidal basin lantern 42"
	if _, err := storage.NewUserService(e.db).CreateUser(context.Background(), courtside.NewUser{User: courtside.User{Username: "maria", Role: courtside.RoleCoordinator},
		OrganizationName: "Safe Harbor", Password: pw}); err != nil {
		t.Fatal(err)
	}
	const login = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt user { username role } } }`
	var out struct {
		Login struct {
			Token, ExpiresAt string
			User             struct{ Username, Role string }
		}
	}
	e.gql("", login, map[string]any{"u": "maria", "p": pw}).ok(&out)
	if !strings.HasPrefix(out.Login.Token, "cs_ses_") || out.Login.User.Role != "COORDINATOR" || out.Login.ExpiresAt == "" {
		t.Fatalf("login: %+v", out)
	}
	var me struct{ Me struct{ Username string } }
	e.asBearer(out.Login.Token, `{ me { username } }`, nil).ok(&me)
	if me.Me.Username != "maria" {
		t.Fatalf("me with a session: %+v", me)
	}
	e.gql("", login, map[string]any{"u": "maria", "p": "not the password at all"}).fails("UNAUTHENTICATED")
	e.gql("", login, map[string]any{"u": "nobody", "p": pw}).fails("UNAUTHENTICATED")
	// logout needs a session, not an API token.
	e.gql("coord", `mutation { logout }`, nil).fails("INVALID")
	var lo struct{ Logout bool }
	e.asBearer(out.Login.Token, `mutation { logout }`, nil).ok(&lo)
	if !lo.Logout {
		t.Fatal("logout answered false")
	}
	if r := e.asBearer(out.Login.Token, `{ me { username } }`, nil); r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
		t.Fatalf("after logout: %d %+v", r.Status, r.Errors)
	}
	// Five failures lock the account: the right password is refused too.
	for i := 0; i < 5; i++ {
		e.gql("", login, map[string]any{"u": "maria", "p": "wrong password number x"}).fails("UNAUTHENTICATED")
	}
	e.gql("", login, map[string]any{"u": "maria", "p": pw}).fails("UNAUTHENTICATED")
}

func TestSecrets(t *testing.T) {
	e := newEnv(t)
	var app struct{ CreateAppPassword struct{ ID, Secret string } }
	e.gql("adv", `mutation { createAppPassword(label: "phone") { id secret } }`, nil).ok(&app)
	if !strings.HasPrefix(app.CreateAppPassword.Secret, "cs_app_") {
		t.Fatalf("app password %+v", app)
	}
	if u, err := storage.NewTokenService(e.db).AuthenticateAppPassword(context.Background(), "adv", app.CreateAppPassword.Secret); err != nil || u.Username != "adv" {
		t.Fatalf("the app password does not open CalDAV: %v", err)
	}
	var feed struct{ CreateFeedToken struct{ Secret, URL string } }
	e.gql("adv", `mutation { createFeedToken(label: "google") { secret url } }`, nil).ok(&feed)
	if !strings.Contains(feed.CreateFeedToken.URL, "/feeds/"+feed.CreateFeedToken.Secret+".ics") {
		t.Fatalf("feed %+v", feed)
	}
	var api struct{ CreateApiToken struct{ ID, Secret string } }
	e.gql("pros", `mutation { createApiToken(label: "case system") { id secret } }`, nil).ok(&api)
	e.asBearer(api.CreateApiToken.Secret, `{ me { username } }`, nil).ok(nil)
	// Another user cannot revoke it; its owner can, with immediate effect.
	e.gql("adv", `mutation($id: ID!) { revokeSecret(id: $id) }`, map[string]any{"id": api.CreateApiToken.ID}).fails("NOT_FOUND")
	e.gql("pros", `mutation($id: ID!) { revokeSecret(id: $id) }`, map[string]any{"id": api.CreateApiToken.ID}).ok(nil)
	if r := e.asBearer(api.CreateApiToken.Secret, `{ me { username } }`, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("revoked token still works: %d", r.Status)
	}
	// Revoking the app password ends CalDAV access at once.
	e.gql("adv", `mutation($id: ID!) { revokeSecret(id: $id) }`, map[string]any{"id": app.CreateAppPassword.ID}).ok(nil)
	if _, err := storage.NewTokenService(e.db).AuthenticateAppPassword(context.Background(), "adv", app.CreateAppPassword.Secret); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("revoked app password: %v", err)
	}
	e.gql("", `mutation { createAppPassword(label: "x") { id } }`, nil).fails("UNAUTHENTICATED")
}

func TestImportHearings(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	_ = f
	csv := "external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n" +
		"EXT-1,CR-2030-0042,County Courthouse,ARRAIGNMENT,2030-03-04 09:30,2030-03-04 11:00,4B,Judge of Part 4,\n" +
		"EXT-2,CR-2030-0099,County Courthouse,PLEA,2030-03-05 14:00,2030-03-05 15:00,2A,,\n"
	const imp = `mutation($csv: String!) { importHearings(csv: $csv) { created updated unchanged } }`
	var out struct {
		ImportHearings struct{ Created, Updated, Unchanged int }
	}
	e.gql("pros", imp, map[string]any{"csv": csv}).ok(&out)
	if out.ImportHearings.Created != 1 || out.ImportHearings.Unchanged != 1 || out.ImportHearings.Updated != 0 {
		t.Fatalf("first import: %+v", out)
	}
	e.gql("pros", imp, map[string]any{"csv": csv}).ok(&out)
	if out.ImportHearings.Unchanged != 2 {
		t.Fatalf("re-import: %+v", out)
	}
	moved := strings.Replace(csv, "2030-03-05 14:00,2030-03-05 15:00", "2030-03-12 14:00,2030-03-12 15:00", 1)
	e.gql("pros", imp, map[string]any{"csv": moved}).ok(&out)
	if out.ImportHearings.Updated != 1 {
		t.Fatalf("continuance: %+v", out)
	}
	r := e.gql("pros", imp, map[string]any{"csv": csv + "EXT-3,CR-1,Nowhere,PLEA,2030-03-05 14:00,2030-03-05 15:00,,,\n"}).fails("INVALID")
	if !strings.Contains(r.Errors[0].Message, "line 4, column court") {
		t.Fatalf("error does not name line and column: %+v", r.Errors)
	}
	e.gql("coord", imp, map[string]any{"csv": csv}).fails("FORBIDDEN")
}

func TestSetContactPolicy(t *testing.T) {
	e := newEnv(t)
	var v struct{ RegisterVictim struct{ ID string } }
	e.gql("coord", `mutation { registerVictim(input: {pseudonym: "V-5", legalName: "Name Five", preferredLanguage: "vi",
		contacts: [{channel: SMS, address: "+12025550111"}]}) { id } }`, nil).ok(&v)
	const set = `mutation($id: ID!, $in: ContactPolicyInput!) { setContactPolicy(victimId: $id, input: $in) {
		policy { channels { channel allowed detail } quietHoursStart quietHoursEnd neutralSender } contacts { channel confirmedSafeAt } } }`
	in := map[string]any{"channels": []any{map[string]any{"channel": "SMS", "allowed": true, "detail": "MINIMAL", "confirmedSafe": true},
		map[string]any{"channel": "EMAIL", "allowed": false, "detail": "CONTENT_FREE"}},
		"quietHoursStart": "21:00", "quietHoursEnd": "07:30", "neutralSender": "Appointments"}
	var out struct {
		SetContactPolicy struct {
			Policy struct {
				Channels []struct {
					Channel, Detail string
					Allowed         bool
				}
				QuietHoursStart, QuietHoursEnd, NeutralSender string
			}
			Contacts []struct {
				Channel         string
				ConfirmedSafeAt *string
			}
		}
	}
	e.gql("coord", set, map[string]any{"id": v.RegisterVictim.ID, "in": in}).ok(&out)
	p := out.SetContactPolicy
	if len(p.Policy.Channels) != 2 || p.Policy.Channels[0].Detail != "MINIMAL" || !p.Policy.Channels[0].Allowed || p.Policy.QuietHoursEnd != "07:30" ||
		len(p.Contacts) != 1 || p.Contacts[0].ConfirmedSafeAt == nil {
		t.Fatalf("policy %+v", p)
	}
	bad := map[string]any{"channels": []any{}, "quietHoursStart": "9pm", "quietHoursEnd": "07:30"}
	e.gql("coord", set, map[string]any{"id": v.RegisterVictim.ID, "in": bad}).fails("INVALID", "input.quietHoursStart")
	zone := map[string]any{"channels": []any{}, "timeZone": "Mars/Olympus_Mons"}
	e.gql("coord", set, map[string]any{"id": v.RegisterVictim.ID, "in": zone}).fails("INVALID", "input.timeZone")
	dup := map[string]any{"channels": []any{map[string]any{"channel": "SMS", "allowed": true, "detail": "FULL"},
		map[string]any{"channel": "SMS", "allowed": false, "detail": "FULL"}}}
	e.gql("coord", set, map[string]any{"id": v.RegisterVictim.ID, "in": dup}).fails("INVALID", "input.channels")
	e.gql("pros", set, map[string]any{"id": v.RegisterVictim.ID, "in": in}).fails("FORBIDDEN")
	e.gql("adv", set, map[string]any{"id": v.RegisterVictim.ID, "in": in}).fails("FORBIDDEN")
}
