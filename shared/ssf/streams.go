package ssf

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sessionguard/sessionguard/shared/signals"
	"github.com/sessionguard/sessionguard/shared/stream"
)

// StreamStore keeps this receiver's stream at each transmitter.
type StreamStore interface {
	// PutStream stores s only if the stream id stored at s.Transmitter is
	// still was, the id read before ("": no stream stored), and reports
	// whether it did; the verification that arrived is kept.
	PutStream(ctx context.Context, s stream.Stream, was string) (bool, error)
	Stream(ctx context.Context, transmitter string) (stream.Stream, bool, error)
}

// Transmitter is one configured transmitter.
type Transmitter struct {
	Issuer string
	// Audience is this receiver's id at the transmitter: the aud of its SETs.
	Audience string
	// Credential returns the bearer credential the transmitter gave this
	// receiver for its stream management API (read from Secrets Manager
	// or SSM in a deployment).
	Credential func(ctx context.Context) (string, error)
}

// Manager sets up and runs this receiver's streams.
type Manager struct {
	Transmitters []Transmitter
	Store        StreamStore
	// PushURL is this deployment's push endpoint (its /signals).
	PushURL string
	HTTP    *http.Client
	Now     func() time.Time
}

// EventsRequested are the event types the receiver acts on.
var EventsRequested = []string{signals.SessionRevoked, signals.CredentialChange, signals.AccountDisabled, signals.AccountPurged}

// ErrUnknownTransmitter is returned for an issuer not configured.
var ErrUnknownTransmitter = errors.New("ssf: not a configured transmitter")

// ErrStreamChanged is returned when the stored stream changed between a
// call's read and its write: another setup, verification request or reset
// of the same stream ran at the same time. Nothing of the losing call is
// stored, and a stream it created at the transmitter is deleted there.
var ErrStreamChanged = errors.New("ssf: the stream was changed at the same time by another call")

// ErrStreamNotUpdated is returned when the transmitter answers 404 to the
// update of the stored stream yet still serves it when read: it has not
// lost the stream, so no second one is created.
var ErrStreamNotUpdated = errors.New("ssf: the transmitter answered 404 to the update of a stream it still serves")

// lastRequestTimeout bounds a request sent on a context of its own, after
// the caller's may have ended: a poll run's last acknowledgement, the
// deletion of a stream that could not be stored.
const lastRequestTimeout = 5 * time.Second

// detached is a short context that outlives the cancellation of ctx.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), lastRequestTimeout)
}

// now is the manager's clock: Now, else the time.
func (m *Manager) now() time.Time {
	if m.Now == nil {
		return time.Now()
	}
	return m.Now()
}

// transmitter is the configured transmitter of issuer.
func (m *Manager) transmitter(issuer string) (Transmitter, error) {
	for _, t := range m.Transmitters {
		if t.Issuer == issuer {
			return t, nil
		}
	}
	return Transmitter{}, fmt.Errorf("%w: %q", ErrUnknownTransmitter, issuer)
}

// client discovers the transmitter and reads its credential.
func (m *Manager) client(ctx context.Context, t Transmitter) (*Client, error) {
	meta, err := Discover(ctx, m.HTTP, t.Issuer)
	if err != nil {
		return nil, err
	}
	bearer := ""
	if t.Credential != nil {
		if bearer, err = t.Credential(ctx); err != nil {
			return nil, fmt.Errorf("ssf: the credential for %s: %w", t.Issuer, err)
		}
	}
	return &Client{Meta: meta, Bearer: bearer, HTTP: m.HTTP}, nil
}

// Setup creates this receiver's stream at the transmitter, or updates the
// one it has, with the delivery asked for ("push" to PushURL, or "poll"),
// the events this receiver acts on, and its audience. A stored stream the
// transmitter no longer knows (its update answers 404: the transmitter
// lost its streams, or the stream was deleted there) and whose read
// answers 404 too is created again, and the new stream id stored; the new
// stream is not verified. The stream is stored only over the one read
// here: a setup that loses to another one running at the same time deletes
// the stream it created at the transmitter and returns ErrStreamChanged.
func (m *Manager) Setup(ctx context.Context, issuer, delivery string) (stream.Stream, StreamConfig, error) {
	t, err := m.transmitter(issuer)
	if err != nil {
		return stream.Stream{}, StreamConfig{}, err
	}
	d := Delivery{Method: PushDelivery, EndpointURL: m.PushURL}
	if delivery == "poll" {
		d = Delivery{Method: PollDelivery}
	} else if delivery != "push" {
		return stream.Stream{}, StreamConfig{}, fmt.Errorf("ssf: delivery %q: want push or poll", delivery)
	}
	c, err := m.client(ctx, t)
	if err != nil {
		return stream.Stream{}, StreamConfig{}, err
	}
	if len(c.Meta.DeliveryMethodsSupported) > 0 && !slices.Contains(c.Meta.DeliveryMethodsSupported, d.Method) {
		return stream.Stream{}, StreamConfig{}, fmt.Errorf("ssf: %s does not deliver by %s", issuer, d.Method)
	}
	aud, _ := json.Marshal(t.Audience)
	cfg := StreamConfig{Delivery: d, EventsRequested: EventsRequested, Aud: aud, Description: "sessionguard"}
	old, ok, err := m.Store.Stream(ctx, issuer)
	if err != nil {
		return stream.Stream{}, StreamConfig{}, err
	}
	var got StreamConfig
	if ok && old.StreamID != "" {
		cfg.StreamID = old.StreamID
		got, err = c.Update(ctx, cfg)
		if errors.Is(err, ErrStreamNotFound) {
			got, err = recreate(ctx, c, cfg)
		}
	} else {
		got, err = c.Create(ctx, cfg)
	}
	if err != nil {
		return stream.Stream{}, StreamConfig{}, err
	}
	if got.StreamID == "" {
		return stream.Stream{}, StreamConfig{}, fmt.Errorf("ssf: %s answered a stream without stream_id", issuer)
	}
	s := old
	if got.StreamID != old.StreamID {
		s.VerifyState = "" // a new stream: verify it again
	}
	s.Transmitter, s.StreamID, s.Delivery, s.PollURL, s.UpdatedAt = issuer, got.StreamID, delivery, "", m.now()
	if delivery == "poll" {
		s.PollURL = got.Delivery.EndpointURL
		if s.PollURL == "" {
			err := fmt.Errorf("ssf: %s gave no endpoint_url to poll", issuer)
			return stream.Stream{}, StreamConfig{}, m.discard(ctx, c, old, got, err)
		}
	}
	stored, err := m.Store.PutStream(ctx, s, old.StreamID)
	if err != nil {
		return stream.Stream{}, StreamConfig{}, err
	}
	if !stored {
		err := fmt.Errorf("%w: another setup or reset of the stream at %s ran at the same time", ErrStreamChanged, issuer)
		return stream.Stream{}, StreamConfig{}, m.discard(ctx, c, old, got, err)
	}
	return s, got, nil
}

// recreate creates the stream of cfg again after its update answered 404,
// only if reading it answers 404 too. A transmitter that still serves it
// (ErrStreamNotUpdated), or whose read fails otherwise (unavailable, a
// timeout, a refused credential: it has not said the stream is gone), gets
// no second stream while the first one delivers on, unmanaged.
func recreate(ctx context.Context, c *Client, cfg StreamConfig) (StreamConfig, error) {
	_, err := c.Get(ctx, cfg.StreamID)
	switch {
	case err == nil:
		return StreamConfig{}, fmt.Errorf("%w (stream %s: reading it answered 200; no second stream was created)", ErrStreamNotUpdated, cfg.StreamID)
	case !errors.Is(err, ErrStreamNotFound):
		return StreamConfig{}, fmt.Errorf("ssf: the update of stream %s answered 404 and reading it failed: %w", cfg.StreamID, err)
	}
	cfg.StreamID = ""
	return c.Create(ctx, cfg)
}

// discard deletes at the transmitter the stream got that this setup
// created but does not store (it is not the stream read, old), so that it
// does not deliver on, unmanaged; it returns why the setup failed, and the
// deletion's error if that fails too. The deletion goes out even when the
// setup's context has ended.
func (m *Manager) discard(ctx context.Context, c *Client, old stream.Stream, got StreamConfig, why error) error {
	if got.StreamID == old.StreamID {
		return why
	}
	dctx, cancel := detached(ctx)
	defer cancel()
	if err := c.Delete(dctx, got.StreamID); err != nil && !errors.Is(err, ErrStreamNotFound) {
		return errors.Join(why, fmt.Errorf("ssf: stream %s stays at the transmitter, unmanaged: %w", got.StreamID, err))
	}
	return why
}

// RequestVerification asks the transmitter for a verification event with
// a new random state; the signals receiver records its arrival.
func (m *Manager) RequestVerification(ctx context.Context, issuer string) (stream.Stream, error) {
	s, c, err := m.stream(ctx, issuer)
	if err != nil {
		return stream.Stream{}, err
	}
	var b [12]byte
	rand.Read(b[:])
	s.VerifyState = hex.EncodeToString(b[:])
	stored, err := m.Store.PutStream(ctx, s, s.StreamID)
	if err != nil {
		return stream.Stream{}, err
	}
	if !stored {
		return stream.Stream{}, fmt.Errorf("%w: the stream at %s was set up again or reset meanwhile", ErrStreamChanged, issuer)
	}
	if err := c.Verify(ctx, s.StreamID, s.VerifyState); err != nil {
		return stream.Stream{}, err
	}
	s, _, err = m.Store.Stream(ctx, issuer) // a push may have arrived already
	return s, err
}

// stream is the stored stream at issuer and a client for it.
func (m *Manager) stream(ctx context.Context, issuer string) (stream.Stream, *Client, error) {
	t, err := m.transmitter(issuer)
	if err != nil {
		return stream.Stream{}, nil, err
	}
	s, ok, err := m.Store.Stream(ctx, issuer)
	if err != nil {
		return stream.Stream{}, nil, err
	}
	if !ok || s.StreamID == "" {
		return stream.Stream{}, nil, fmt.Errorf("%w: no stream at %s yet: set one up first", ErrNoStream, issuer)
	}
	c, err := m.client(ctx, t)
	if err != nil {
		return stream.Stream{}, nil, err
	}
	return s, c, nil
}

// ErrNoStream is returned before a stream is set up.
var ErrNoStream = errors.New("ssf: no stream")

// Reset forgets this receiver's stream at issuer, so the next Setup
// creates one afresh: the stream is deleted at the transmitter first (a
// 404 there means it is gone already), then the stored stream is cleared.
// If the transmitter refuses or cannot be reached, nothing is forgotten
// (the stream would stay at the transmitter, unmanaged). A stream that
// another setup stored meanwhile is kept (ErrStreamChanged). It returns
// the stream forgotten; without a stored stream it does nothing.
func (m *Manager) Reset(ctx context.Context, issuer string) (stream.Stream, error) {
	t, err := m.transmitter(issuer)
	if err != nil {
		return stream.Stream{}, err
	}
	old, ok, err := m.Store.Stream(ctx, issuer)
	if err != nil {
		return stream.Stream{}, err
	}
	if !ok || old.StreamID == "" {
		return stream.Stream{}, nil
	}
	c, err := m.client(ctx, t)
	if err != nil {
		return stream.Stream{}, err
	}
	if err := c.Delete(ctx, old.StreamID); err != nil && !errors.Is(err, ErrStreamNotFound) {
		return stream.Stream{}, fmt.Errorf("ssf: reset the stream at %s: %w", issuer, err)
	}
	stored, err := m.Store.PutStream(ctx, stream.Stream{Transmitter: issuer, UpdatedAt: m.now()}, old.StreamID)
	if err != nil {
		return stream.Stream{}, fmt.Errorf("ssf: forget the stream at %s: %w", issuer, err)
	}
	if !stored {
		return stream.Stream{}, fmt.Errorf("%w: another setup stored a new stream at %s meanwhile; it is kept", ErrStreamChanged, issuer)
	}
	return old, nil
}

// Status reads the stream's status at the transmitter.
func (m *Manager) Status(ctx context.Context, issuer string) (Status, error) {
	s, c, err := m.stream(ctx, issuer)
	if err != nil {
		return Status{}, err
	}
	return c.Status(ctx, s.StreamID)
}

// SetStatus changes the stream's status at the transmitter.
func (m *Manager) SetStatus(ctx context.Context, issuer, status, reason string) (Status, error) {
	if !slices.Contains(Statuses, status) {
		return Status{}, fmt.Errorf("ssf: status %q: want enabled, paused or disabled", status)
	}
	s, c, err := m.stream(ctx, issuer)
	if err != nil {
		return Status{}, err
	}
	return c.SetStatus(ctx, Status{StreamID: s.StreamID, Status: status, Reason: reason})
}
