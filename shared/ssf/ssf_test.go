package ssf

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/signals"
	"github.com/sessionguard/sessionguard/shared/token"
)

const audience = "https://api.example/signals"

type fixture struct {
	idp      *devidp.Issuer
	store    *memstore.Store
	receiver *signals.Receiver
	m        *Manager
}

// newFixture: the development issuer as the transmitter, a signals
// receiver behind an HTTP server (the push endpoint), and a manager.
func newFixture(t *testing.T, credential string) *fixture {
	t.Helper()
	idp, stop, err := devidp.NewServer(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	v, err := token.NewVerifier(token.Config{Issuers: []token.Issuer{{Issuer: idp.URL(), Audiences: []string{audience}}}})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(nil)
	rc := signals.New(signals.Config{Verifier: v, Store: store, Environments: []string{"prod"}, SubjectIssuers: map[string][]string{idp.URL(): {idp.URL()}}, Verifications: store})
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	m := &Manager{Store: store, PushURL: srv.URL, Transmitters: []Transmitter{{Issuer: idp.URL(), Audience: audience,
		Credential: func(context.Context) (string, error) { return credential, nil }}}}
	return &fixture{idp: idp, store: store, receiver: rc, m: m}
}

func (f *fixture) signIn(t *testing.T, user string) session.Hash {
	t.Helper()
	id, _ := session.NewID()
	s := session.Session{Hash: id.Hash(), Environment: "prod", User: session.UserKey{Issuer: f.idp.URL(), Subject: user},
		CreatedAt: time.Now(), AuthTime: time.Now(), Settings: policy.Defaults()}
	if _, err := f.store.Create(context.Background(), s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	return s.Hash
}

// Stream setup from the transmitter's metadata, a verification event that
// arrives, and the stream's status read and changed.
func TestStreamSetupVerificationAndStatus(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, devidp.TransmitterCredential)
	iss := f.idp.URL()
	s, cfg, err := f.m.Setup(ctx, iss, "push")
	if err != nil {
		t.Fatal(err)
	}
	if s.StreamID == "" || cfg.Delivery.Method != PushDelivery || cfg.Delivery.EndpointURL != f.m.PushURL || len(cfg.EventsDelivered) != 4 {
		t.Fatalf("stream = %+v, config %+v; want a push stream to the receiver, 4 events delivered", s, cfg)
	}
	s, err = f.m.RequestVerification(ctx, iss)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Verified() || s.VerifiedAt.IsZero() {
		t.Fatalf("after the verification request: %+v; want verified (the event was pushed and recorded)", s)
	}
	if st, err := f.m.Status(ctx, iss); err != nil || st.Status != "enabled" {
		t.Fatalf("status = %+v, %v; want enabled", st, err)
	}
	if st, err := f.m.SetStatus(ctx, iss, "paused", "maintenance"); err != nil || st.Status != "paused" || st.Reason != "maintenance" {
		t.Fatalf("SetStatus(paused) = %+v, %v", st, err)
	}
	if n, _ := f.idp.Emit("carol", "session-revoked"); n != 0 {
		t.Errorf("a paused stream was delivered %d events; want 0", n)
	}
	if _, err := f.m.SetStatus(ctx, iss, "sleeping", ""); err == nil {
		t.Error("SetStatus(sleeping) succeeded")
	}
	// Set up again: the same stream, updated.
	again, _, err := f.m.Setup(ctx, iss, "push")
	if err != nil || again.StreamID != s.StreamID {
		t.Errorf("a second setup = %+v, %v; want the same stream %s", again, err, s.StreamID)
	}
}

func TestWrongCredentialIsRefused(t *testing.T) {
	f := newFixture(t, "not-the-credential")
	if _, _, err := f.m.Setup(context.Background(), f.idp.URL(), "push"); err == nil {
		t.Fatal("Setup with a wrong credential succeeded")
	}
	if _, _, err := f.m.Setup(context.Background(), "https://unknown.example", "push"); !errors.Is(err, ErrUnknownTransmitter) {
		t.Fatalf("Setup at an unknown transmitter = %v; want ErrUnknownTransmitter", err)
	}
}

// The same session-revoked event, delivered by push and by poll, ends the
// user's sessions the same way; a polled SET is acknowledged once.
func TestPushAndPollGiveTheSameResult(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, devidp.TransmitterCredential)
	iss := f.idp.URL()
	carol, dave := f.signIn(t, "carol"), f.signIn(t, "dave")
	if _, _, err := f.m.Setup(ctx, iss, "push"); err != nil {
		t.Fatal(err)
	}
	if n, err := f.idp.Emit("carol", "session-revoked"); n != 1 || err != nil {
		t.Fatalf("push: %d delivered, %v", n, err)
	}
	s, cfg, err := f.m.Setup(ctx, iss, "poll")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Delivery.Method != PollDelivery || s.PollURL == "" {
		t.Fatalf("poll stream = %+v; want poll delivery with an endpoint", cfg)
	}
	if n, err := f.idp.Emit("dave", "session-revoked"); n != 1 || err != nil {
		t.Fatalf("queue for poll: %d, %v", n, err)
	}
	got, _ := f.store.Session(ctx, dave)
	if got.Revoked() {
		t.Fatal("dave's session ended before the poll")
	}
	rep, err := f.m.Poll(ctx, f.receiver)
	if err != nil || rep[iss].Applied != 1 {
		t.Fatalf("poll = %+v, %v; want 1 applied", rep, err)
	}
	for name, h := range map[string]session.Hash{"carol (push)": carol, "dave (poll)": dave} {
		s, err := f.store.Session(ctx, h)
		if err != nil || !s.Revoked() || s.RevokeReason != session.CauseSignalRevoked {
			t.Errorf("%s: %+v, %v; want revoked by signal_session_revoked", name, s, err)
		}
	}
	if rep, _ := f.m.Poll(ctx, f.receiver); rep[iss].Received != 0 {
		t.Errorf("a second poll received %d; want 0 (the first was acknowledged)", rep[iss].Received)
	}
	if f.idp.Pushed() != 1 { // carol's event; dave's was polled
		t.Errorf("pushed %d SETs; want 1", f.idp.Pushed())
	}
}
