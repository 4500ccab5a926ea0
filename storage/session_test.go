package storage_test

import (
	"context"
	"courtside/storage"
	"testing"
	"time"

	"courtside"
)

func TestSession_LoginLockoutAndTimeouts(t *testing.T) {
	db := MustOpenDB(t)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	ctx := context.Background()
	const pw = "tidal basin lantern 42"
	if _, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "coord", Role: courtside.RoleCoordinator}, OrganizationName: "Org", Password: pw}); err != nil {
		t.Fatal(err)
	}
	s, token, err := storage.NewSessionService(db).Login(ctx, "coord", pw)
	if err != nil || s.ExpiresAt != now.Add(12*time.Hour) {
		t.Fatalf("login: %v %+v", err, s)
	}
	if u, _, err := storage.NewSessionService(db).AuthenticateSession(ctx, token); err != nil || u.Username != "coord" {
		t.Fatalf("authenticate: %v", err)
	}
	if _, _, err := storage.NewSessionService(db).Login(ctx, "nobody", pw); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("unknown user: %v", err)
	}
	// Idle timeout: 29 minutes of silence is fine and extends the session; 31 is not.
	now = now.Add(29 * time.Minute)
	if _, _, err := storage.NewSessionService(db).AuthenticateSession(ctx, token); err != nil {
		t.Fatalf("after 29 idle minutes: %v", err)
	}
	now = now.Add(29 * time.Minute)
	if _, _, err := storage.NewSessionService(db).AuthenticateSession(ctx, token); err != nil {
		t.Fatalf("29 minutes after the last use: %v", err)
	}
	now = now.Add(31 * time.Minute)
	if _, _, err := storage.NewSessionService(db).AuthenticateSession(ctx, token); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("after 31 idle minutes: %v", err)
	}
	// Absolute timeout: used every 20 minutes, the session still dies after 12 hours.
	_, token, err = storage.NewSessionService(db).Login(ctx, "coord", pw)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 35; i++ {
		now = now.Add(20 * time.Minute)
		if _, _, err := storage.NewSessionService(db).AuthenticateSession(ctx, token); err != nil {
			t.Fatalf("use %d: %v", i, err)
		}
	}
	now = now.Add(20 * time.Minute) // 12 h after login
	if _, _, err := storage.NewSessionService(db).AuthenticateSession(ctx, token); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("after 12 hours: %v", err)
	}
	// Logout revokes at once.
	_, token, _ = storage.NewSessionService(db).Login(ctx, "coord", pw)
	if err := storage.NewSessionService(db).Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := storage.NewSessionService(db).AuthenticateSession(ctx, token); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("after logout: %v", err)
	}
	// Five failures in 15 minutes lock the account, even for the right password, for 15 minutes.
	for i := 0; i < 5; i++ {
		now = now.Add(time.Minute)
		if _, _, err := storage.NewSessionService(db).Login(ctx, "coord", "wrong password entirely"); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, _, err := storage.NewSessionService(db).Login(ctx, "coord", pw); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("locked account accepted the password: %v", err)
	}
	now = now.Add(14 * time.Minute)
	if _, _, err := storage.NewSessionService(db).Login(ctx, "coord", pw); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("14 minutes into the lockout: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if _, _, err := storage.NewSessionService(db).Login(ctx, "coord", pw); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	// Every attempt was audited, with outcomes but no secrets.
	var ok, failed, denied int
	db.Writer.QueryRow(`SELECT COUNT(*) FILTER (WHERE outcome = 'ok'), COUNT(*) FILTER (WHERE outcome = 'failed'), COUNT(*) FILTER (WHERE outcome = 'denied') FROM audit_log WHERE action = 'login'`).Scan(&ok, &failed, &denied)
	if ok != 4 || failed != 6 || denied != 2 {
		t.Fatalf("login audit rows: ok %d failed %d denied %d", ok, failed, denied)
	}
}
