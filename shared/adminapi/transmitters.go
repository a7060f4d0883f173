package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/sessionguard/sessionguard/shared/httpjson"
	"github.com/sessionguard/sessionguard/shared/jsonread"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/ssf"
	"github.com/sessionguard/sessionguard/shared/stream"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Streams manages this receiver's Shared Signals streams (ssf.Manager).
type Streams interface {
	Setup(ctx context.Context, issuer, delivery string) (stream.Stream, ssf.StreamConfig, error)
	RequestVerification(ctx context.Context, issuer string) (stream.Stream, error)
	Status(ctx context.Context, issuer string) (ssf.Status, error)
	SetStatus(ctx context.Context, issuer, status, reason string) (ssf.Status, error)
	Reset(ctx context.Context, issuer string) (stream.Stream, error)
}

// StreamStore reads the stored streams.
type StreamStore interface {
	Stream(ctx context.Context, transmitter string) (stream.Stream, bool, error)
}

type transmitterView struct {
	Issuer  string      `json:"issuer"`
	Stream  *streamView `json:"stream"`
	Status  *ssf.Status `json:"status,omitempty"`
	Problem string      `json:"problem,omitempty"` // why the status could not be read
}

type streamView struct {
	StreamID   string `json:"streamId"`
	Delivery   string `json:"delivery"`
	PollURL    string `json:"pollUrl,omitempty"`
	Verified   bool   `json:"verified"`
	VerifiedAt string `json:"verifiedAt,omitempty"`
	UpdatedAt  string `json:"updatedAt"`
}

func viewOfStream(s stream.Stream) *streamView {
	v := &streamView{StreamID: s.StreamID, Delivery: s.Delivery, PollURL: s.PollURL, Verified: s.Verified(), UpdatedAt: rfc3339(s.UpdatedAt)}
	if s.Verified() {
		v.VerifiedAt = rfc3339(s.VerifiedAt)
	}
	return v
}

// transmitters lists each transmitter with its stream and live status.
func (a *API) transmitters(w http.ResponseWriter, r *http.Request, _ token.Claims, _ string) {
	out := []transmitterView{}
	for _, iss := range a.cfg.Transmitters {
		v, err := a.transmitterView(r.Context(), iss)
		if err != nil {
			a.fail(w, r, "transmitters", err)
			return
		}
		out = append(out, v)
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"transmitters": out})
}

func (a *API) transmitterView(ctx context.Context, iss string) (transmitterView, error) {
	v := transmitterView{Issuer: iss}
	s, ok, err := a.cfg.StreamStore.Stream(ctx, iss)
	if err != nil {
		return v, err
	}
	if ok && s.StreamID != "" {
		v.Stream = viewOfStream(s)
		st, err := a.cfg.Streams.Status(ctx, iss)
		if errors.Is(err, ssf.ErrStreamNotFound) {
			v.Problem = "the transmitter no longer knows this stream: set it up again, or reset it"
		} else if err != nil {
			v.Problem = "the transmitter did not answer: " + err.Error()
		} else {
			v.Status = &st
		}
	}
	return v, nil
}

// issuerParam reads ?issuer=, a configured transmitter.
func (a *API) issuerParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	iss := r.URL.Query().Get("issuer")
	if !slices.Contains(a.cfg.Transmitters, iss) {
		problem.Fields(w, "which transmitter?", []problem.FieldError{{Field: "issuer", Message: "not a transmitter of this deployment (SIGNALS_TRANSMITTERS)"}})
		return "", false
	}
	return iss, true
}

// streamFailed answers a stream call that failed: 409 for a stream to set
// up first, one the transmitter no longer knows, or a call that lost to
// another on the same stream; else 502 (the transmitter refused or did not
// answer, or it answered 404 to the update of a stream it still serves:
// ssf.ErrStreamNotUpdated). A 5xx body says nothing; the log line names
// the cause.
func (a *API) streamFailed(w http.ResponseWriter, r *http.Request, action string, err error) {
	if errors.Is(err, ssf.ErrNoStream) {
		problem.Write(w, problem.Details{Status: http.StatusConflict, Detail: "set up the stream first"})
		return
	}
	a.cfg.Log.LogAttrs(r.Context(), slog.LevelWarn, "admin", slog.String("action", action), slog.String("error", err.Error()))
	switch {
	case errors.Is(err, ssf.ErrStreamChanged):
		problem.Write(w, problem.Details{Status: http.StatusConflict, Detail: "another setup or reset of this stream ran at the same time, and its result is kept: read the transmitters again (GET /transmitters)"})
	case errors.Is(err, ssf.ErrStreamNotFound):
		problem.Write(w, problem.Details{Status: http.StatusConflict, Detail: "the transmitter no longer knows this stream: set it up again (PUT /transmitters/stream), or reset it (DELETE /transmitters/stream)"})
	default:
		problem.Write(w, problem.Details{Status: http.StatusBadGateway})
	}
}

// readBody reads a JSON request body of at most MaxBodyBytes into v:
// exactly one value (jsonread.Valid: no member name twice); unknown
// members are errors.
func readBody(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return err
	}
	if !jsonread.Valid(data) {
		return errors.New("not one JSON value with unique member names")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// setupStream creates or updates the stream: {"delivery": "push"|"poll"}.
func (a *API) setupStream(w http.ResponseWriter, r *http.Request, c token.Claims, _ string) {
	iss, ok := a.issuerParam(w, r)
	if !ok {
		return
	}
	var body struct {
		Delivery string `json:"delivery"`
	}
	if err := readBody(w, r, &body); err != nil || (body.Delivery != "push" && body.Delivery != "poll") {
		problem.Fields(w, "how should events arrive?", []problem.FieldError{{Field: "delivery", Message: `"push" (to this deployment's /signals) or "poll"`}})
		return
	}
	s, _, err := a.cfg.Streams.Setup(r.Context(), iss, body.Delivery)
	if err != nil {
		a.streamFailed(w, r, "stream setup", err)
		return
	}
	a.audit(r, c, "", "stream setup", slog.String("transmitter", iss), slog.String("delivery", body.Delivery))
	v, err := a.transmitterView(r.Context(), iss)
	if err != nil {
		a.fail(w, r, "stream setup", err)
		return
	}
	v.Stream = viewOfStream(s)
	httpjson.Write(w, http.StatusOK, v)
}

// verifyStream asks the transmitter for a verification event.
func (a *API) verifyStream(w http.ResponseWriter, r *http.Request, c token.Claims, _ string) {
	iss, ok := a.issuerParam(w, r)
	if !ok {
		return
	}
	s, err := a.cfg.Streams.RequestVerification(r.Context(), iss)
	if err != nil {
		a.streamFailed(w, r, "stream verification", err)
		return
	}
	a.audit(r, c, "", "stream verification", slog.String("transmitter", iss), slog.Bool("verified", s.Verified()))
	httpjson.Write(w, http.StatusOK, viewOfStream(s))
}

// streamStatus changes the stream's status: {"status", "reason"}.
func (a *API) streamStatus(w http.ResponseWriter, r *http.Request, c token.Claims, _ string) {
	iss, ok := a.issuerParam(w, r)
	if !ok {
		return
	}
	var body struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if err := readBody(w, r, &body); err != nil || !slices.Contains(ssf.Statuses, body.Status) {
		problem.Fields(w, "which status?", []problem.FieldError{{Field: "status", Message: "enabled, paused or disabled"}})
		return
	}
	st, err := a.cfg.Streams.SetStatus(r.Context(), iss, body.Status, body.Reason)
	if err != nil {
		a.streamFailed(w, r, "stream status", err)
		return
	}
	a.audit(r, c, "", "stream status", slog.String("transmitter", iss), slog.String("status", st.Status))
	httpjson.Write(w, http.StatusOK, st)
}

// resetStream forgets the stream: deleted at the transmitter (gone there
// already is fine), then cleared here, so the next setup creates a new one.
func (a *API) resetStream(w http.ResponseWriter, r *http.Request, c token.Claims, _ string) {
	iss, ok := a.issuerParam(w, r)
	if !ok {
		return
	}
	old, err := a.cfg.Streams.Reset(r.Context(), iss)
	if err != nil {
		a.streamFailed(w, r, "stream reset", err)
		return
	}
	a.audit(r, c, "", "stream reset", slog.String("transmitter", iss), slog.String("streamId", old.StreamID))
	v, err := a.transmitterView(r.Context(), iss)
	if err != nil {
		a.fail(w, r, "stream reset", err)
		return
	}
	httpjson.Write(w, http.StatusOK, v)
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
