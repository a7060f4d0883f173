package storetest

import (
	"context"
	"testing"
)

// usernames: usernames map to subjects and back, per issuer; a name given to
// a new subject maps to it, and the old subject keeps its name.
func usernames(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	const iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X"
	if err := st.RecordUsername(ctx, iss, "sub-1", "mary"); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordUsername(ctx, iss, "sub-1", "mary"); err != nil { // every sign-in records it again
		t.Fatal(err)
	}
	if got, err := st.SubjectOf(ctx, iss, "mary"); err != nil || got != "sub-1" {
		t.Fatalf("SubjectOf(mary) = %q, %v; want sub-1", got, err)
	}
	if got, err := st.UsernameOf(ctx, iss, "sub-1"); err != nil || got != "mary" {
		t.Fatalf("UsernameOf(sub-1) = %q, %v; want mary", got, err)
	}
	// A user deleted and created again under the same name is a new subject.
	if err := st.RecordUsername(ctx, iss, "sub-2", "mary"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.SubjectOf(ctx, iss, "mary"); got != "sub-2" {
		t.Fatalf("SubjectOf(mary) after re-creation = %q; want sub-2", got)
	}
	if got, _ := st.UsernameOf(ctx, iss, "sub-1"); got != "mary" {
		t.Fatalf("UsernameOf(sub-1) after re-creation = %q; want mary (the old user's name)", got)
	}
	for _, c := range []struct{ iss, name string }{{iss, "nobody"}, {"https://other", "mary"}} {
		if got, err := st.SubjectOf(ctx, c.iss, c.name); err != nil || got != "" {
			t.Fatalf("SubjectOf(%s, %s) = %q, %v; want none", c.iss, c.name, got, err)
		}
	}
}

// directoryCursors: each directory's change cursor is stored and read back on
// its own.
func directoryCursors(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	if got, err := st.DirectoryCursor(ctx, "graph:tenant-a"); err != nil || got != "" {
		t.Fatalf("cursor before any = %q, %v; want none", got, err)
	}
	for _, c := range []string{"https://graph.example/v1.0/users/delta?$deltatoken=1", "https://graph.example/v1.0/users/delta?$deltatoken=2"} {
		if err := st.PutDirectoryCursor(ctx, "graph:tenant-a", c); err != nil {
			t.Fatal(err)
		}
		if got, err := st.DirectoryCursor(ctx, "graph:tenant-a"); err != nil || got != c {
			t.Fatalf("cursor = %q, %v; want %q", got, err, c)
		}
	}
	if got, _ := st.DirectoryCursor(ctx, "graph:tenant-b"); got != "" {
		t.Fatalf("another directory's cursor = %q; want none", got)
	}
}
