package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// TestToken_HashedShownOnceRevokedAudited shows that each kind of secret is 256 random bits,
// that only its SHA-256 is stored (the secret is nowhere in the database or WAL: it is shown
// once, when issued), that revocation takes effect at once, and that issue and revoke are
// audit rows naming the token, not the secret.
func TestToken_HashedShownOnceRevokedAudited(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.advocate)
	var secrets []string
	for _, kind := range []courtside.TokenKind{courtside.TokenAPI, courtside.TokenApp, courtside.TokenFeed} {
		tok, secret, err := storage.NewTokenService(f.db).CreateToken(ctx, f.advocate.ID, kind, "test")
		if err != nil {
			t.Fatal(err)
		}
		body, ok := strings.CutPrefix(secret, "cs_"+string(kind)+"_")
		if !ok {
			t.Fatalf("%s secret %q lacks its prefix", kind, secret)
		}
		raw, err := base64.RawURLEncoding.DecodeString(body)
		if err != nil || len(raw) != 32 {
			t.Fatalf("%s secret %q: %d random bytes, %v; want 32", kind, secret, len(raw), err)
		}
		var stored []byte
		if err := f.db.Writer.QueryRow(`SELECT secret_hash FROM tokens WHERE id = ?`, tok.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256([]byte(secret)); !bytes.Equal(stored, sum[:]) {
			t.Fatalf("%s: stored %x, want the SHA-256 of the secret", kind, stored)
		}
		if u, err := storage.NewTokenService(f.db).Authenticate(ctx, kind, secret); err != nil || u.ID != f.advocate.ID {
			t.Fatalf("%s: authenticate: %v", kind, err)
		}
		if err := storage.NewTokenService(f.db).RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := storage.NewTokenService(f.db).Authenticate(ctx, kind, secret); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatalf("%s: revoked secret: %v", kind, err)
		}
		secrets = append(secrets, secret)
	}
	entries, err := storage.NewAuditService(f.db).FindAuditEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	issued, revoked := 0, 0
	for _, e := range entries {
		switch e.Action {
		case "secret.issue":
			issued++
		case "secret.revoke":
			revoked++
		}
		for _, s := range secrets {
			if strings.Contains(e.Object, s[len(s)-20:]) {
				t.Errorf("audit row holds the secret: %+v", e)
			}
		}
	}
	if issued < 3 || revoked != 3 {
		t.Errorf("audit rows: %d secret.issue, %d secret.revoke; want >= 3 and 3", issued, revoked)
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	if storagetest.Postgres() {
		return // the file's bytes are SQLite's to check
	}
	raw := rawFiles(t, f.db.Path)
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s[len(s)-20:])) {
			t.Errorf("the database file holds a secret")
		}
	}
}

// TestToken_ListedWithLastUse shows ListTokens: the user's live secrets of every kind, oldest
// first, never the secret; the time each last authenticated a request, written at most once a
// minute (uses within the minute write nothing); a revoked secret no longer listed; another
// user's secrets FORBIDDEN; an admin and the command line (no caller) may list anyone's.
func TestToken_ListedWithLastUse(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f.db.Now = func() time.Time { return now }
	ctx := f.as(f.advocate)
	var ids []int64
	secrets := map[int64]string{}
	for _, kind := range []courtside.TokenKind{courtside.TokenAPI, courtside.TokenApp, courtside.TokenFeed} {
		tok, secret, err := storage.NewTokenService(f.db).CreateToken(ctx, f.advocate.ID, kind, "phone "+string(kind))
		if err != nil {
			t.Fatal(err)
		}
		ids, secrets[tok.ID] = append(ids, tok.ID), secret
	}
	list, err := storage.NewTokenService(f.db).ListTokens(ctx, f.advocate.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != ids[0] || list[2].Kind != courtside.TokenFeed || list[1].Label != "phone app" ||
		!list[0].CreatedAt.Equal(now) || list[0].LastUsedAt != nil {
		t.Fatalf("listed %+v", list)
	}
	lastUsed := func(id int64) *time.Time {
		t.Helper()
		list, err := storage.NewTokenService(f.db).ListTokens(ctx, f.advocate.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range list {
			if tok.ID == id {
				return tok.LastUsedAt
			}
		}
		t.Fatalf("token %d not listed", id)
		return nil
	}
	api := ids[0]
	if _, err := storage.NewTokenService(f.db).Authenticate(ctx, courtside.TokenAPI, secrets[api]); err != nil {
		t.Fatal(err)
	}
	if at := lastUsed(api); at == nil || !at.Equal(now) {
		t.Fatalf("after a use: last used %v, want %v", at, now)
	}
	// Uses within the minute write nothing.
	first := now
	now = now.Add(40 * time.Second)
	statements := f.db.Statements()
	if _, err := storage.NewTokenService(f.db).Authenticate(ctx, courtside.TokenAPI, secrets[api]); err != nil {
		t.Fatal(err)
	}
	if at := lastUsed(api); !at.Equal(first) {
		t.Fatalf("a use 40 s later moved last used to %v", at)
	}
	reads := f.db.Statements() - statements
	now = now.Add(30 * time.Second)
	statements = f.db.Statements()
	if _, err := storage.NewTokenService(f.db).Authenticate(ctx, courtside.TokenAPI, secrets[api]); err != nil {
		t.Fatal(err)
	}
	if at := lastUsed(api); at == nil || !at.Equal(now) {
		t.Fatalf("a use 70 s after the first: last used %v, want %v", at, now)
	}
	if writes := f.db.Statements() - statements; writes <= reads {
		t.Fatalf("the use after a minute ran %d statements, the one within it %d: no write counted", writes, reads)
	}
	// App passwords are noted through CalDAV's check too.
	if _, err := storage.NewTokenService(f.db).AuthenticateAppPassword(ctx, "adv", secrets[ids[1]]); err != nil || lastUsed(ids[1]) == nil {
		t.Fatalf("app password use not noted: %v", err)
	}
	// Revoked: gone from the list.
	if err := storage.NewTokenService(f.db).RevokeToken(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if list, _ := storage.NewTokenService(f.db).ListTokens(ctx, f.advocate.ID, 0); len(list) != 2 {
		t.Fatalf("after revoking one: %d listed", len(list))
	}
	if list, _ := storage.NewTokenService(f.db).ListTokens(ctx, f.advocate.ID, 1); len(list) != 1 || list[0].ID != api {
		t.Fatalf("limit 1: %+v", list)
	}
	if _, err := storage.NewTokenService(f.db).ListTokens(f.as(f.otherAdvocate), f.advocate.ID, 0); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		t.Fatalf("another user's secrets: %v", err)
	}
	for _, c := range []context.Context{f.as(f.admin), context.Background()} {
		if list, err := storage.NewTokenService(f.db).ListTokens(c, f.advocate.ID, 0); err != nil || len(list) != 2 {
			t.Fatalf("admin or command line: %d, %v", len(list), err)
		}
	}
}
