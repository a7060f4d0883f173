// Package signals receives OpenID Shared Signals / CAEP and RISC Security
// Event Tokens pushed over HTTP (RFC 8935 delivery of RFC 8417 SETs, with
// RFC 9493 subject identifiers) and revokes what they say must end:
// session-revoked and credential-change end the user's sessions; account
// disabled and purged also mark the user disabled. The SET is verified
// against the transmitter's key set; its jti is remembered, so a replay
// changes nothing. A transmitter revokes only users of its own subject
// issuers.
package signals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/route"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Event types acted on.
const (
	SessionRevoked   = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	CredentialChange = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	AccountDisabled  = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	AccountPurged    = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
)

var known = []string{SessionRevoked, CredentialChange, AccountDisabled, AccountPurged}

// Route is the push receiver's route: public to API Gateway, since the
// signed SET is the credential.
var Route = route.Route{Method: "POST", Path: "/signals", Public: true}

// Verifier verifies a SET.
type Verifier interface {
	VerifySET(ctx context.Context, raw string) (token.SET, error)
}

// Store is what the receiver needs of storage.
type Store interface {
	RecordJTI(ctx context.Context, issuer, jti string, keepUntil time.Time) (bool, error)
	ForgetJTI(ctx context.Context, issuer, jti string) error
	revoke.Store
}

// Verifications records verification events by transmitter.
type Verifications interface {
	RecordVerification(ctx context.Context, transmitter, state string, at time.Time) error
}

// Config configures the receiver.
type Config struct {
	Verifier     Verifier
	Store        Store
	Environments []string // a user's sessions end in every environment
	// SubjectIssuers are, by transmitter (a SET's iss), the access-token
	// issuers whose users that transmitter may revoke: an iss_sub
	// subject must name one of them, and an opaque subject is accepted
	// only from a transmitter with exactly one (it is a user of that
	// one). A transmitter not listed revokes no one.
	SubjectIssuers map[string][]string
	// Replay is how long a jti is remembered. Default 7 days.
	Replay time.Duration
	// Verifications records the arrival of Shared Signals verification
	// events (nil: they are refused).
	Verifications Verifications
	Now           func() time.Time
	Log           *slog.Logger
}

// Receiver is the push endpoint, an http.Handler.
type Receiver struct{ cfg Config }

// New returns a Receiver.
func New(cfg Config) *Receiver {
	if cfg.Replay <= 0 {
		cfg.Replay = 7 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Receiver{cfg: cfg}
}

// MaxBodyBytes caps a pushed SET.
const MaxBodyBytes = 64 << 10

// failure answers a push the receiver refuses as the push delivery
// protocol has it: 400 with {"err", "description"}, err one of its codes.
func failure(w http.ResponseWriter, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"err": code, "description": description})
}

// errCode maps a verification failure to RFC 8935's error codes.
func errCode(c reason.Code) string {
	switch c {
	case reason.TokenIssuer:
		return "invalid_issuer"
	case reason.TokenAudience:
		return "invalid_audience"
	case reason.TokenSignature:
		return "invalid_key"
	}
	return "invalid_request"
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/secevent+jwt" {
		failure(w, "invalid_request", "Content-Type must be application/secevent+jwt")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		failure(w, "invalid_request", "the SET is too large")
		return
	}
	switch o := rc.Process(r.Context(), string(body)); o.Status {
	case http.StatusAccepted:
		w.WriteHeader(http.StatusAccepted)
	case http.StatusServiceUnavailable:
		w.WriteHeader(http.StatusServiceUnavailable)
	default:
		failure(w, o.Err, o.Description)
	}
}

// Outcome is what became of one SET, however it arrived: 202 accepted;
// 400 refused, with RFC 8935's (and RFC 8936's) err code; 503 when the
// store or the key set could not be read, so the transmitter should
// deliver it again.
type Outcome struct {
	Status           int
	Err, Description string
}

func refused(code, description string) Outcome {
	return Outcome{Status: http.StatusBadRequest, Err: code, Description: description}
}

var unavailable = Outcome{Status: http.StatusServiceUnavailable}

// Process verifies and applies one SET: a pushed one (ServeHTTP) and a
// polled one (RFC 8936) go through exactly this.
func (rc *Receiver) Process(ctx context.Context, raw string) Outcome {
	set, err := rc.cfg.Verifier.VerifySET(ctx, raw)
	if err != nil {
		c := reason.CodeOf(err)
		rc.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "signal", slog.String("decision", "reject"), slog.String("reason", string(c)), slog.String("error", err.Error()))
		if c == reason.DependencyUnavailable { // the transmitter should retry
			return unavailable
		}
		return refused(errCode(c), "the SET was not accepted: "+string(c))
	}
	// A jti is remembered for Replay; an older SET could be a replay of a
	// forgotten one.
	if rc.cfg.Now().Sub(set.IssuedAt) > rc.cfg.Replay {
		return refused("invalid_request", "the SET is older than the replay window")
	}
	state, isVerification := verification(set)
	var events []string
	var user session.UserKey
	if isVerification {
		if rc.cfg.Verifications == nil {
			return refused("invalid_request", "verification events are not expected here")
		}
	} else if events, user, err = rc.parse(set); err != nil {
		rc.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "signal", slog.String("decision", "reject"), slog.String("issuer", set.Issuer), slog.String("error", err.Error()))
		return refused("invalid_request", err.Error())
	}
	// Every SET, a verification event too, is accepted once: its jti is
	// kept until the first instant the SET is refused as too old anyway
	// (its iat, which may lie up to the clock skew ahead, plus Replay).
	fresh, err := rc.cfg.Store.RecordJTI(ctx, set.Issuer, set.JTI, set.IssuedAt.Add(rc.cfg.Replay+time.Nanosecond))
	if err != nil {
		rc.cfg.Log.LogAttrs(ctx, slog.LevelError, "signal", slog.String("error", err.Error()))
		return unavailable
	}
	if !fresh {
		return refused("invalid_request", "duplicate SET: this jti was already received")
	}
	if isVerification {
		return rc.verified(ctx, set, state)
	}
	if err := rc.apply(ctx, events, user); err != nil {
		// The revocation did not finish: the jti is forgotten again, so
		// the transmitter's retransmission (it retries a 5xx) is applied,
		// not refused as a replay. Revoking is idempotent, so what this
		// attempt did apply is harmless to apply twice.
		rc.cfg.Log.LogAttrs(ctx, slog.LevelError, "signal", slog.String("decision", "error"), slog.String("userId", user.Subject), slog.String("error", err.Error()))
		rc.forget(ctx, set)
		return unavailable
	}
	rc.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "signal", slog.String("decision", "accept"), slog.String("userId", user.Subject),
		slog.Any("events", events), slog.String("issuer", set.Issuer))
	return Outcome{Status: http.StatusAccepted}
}

// Verification is the Shared Signals 1.0 verification event: the
// transmitter's answer to a receiver's verification request, carrying the
// state the receiver sent.
const Verification = "https://schemas.openid.net/secevent/ssf/event-type/verification"

// verification reports whether the SET is a verification event, and its
// state.
func verification(set token.SET) (string, bool) {
	var claims struct {
		Events map[string]struct {
			State string `json:"state"`
		} `json:"events"`
	}
	if json.Unmarshal(set.Payload, &claims) != nil || len(claims.Events) != 1 {
		return "", false
	}
	ev, ok := claims.Events[Verification]
	return ev.State, ok
}

// forget forgets the SET's jti after what it asked for could not be
// written, so that the transmitter's retransmission is applied.
func (rc *Receiver) forget(ctx context.Context, set token.SET) {
	if err := rc.cfg.Store.ForgetJTI(ctx, set.Issuer, set.JTI); err != nil {
		// Then a retransmission is refused; the policy check is the backstop.
		rc.cfg.Log.LogAttrs(ctx, slog.LevelError, "signal", slog.String("decision", "error"), slog.String("error", err.Error()))
	}
}

// verified records that a verification event arrived (no session
// changes); its jti is already recorded.
func (rc *Receiver) verified(ctx context.Context, set token.SET, state string) Outcome {
	if err := rc.cfg.Verifications.RecordVerification(ctx, set.Issuer, state, rc.cfg.Now()); err != nil {
		rc.cfg.Log.LogAttrs(ctx, slog.LevelError, "signal", slog.String("error", err.Error()))
		rc.forget(ctx, set)
		return unavailable
	}
	rc.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "signal", slog.String("decision", "verified"), slog.String("issuer", set.Issuer))
	return Outcome{Status: http.StatusAccepted}
}

// subject is an RFC 9493 subject identifier (the formats this receiver
// can map to a user).
type subject struct {
	Format string `json:"format"`
	Iss    string `json:"iss"`
	Sub    string `json:"sub"`
	ID     string `json:"id"`
}

// parse reads the events and the user they concern, a user of one of the
// transmitter's subject issuers. The subject is the top-level sub_id
// (Shared Signals 1.0), else the events' "subject" (earlier CAEP
// drafts). It is never a guess: without sub_id, every event must name
// the same subject, and an event whose subject differs from sub_id makes
// the SET ambiguous too; such a SET is refused.
func (rc *Receiver) parse(set token.SET) ([]string, session.UserKey, error) {
	var claims struct {
		SubID  *subject                   `json:"sub_id"`
		Events map[string]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(set.Payload, &claims); err != nil || len(claims.Events) == 0 {
		return nil, session.UserKey{}, errors.New(`the SET has no "events"`)
	}
	types := slices.Sorted(maps.Keys(claims.Events))
	sub := claims.SubID
	for _, typ := range types {
		if !slices.Contains(known, typ) {
			return nil, session.UserKey{}, errors.New("unsupported event type " + typ)
		}
		var ev struct {
			Subject *subject `json:"subject"`
		}
		json.Unmarshal(claims.Events[typ], &ev) // token.VerifySET saw that each event is an object
		switch {
		case ev.Subject == nil && claims.SubID == nil && len(types) > 1:
			return nil, session.UserKey{}, errors.New("the SET has no sub_id and event " + typ + " names no subject: which user it concerns is ambiguous")
		case ev.Subject == nil:
		case sub == nil:
			sub = ev.Subject
		case *ev.Subject != *sub:
			return nil, session.UserKey{}, errors.New("event " + typ + " names a different subject from sub_id or another event: which user it concerns is ambiguous")
		}
	}
	if sub == nil {
		return nil, session.UserKey{}, errors.New("the SET names no subject (sub_id)")
	}
	issuers := rc.cfg.SubjectIssuers[set.Issuer]
	switch {
	case sub.Format == "iss_sub" && sub.Sub != "" && slices.Contains(issuers, sub.Iss):
		return types, session.UserKey{Issuer: sub.Iss, Subject: sub.Sub}, nil
	case sub.Format == "opaque" && sub.ID != "" && len(issuers) == 1:
		return types, session.UserKey{Issuer: issuers[0], Subject: sub.ID}, nil
	case sub.Format == "iss_sub" && sub.Sub != "":
		return nil, session.UserKey{}, fmt.Errorf("the subject's issuer %q is not one whose users this transmitter may revoke (its subjectIssuers)", truncate(sub.Iss, 100))
	case sub.Format == "opaque" && sub.ID != "":
		return nil, session.UserKey{}, errors.New("an opaque subject is accepted only from a transmitter with exactly one subject issuer (subjectIssuers)")
	}
	return nil, session.UserKey{}, errors.New("the subject is not an iss_sub or opaque identifier of a user")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// apply ends the user's sessions in every environment, and marks the
// account disabled for account events.
func (rc *Receiver) apply(ctx context.Context, events []string, user session.UserKey) error {
	why := session.CauseSignalRevoked
	if slices.Contains(events, AccountDisabled) || slices.Contains(events, AccountPurged) {
		why = session.CauseSignalDisabled
	} else if slices.Contains(events, CredentialChange) {
		why = session.CauseSignalCredential
	}
	_, err := revoke.User(ctx, rc.cfg.Store, revoke.Request{Environments: rc.cfg.Environments, User: user, At: rc.cfg.Now(), Cause: why})
	return err
}
