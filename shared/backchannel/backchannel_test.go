package backchannel

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// failingRevokes fails Revoke the first n times, as a DynamoDB outage
// would.
type failingRevokes struct {
	*memstore.Store
	n int
}

func (s *failingRevokes) Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error) {
	if s.n > 0 {
		s.n--
		return session.Session{}, false, errors.New("dynamodb: throttled")
	}
	return s.Store.Revoke(ctx, h, at, why)
}

// A logout whose revocation fails is not lost: the receiver answers 503
// and forgets the token's jti, so the IdP's retry is applied (200) and
// ends the session; a replay after that is refused.
func TestFailedLogoutIsRetried(t *testing.T) {
	f := newFixture(t)
	s := f.session(t, "alice", "op-1")
	mem := f.mem
	f.rc.cfg.Store = &failingRevokes{Store: mem, n: 1}
	raw, err := f.idp.Mint(devidp.Token{User: "alice", Audience: devidp.DefaultClientID, Headers: map[string]any{"typ": "logout+jwt"},
		Claims: map[string]any{"jti": "bcl-retry", "sid": "op-1", "events": map[string]any{token.BackchannelLogoutEvent: map[string]any{}}}})
	if err != nil {
		t.Fatal(err)
	}
	post := func() int {
		status, _ := f.post(raw)
		return status
	}
	if got := post(); got != 503 {
		t.Fatalf("logout while revocations fail = %d; want 503", got)
	}
	if got, _ := mem.Session(context.Background(), s.Hash); got.Revoked() {
		t.Fatal("the session ended though the revocation failed")
	}
	if got := post(); got != 200 {
		t.Fatalf("the IdP's retry = %d; want 200 (applied, not a replay)", got)
	}
	if got, _ := mem.Session(context.Background(), s.Hash); !got.Revoked() {
		t.Error("the session is still live after the retry")
	}
	if got := post(); got != 400 {
		t.Errorf("replay after it was applied = %d; want 400", got)
	}
}
