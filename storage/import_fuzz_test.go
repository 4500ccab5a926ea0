package storage_test

import (
	"context"
	"courtside/storage"
	"strings"
	"testing"

	"courtside"
)

// FuzzImportHearings feeds arbitrary docket files to the import: every answer is a success or
// an EINVALID error that names a line, never a panic or an internal error.
func FuzzImportHearings(f *testing.F) {
	db := MustOpenDB(f)
	ctx := context.Background()
	admin, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "admin", Role: courtside.RoleAdmin}})
	if err != nil {
		f.Fatal(err)
	}
	pros, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "pros", Role: courtside.RoleProsecutor}, OrganizationName: "DA"})
	if err != nil {
		f.Fatal(err)
	}
	if err := storage.NewCourtService(db).CreateCourt(courtside.NewContextWithUser(ctx, admin), &courtside.Court{Name: "Main Courthouse", TimeZone: "America/New_York"}); err != nil {
		f.Fatal(err)
	}
	f.Add(docket)
	f.Add("external_id,docket,court,kind,starts_at,ends_at\nA,1,Main Courthouse,PLEA,2026-03-08 02:30,2026-03-08 03:30\n")
	f.Add("\ufeffexternal_id,docket,court,kind,starts_at,ends_at,status\n\"A\nB\",\"x\"\"y\",Main Courthouse,trial,2026-12-01T09:00:00+14:00,2026-12-01T10:00:00-12:00,held\n")
	as := courtside.NewContextWithUser(ctx, pros)
	f.Fuzz(func(t *testing.T, csv string) {
		_, err := storage.NewImportService(db).ImportHearings(as, strings.NewReader(csv), nil)
		if err == nil {
			return
		}
		if courtside.ErrorCode(err) != courtside.EINVALID || !strings.Contains(courtside.ErrorMessage(err), "line ") {
			t.Fatalf("import answered %v", err)
		}
	})
}
