package revoke_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/storetest"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func TestUser(t *testing.T) {
	ctx := context.Background()
	alice := session.UserKey{Issuer: "https://idp.example/", Subject: "alice"}
	for _, c := range []struct {
		cause   session.Cause
		disable bool
	}{
		{session.CauseAdmin, false}, {session.CauseIdPLogout, false}, {session.CauseSignalRevoked, false},
		{session.CauseSignalCredential, false}, {session.CauseCognitoSignedOut, false}, {session.CauseRevokedAtIdP, false},
		{session.CauseSignalDisabled, true}, {session.CauseUserDisabled, true}, {session.CauseUserDeleted, true},
		{session.CauseCognitoDisabled, true}, {session.CauseCognitoDeleted, true},
	} {
		t.Run(string(c.cause), func(t *testing.T) {
			st := memstore.New(func() time.Time { return t0 })
			var live []session.Session
			for _, env := range []string{"prod", "staging"} {
				s := storetest.NewSession(t, env, alice, t0, policy.Defaults())
				if _, err := st.Create(ctx, s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
					t.Fatal(err)
				}
				live = append(live, s)
			}
			at := t0.Add(time.Minute)
			ended, err := revoke.User(ctx, st, revoke.Request{Environments: []string{"prod", "staging"}, User: alice, At: at, Cause: c.cause})
			if err != nil || len(ended) != 2 {
				t.Fatalf("User = %d sessions, %v; want both environments' sessions", len(ended), err)
			}
			for _, s := range live {
				got, _ := st.Session(ctx, s.Hash)
				if !got.RevokedAt.Equal(at) || got.RevokeReason != c.cause {
					t.Errorf("session in %s = revoked at %v for %q; want %v, %q", s.Environment, got.RevokedAt, got.RevokeReason, at, c.cause)
				}
				u, _ := st.User(ctx, s.Environment, alice)
				if u.Disabled != c.disable || !u.SessionsValidFrom.Equal(at) {
					t.Errorf("user in %s = disabled %v, valid from %v; want disabled %v, valid from %v", s.Environment, u.Disabled, u.SessionsValidFrom, c.disable, at)
				}
			}
		})
	}
}

// failingRevokes fails RevokeUser in one environment.
type failingRevokes struct {
	*memstore.Store
	env string
}

func (s failingRevokes) RevokeUser(ctx context.Context, env string, user session.UserKey, from, at time.Time, why session.Cause) ([]session.Session, error) {
	if env == s.env {
		return nil, errors.New("dynamodb: throttled")
	}
	return s.Store.RevokeUser(ctx, env, user, from, at, why)
}

// A failure is returned, naming the environment; a disable comes before
// the sessions end, so it stands even when ending them fails.
func TestUserFailsClosed(t *testing.T) {
	ctx := context.Background()
	alice := session.UserKey{Issuer: "https://idp.example/", Subject: "alice"}
	st := memstore.New(func() time.Time { return t0 })
	_, err := revoke.User(ctx, failingRevokes{st, "prod"}, revoke.Request{Environments: []string{"prod"}, User: alice, At: t0, Cause: session.CauseSignalDisabled})
	if err == nil {
		t.Fatal("User with a failing store = nil error")
	}
	if u, _ := st.User(ctx, "prod", alice); !u.Disabled {
		t.Error("the disable did not stand when ending the sessions failed")
	}
}

// An IdP session with more sessions linked than MaxIdPSessionLinks: the
// first MaxIdPSessionLinks are handled, then IdPSession stops and reports
// ErrTooManyLinks; the rest are left as they are.
func TestIdPSessionBounded(t *testing.T) {
	ctx := context.Background()
	alice := session.UserKey{Issuer: "https://idp.example/", Subject: "alice"}
	st := memstore.New(func() time.Time { return t0 })
	var all []session.Session
	for range revoke.MaxIdPSessionLinks + 1 {
		s := storetest.NewSession(t, "prod", alice, t0, policy.Defaults())
		s.IdPSession = "big"
		if _, err := st.Create(ctx, s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	ended, err := revoke.IdPSession(ctx, st, alice.Issuer, "big", t0.Add(time.Minute), session.CauseIdPLogout, nil)
	if !errors.Is(err, revoke.ErrTooManyLinks) || len(ended) != revoke.MaxIdPSessionLinks {
		t.Fatalf("IdPSession of %d sessions = %d ended, %v; want %d ended and ErrTooManyLinks", len(all), len(ended), err, revoke.MaxIdPSessionLinks)
	}
	left := 0
	for _, s := range all {
		if got, _ := st.Session(ctx, s.Hash); !got.Revoked() {
			left++
		}
	}
	if left != 1 {
		t.Errorf("%d sessions left unrevoked; want 1", left)
	}
}
