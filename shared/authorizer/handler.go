package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// ErrUnauthorized is the error that makes API Gateway answer 401.
var ErrUnauthorized = errors.New("Unauthorized")

// errUnavailable makes API Gateway answer 500, which it does not cache: the
// fail-closed answer when a dependency cannot be read.
var errUnavailable = errors.New("authorizer dependency unavailable")

// Handler is the Lambda handler of the authorizer. It implements
// lambda.Handler, reading the event and writing the response itself.
type Handler struct {
	auth       *Authorizer
	simple     bool
	src        identity.Sources
	log        *slog.Logger
	onDecision func(context.Context, Result)
}

// HandlerOptions configure a Handler.
type HandlerOptions struct {
	// SimpleResponses selects HTTP API simple responses (isAuthorized);
	// otherwise HTTP API events get IAM policies. REST events always do.
	SimpleResponses bool
	Sources         identity.Sources
	Log             *slog.Logger
	// OnDecision, when set, is told each decision (the local stack shows
	// the reason of a deny to the developer; API Gateway cannot).
	OnDecision func(context.Context, Result)
}

// NewHandler returns a Handler.
func NewHandler(a *Authorizer, o HandlerOptions) *Handler {
	o.Sources = o.Sources.WithDefaults()
	if o.Log == nil {
		o.Log = obs.NewLogger(nil)
	}
	return &Handler{auth: a, simple: o.SimpleResponses, src: o.Sources, log: o.Log, onDecision: o.OnDecision}
}

var decisionMetrics = obs.NewEMF([][]string{{"reason"}, {"environment", "decision"}},
	obs.Metric{Name: "decisions", Unit: "Count"}, obs.Metric{Name: "latencyMs", Unit: "Milliseconds"})

// Invoke decides one authorizer event: allow, deny (403), Unauthorized
// (401), or an error (500, for dependency_unavailable).
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	ev, err := readEvent(payload, h.src, h.auth.envs)
	if err != nil {
		// Not a deny (403): the answer is an error, which API Gateway
		// turns into a 500, and the log says so.
		h.log.LogAttrs(ctx, slog.LevelError, "decision", slog.String("decision", "error"), slog.Int("status", 500),
			slog.String("reason", string(reason.Forbidden)), slog.String("error", err.Error()))
		return nil, errUnavailable
	}
	r := h.auth.Check(ctx, ev.id)
	if r.Allowed() && r.DPoPKey != "" && h.auth.enforcement.Horizon > 0 {
		// API Gateway would serve this allow, cached by the token and the
		// session, to the next request without a proof, or with a
		// replayed one: fail closed (docs/integrating-your-app.md).
		r = r.deny(reason.DependencyUnavailable, &dpop.Error{Check: dpop.CheckCache, Err: reason.New(reason.DependencyUnavailable,
			"a DPoP proof was checked, and the authorizer's answers are cached (AUTHORIZER_CACHE_TTL_SECONDS): turn the cache off for DPoP")})
	}
	var out []byte
	status := reason.Status(0)
	if r.Allowed() {
		out, err = h.respond(ev, r, true)
	} else {
		switch status = reason.StatusOf(r.Reason); status {
		case reason.NotAllowed:
			out, err = h.respond(ev, r, false)
		case reason.Unavailable:
			err = errUnavailable
		default:
			err = ErrUnauthorized
		}
	}
	var touchErr error
	if r.Allowed() {
		_, touchErr = h.auth.RecordActivity(ctx, r)
	}
	h.logDecision(ctx, ev, r, start, touchErr)
	if h.onDecision != nil {
		h.onDecision(ctx, r)
	}
	return out, err
}

func (h *Handler) logDecision(ctx context.Context, ev event, r Result, start time.Time, touchErr error) {
	now := time.Now()
	ms := float64(now.Sub(start).Microseconds()) / 1000
	decision, level := "allow", slog.LevelInfo
	if !r.Allowed() {
		decision = "deny"
		if r.Reason == reason.DependencyUnavailable {
			level = slog.LevelWarn
		}
	}
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("requestId", ev.requestID),
		slog.String("environment", r.Environment),
		slog.String("decision", decision),
		slog.String("reason", string(r.Reason)),
		slog.Float64("latencyMs", ms),
		slog.Int("decisions", 1),
	)
	if r.Claims.Subject != "" {
		// tokenCache: whether the verified token came from the verifier's
		// cache (hit) or a signature check (miss).
		cache := "miss"
		if r.Claims.Cached {
			cache = "hit"
		}
		// keySource: where the issuer's keys that verified it came from
		// (idp, or the table's snapshot read at cold start).
		attrs = append(attrs, slog.String("userId", r.Claims.Subject), slog.String("tokenCache", cache), slog.String("keySource", r.Claims.KeySource))
	}
	if !r.Session.CreatedAt.IsZero() {
		attrs = append(attrs, slog.String("sessionId", r.Session.Hash.Prefix()))
	}
	if r.DPoPKey != "" {
		attrs = append(attrs, slog.Bool("dpop", true))
	}
	if r.DPoPDowngrade {
		attrs = append(attrs, slog.Bool("dpopDowngradeAccepted", true))
	}
	if r.Err != nil {
		attrs = append(attrs, slog.String("error", r.Err.Error()))
		attrs = appendDPoPError(attrs, r.Err)
	}
	if touchErr != nil {
		attrs = append(attrs, slog.String("activityError", touchErr.Error()))
	}
	attrs = append(attrs, decisionMetrics.Attr(now))
	obs.LogAttrs(ctx, h.log, level, now, "decision", attrs...)
}

// respond encodes an allow, or a 403 deny, in the event's response shape:
// the HTTP API simple response by appendSimple, IAM policies through
// aws-lambda-go's event types.
func (h *Handler) respond(ev event, r Result, allow bool) ([]byte, error) {
	if ev.kind == httpAPIv2 && h.simple {
		return appendSimple(make([]byte, 0, 512), r, allow), nil
	}
	ctx := map[string]any{"reason": string(r.Reason)}
	if allow {
		ctx = allowContext(r)
	}
	principal := "anonymous"
	if r.Claims.Subject != "" {
		principal = r.Claims.Subject
	}
	effect := "Deny"
	if allow {
		effect = "Allow"
	}
	return json.Marshal(events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{apiResource(ev.arn)},
			}},
		},
		Context: ctx,
	})
}

// allowContext is the allow context: who, which session (by hash prefix,
// never the id), and the times the app needs for its expiry warning; a
// time that is not enforced is absent. Flat, as REST requires.
func allowContext(r Result) map[string]any {
	ctx := make(map[string]any, 9)
	ctx["userId"] = r.Claims.Subject
	ctx["issuer"] = r.Claims.Issuer
	ctx["clientId"] = r.Claims.ClientID
	ctx["sessionId"] = r.Session.Hash.Prefix()
	ctx["environment"] = r.Environment
	ctx["staySignedIn"] = r.Session.StaySignedIn
	for _, t := range [...]struct {
		k string
		v time.Time
	}{{"expiresAt", r.Decision.ExpiresAt}, {"warnAt", r.Decision.WarnAt}, {"idleExpiresAt", r.Decision.IdleExpiresAt}} {
		if !t.v.IsZero() {
			ctx[t.k] = t.v.UTC().Format(time.RFC3339)
		}
	}
	return ctx
}

// appendDPoPError names the failed DPoP check of a deny (dpopCheck) and,
// for iat, the skew found (dpopSkewSeconds: now - iat, negative for a
// proof from the future).
func appendDPoPError(attrs []slog.Attr, err error) []slog.Attr {
	var e *dpop.Error
	if !errors.As(err, &e) {
		return attrs
	}
	attrs = append(attrs, slog.String("dpopCheck", e.Check))
	if e.Check == dpop.CheckIAT && e.Skew != 0 {
		attrs = append(attrs, slog.Float64("dpopSkewSeconds", e.Skew.Seconds()))
	}
	return attrs
}
