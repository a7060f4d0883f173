package adminapi

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/shared/ssf"
)

// subjects lists the subjects of a user search's answer.
func subjects(t *testing.T, r response) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("search = %d %s; want 200", r.status, r.body)
	}
	var out []string
	for _, u := range r.json(t)["users"].([]any) {
		out = append(out, u.(map[string]any)["subject"].(string))
	}
	return out
}

// GET /environments/{env}/users finds the users who signed in by the
// beginning of their subject, in subject order and in pages, per
// environment; every bad parameter is a 400 naming it; an admin of
// another environment gets 403.
func TestUserSearch(t *testing.T) {
	f := newFixture(t)
	adm := f.admin(t)
	for _, u := range []string{"alicia", "alice", "bob", "72f988bf-tenant/4e1f-object"} {
		f.signIn(t, u, false)
	}
	search := func(query string) response { return f.call(t, "GET", "/environments/demo/users"+query, adm, nil, "") }
	for q, want := range map[string][]string{
		"?prefix=ali":              {"alice", "alicia"},
		"":                         {"72f988bf-tenant/4e1f-object", "alice", "alicia", "bob"},
		"?prefix=":                 {"72f988bf-tenant/4e1f-object", "alice", "alicia", "bob"},
		"?prefix=72f988bf-tenant/": {"72f988bf-tenant/4e1f-object"},
		"?prefix=Ali":              nil,
		"?prefix=carol":            nil,
		"?prefix=ali&issuer=" + url.QueryEscape(f.idp.URL()): {"alice", "alicia"},
	} {
		if got := subjects(t, search(q)); !reflect.DeepEqual(got, want) {
			t.Errorf("search %q = %q; want %q", q, got, want)
		}
	}
	if got := subjects(t, f.call(t, "GET", "/environments/staging/users", adm, nil, "")); got != nil {
		t.Errorf("staging's users = %q; want none (they signed in to demo)", got)
	}
	r := search("?limit=3")
	first := subjects(t, r)
	next, _ := r.json(t)["next"].(string)
	if len(first) != 3 || next == "" {
		t.Fatalf("a page of 3 = %q, next %q; want 3 users and a cursor", first, next)
	}
	if rest := subjects(t, search("?limit=3&cursor="+url.QueryEscape(next))); !reflect.DeepEqual(append(first, rest...), subjects(t, search(""))) {
		t.Errorf("the pages = %q + %q; want the whole list", first, rest)
	}
	for q, field := range map[string]string{
		"?prefix=" + strings.Repeat("a", MaxUserPrefix+1): "prefix",
		"?prefix=a%01":                  "prefix",
		"?prefix=a%0A":                  "prefix",
		"?prefix=%FF":                   "prefix",
		"?issuer=https://evil.example/": "issuer",
		"?limit=0":                      "limit",
		"?limit=101":                    "limit",
		"?cursor=xyz":                   "cursor",
	} {
		if r := search(q); r.status != 400 || !contains(r.fields(t), field) {
			t.Errorf("search %.40q = %d %s; want 400 naming %s", q, r.status, r.body, field)
		}
	}
	if r := search("?prefix=" + strings.Repeat("a", MaxUserPrefix)); r.status != 200 {
		t.Errorf("a prefix of %d bytes = %d; want 200", MaxUserPrefix, r.status)
	}
	if r := search("?prefix=caf%C3%A9"); r.status != 200 {
		t.Errorf("a prefix of UTF-8 text = %d; want 200", r.status)
	}
	if r := f.call(t, "GET", "/environments/demo/users", f.token(t, "sam", "sessionguard-admin:staging"), nil, ""); r.status != 403 {
		t.Errorf("an admin of staging searching demo = %d; want 403", r.status)
	}
	if r := f.call(t, "GET", "/environments/demo/users", "", nil, ""); r.status != 401 {
		t.Errorf("a search without a token = %d; want 401", r.status)
	}
}

// The admin's list of sessions names each by its short id, the same as
// the hash prefix of the raw id (the id the user's own list shows), and never by the raw id;
// it shows the device the session was signed in from.
func TestSessionsListShortIDs(t *testing.T) {
	f := newFixture(t)
	id := f.signIn(t, "alice", false)
	r := f.call(t, "GET", "/environments/demo/sessions?user=alice", f.admin(t), nil, "")
	list, _ := r.json(t)["sessions"].([]any)
	if r.status != 200 || len(list) != 1 {
		t.Fatalf("sessions = %d %s", r.status, r.body)
	}
	if got := list[0].(map[string]any)["shortId"]; got != id.Hash().Prefix() {
		t.Errorf("shortId = %v; want %s", got, id.Hash().Prefix())
	}
	if got := list[0].(map[string]any)["device"]; got != "Firefox on Linux" {
		t.Errorf("device = %v; want the sign-in's", got)
	}
	if strings.Contains(string(r.body), id.Reveal()) {
		t.Error("the listing shows the raw session id")
	}
}

// GET /environments says whether the caller may manage the Shared Signals
// streams, so that the console calls GET /transmitters only when it
// answers: an admin of every environment in a deployment with
// transmitters, no one else.
func TestEnvironmentsSayWhetherStreamsAnswer(t *testing.T) {
	f := newFixture(t)
	flag := func(tok string) any {
		t.Helper()
		r := f.call(t, "GET", "/environments", tok, nil, "")
		if r.status != 200 {
			t.Fatalf("environments = %d %s", r.status, r.body)
		}
		return r.json(t)["transmitters"]
	}
	scoped := f.token(t, "sam", "sessionguard-admin:staging")
	if got := flag(f.admin(t)); got != false {
		t.Errorf("without transmitters: transmitters = %v; want false", got)
	}
	f.api.cfg.Streams = &ssf.Manager{}
	for tok, want := range map[string]bool{f.admin(t): true, scoped: false} {
		if got := flag(tok); got != want {
			t.Errorf("transmitters = %v; want %v", got, want)
		}
		if r := f.call(t, "GET", "/transmitters", tok, nil, ""); (r.status == 200) != want {
			t.Errorf("GET /transmitters = %d, but /environments said %v", r.status, want)
		}
	}
}
