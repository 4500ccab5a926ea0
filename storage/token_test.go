package storage_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"courtside"
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
		tok, secret, err := f.db.CreateToken(ctx, f.advocate.ID, kind, "test")
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
		if u, err := f.db.Authenticate(ctx, kind, secret); err != nil || u.ID != f.advocate.ID {
			t.Fatalf("%s: authenticate: %v", kind, err)
		}
		if err := f.db.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Authenticate(ctx, kind, secret); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatalf("%s: revoked secret: %v", kind, err)
		}
		secrets = append(secrets, secret)
	}
	entries, err := f.db.FindAuditEntries(ctx)
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
	raw := rawFiles(t, f.db.Path)
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s[len(s)-20:])) {
			t.Errorf("the database file holds a secret")
		}
	}
}
