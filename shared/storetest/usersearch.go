package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// UserSearch is the admin's search for users by the beginning of their
// subject.
type UserSearch interface {
	SearchUsers(ctx context.Context, env, issuer, prefix string, p session.Page) ([]session.UserKey, string, error)
}

// searchUsers: every user who signed in to an environment is found by
// any prefix of their subject (case-sensitive, as stored, "#" and "%"
// and "/" included), in subject order, in pages, only in that
// environment and under that issuer; a user who only had a policy check
// recorded is found too; a second sign-in lists no one twice; a user who
// never signed in is not found; a revoked user stays listed.
func searchUsers(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	iss := alice.Issuer
	other := "https://other.example/"
	key := func(sub string) session.UserKey { return session.UserKey{Issuer: iss, Subject: sub} }
	for i, u := range []session.UserKey{key("alicia"), key("alice"), key("al#1%"), key("bob"), key("tid-1/oid-9"), key("Alice"),
		{Issuer: other, Subject: "alina"}, key("alice")} {
		create(t, st, NewSession(t, "prod", u, T0.Add(time.Duration(i)*time.Second), policy.Defaults()), session.Limit{})
	}
	create(t, st, NewSession(t, "staging", key("alex"), T0, policy.Defaults()), session.Limit{})
	// A user the store knows only from a policy check.
	if err := st.RecordCheck(ctx, "prod", key("alfred"), session.Check{StartedAt: T0, Answered: true, CheckedAt: T0, NextCheckAt: T0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Users the store knows, but who never signed in: not listed.
	if err := st.RecordSignOut(ctx, "prod", key("alan"), T0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeUser(ctx, "prod", key("albert"), T0, T0, session.CauseAdmin); err != nil {
		t.Fatal(err)
	}
	// A user whose sessions were all revoked stays listed.
	if _, err := st.RevokeUser(ctx, "prod", key("bob"), T0.Add(time.Hour), T0.Add(time.Hour), session.CauseAdmin); err != nil {
		t.Fatal(err)
	}
	search := func(env, issuer, prefix string) []string {
		t.Helper()
		got, next, err := st.SearchUsers(ctx, env, issuer, prefix, session.Page{Limit: 50})
		if err != nil || next != "" {
			t.Fatalf("SearchUsers(%s, %s, %q) = %v, %q, %v", env, issuer, prefix, got, next, err)
		}
		var subs []string
		for _, u := range got {
			if u.Issuer != issuer {
				t.Errorf("SearchUsers(%s, %s, %q) found %+v, of another issuer", env, issuer, prefix, u)
			}
			subs = append(subs, u.Subject)
		}
		return subs
	}
	for _, c := range []struct {
		env, issuer, prefix string
		want                []string
	}{
		{"prod", iss, "ali", []string{"alice", "alicia"}},
		{"prod", iss, "al", []string{"al#1%", "alfred", "alice", "alicia"}},
		{"prod", iss, "", []string{"Alice", "al#1%", "alfred", "alice", "alicia", "bob", "tid-1/oid-9"}},
		{"prod", iss, "al#", []string{"al#1%"}},
		{"prod", iss, "al#1%", []string{"al#1%"}},
		{"prod", iss, "al%", nil},
		{"prod", iss, "al%23", nil},
		{"prod", iss, "Ali", []string{"Alice"}},
		{"prod", iss, "alice", []string{"alice"}},
		{"prod", iss, "alice ", nil},
		{"prod", iss, "tid-1/", []string{"tid-1/oid-9"}},
		{"prod", iss, "zz", nil},
		{"prod", other, "", []string{"alina"}},
		{"prod", other + "x", "", nil},
		{"staging", iss, "al", []string{"alex"}},
		{"dev", iss, "", nil},
	} {
		if got := search(c.env, c.issuer, c.prefix); !reflect.DeepEqual(got, c.want) {
			t.Errorf("SearchUsers(%s, %s, %q) = %q; want %q", c.env, c.issuer, c.prefix, got, c.want)
		}
	}

	// In pages: the pages, in order, are the whole list.
	var paged []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("SearchUsers never ends its pages")
		}
		got, next, err := st.SearchUsers(ctx, "prod", iss, "", session.Page{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatalf("SearchUsers page %d: %v", pages+1, err)
		}
		if len(got) > 3 {
			t.Fatalf("page %d holds %d users; want at most 3", pages+1, len(got))
		}
		for _, u := range got {
			paged = append(paged, u.Subject)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if want := search("prod", iss, ""); !reflect.DeepEqual(paged, want) {
		t.Errorf("SearchUsers in pages of 3 = %q; want %q", paged, want)
	}
	if _, _, err := st.SearchUsers(ctx, "prod", iss, "", session.Page{Cursor: "not-a-cursor"}); !errors.Is(err, session.ErrBadCursor) {
		t.Errorf("SearchUsers with a bad cursor = %v; want ErrBadCursor", err)
	}
	// A cursor belongs to its search: another environment, issuer or a
	// prefix its place does not start with refuses it.
	first, next, err := st.SearchUsers(ctx, "prod", iss, "al", session.Page{Limit: 1})
	if err != nil || len(first) != 1 || next == "" {
		t.Fatalf("SearchUsers(prod, %s, \"al\"), page of 1 = %v, %q, %v; want one user and a cursor", iss, first, next, err)
	}
	if got, _, err := st.SearchUsers(ctx, "prod", iss, "al", session.Page{Limit: 1, Cursor: next}); err != nil || len(got) != 1 || got[0] == first[0] {
		t.Errorf("SearchUsers(prod, %s, \"al\") with its own cursor = %v, %v; want the next user after %v", iss, got, err, first)
	}
	for _, o := range []struct{ env, issuer, prefix string }{{"staging", iss, "al"}, {"prod", other, "al"}, {"prod", iss, "b"}, {"prod", iss, "tid-1/"}} {
		if got, _, err := st.SearchUsers(ctx, o.env, o.issuer, o.prefix, session.Page{Cursor: next}); !errors.Is(err, session.ErrBadCursor) {
			t.Errorf("SearchUsers(%s, %s, %q) with the cursor of a search of \"al\" in prod = %v, %v; want ErrBadCursor", o.env, o.issuer, o.prefix, got, err)
		}
	}
}
