package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// endedIdPSessions: an ended IdP session is remembered per environment and
// issuer, from its first end, until its retention passes.
func endedIdPSessions(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	if _, ended, err := st.IdPSessionEnded(ctx, "prod", alice.Issuer, "sid-1"); err != nil || ended {
		t.Fatalf("IdPSessionEnded before any end = %v, %v; want false", ended, err)
	}
	if err := st.EndIdPSession(ctx, "prod", alice.Issuer, "sid-1", T0); err != nil {
		t.Fatal(err)
	}
	if err := st.EndIdPSession(ctx, "prod", alice.Issuer, "sid-1", T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if at, ended, err := st.IdPSessionEnded(ctx, "prod", alice.Issuer, "sid-1"); err != nil || !ended || !at.Equal(T0) {
		t.Errorf("IdPSessionEnded(prod, sid-1) = %v, %v, %v; want the first end, %v", at, ended, err, T0)
	}
	for _, c := range []struct{ env, iss, sid string }{{"staging", alice.Issuer, "sid-1"}, {"prod", "https://other.example/", "sid-1"}, {"prod", alice.Issuer, "sid-2"}} {
		if _, ended, err := st.IdPSessionEnded(ctx, c.env, c.iss, c.sid); err != nil || ended {
			t.Errorf("IdPSessionEnded(%+v) = %v, %v; want false", c, ended, err)
		}
	}
	// The IdP session's links still list only sessions.
	if hs, err := st.IdPSessionHashes(ctx, alice.Issuer, "sid-1"); err != nil || len(hs) != 0 {
		t.Errorf("IdPSessionHashes of an ended IdP session with no sessions = %v, %v; want none", hs, err)
	}
	clock.Set(T0.Add(session.EndedIdPSessionRetention))
	if _, ended, err := st.IdPSessionEnded(ctx, "prod", alice.Issuer, "sid-1"); err != nil || ended {
		t.Errorf("IdPSessionEnded after the retention = %v, %v; want false", ended, err)
	}
}

// idpSessionHashes: IdPSessionHashes lists the sessions of one IdP session,
// in every environment, and only those of its issuer.
func idpSessionHashes(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	var in []session.Hash
	for i, sid := range []string{"op-1", "op-1", "op-2", ""} {
		env := []string{"prod", "test", "prod", "prod"}[i]
		s := NewSession(t, env, alice, T0, policy.Defaults())
		s.IdPSession = sid
		create(t, st, s, session.Limit{})
		if sid == "op-1" {
			in = append(in, s.Hash)
		}
	}
	got, err := st.IdPSessionHashes(ctx, alice.Issuer, "op-1")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b session.Hash) int { return strings.Compare(a.String(), b.String()) })
	slices.SortFunc(in, func(a, b session.Hash) int { return strings.Compare(a.String(), b.String()) })
	if !slices.Equal(got, in) {
		t.Fatalf("IdPSessionHashes(op-1) = %v; want the two sessions of op-1, in both environments", got)
	}
	if got, err := st.IdPSessionHashes(ctx, "https://other.example", "op-1"); err != nil || len(got) != 0 {
		t.Fatalf("another issuer's op-1 = %v, %v; want none", got, err)
	}
}
