// Package cognitoevents revokes sessions on an Amazon Cognito user pool's
// own management events: the "AWS API Call via CloudTrail" events that
// EventBridge delivers for AdminDisableUser, AdminDeleteUser,
// AdminUserGlobalSignOut, GlobalSignOut, RevokeToken and
// AdminResetUserPassword. Cognito publishes no Shared Signals; its
// CloudTrail records are the push it has.
//
// Which user an event is about: Cognito hides private values in its
// CloudTrail records (HIDDEN_FOR_SECURITY_REASONS). The receiver takes the
// user's sub from additionalEventData when the record carries it, else the
// username from requestParameters when it is not hidden, mapped to the
// sub recorded when that user signed in (the access token's username
// claim). GlobalSignOut and RevokeToken carry a token, not a user name:
// without a sub they cannot be attributed, and change nothing (logged).
//
// Which pool: an event whose requestParameters name another user pool
// changes nothing. Events without a pool id (GlobalSignOut, RevokeToken)
// are matched to this pool by the sub: a sub is a UUID, and one from
// another pool holds no session here.
package cognitoevents

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/session"
)

// Store is what the receiver needs of storage.
type Store interface {
	revoke.Store
	SubjectOf(ctx context.Context, issuer, username string) (string, error)
}

// Config configures a Receiver.
type Config struct {
	Store        Store
	Environments []string // a user's sessions end in every environment
	UserPoolID   string
	Issuer       string // the pool's token issuer: the users' key
	Log          *slog.Logger
	Now          func() time.Time
}

// Receiver handles the pool's events.
type Receiver struct{ cfg Config }

// New returns a Receiver.
func New(cfg Config) *Receiver {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Receiver{cfg: cfg}
}

// Rules are the event types handled, by CloudTrail eventName, with the
// cause each records (a cause that disables also marks the account).
var Rules = map[string]session.Cause{
	"AdminDisableUser":       session.CauseCognitoDisabled,
	"AdminDeleteUser":        session.CauseCognitoDeleted,
	"AdminUserGlobalSignOut": session.CauseCognitoSignedOut,
	"GlobalSignOut":          session.CauseCognitoSignedOut,
	"RevokeToken":            session.CauseCognitoTokenRevoked,
	"AdminResetUserPassword": session.CauseCognitoPasswordReset,
}

// EventNames lists the handled event types (the EventBridge rule's).
func EventNames() []string {
	return []string{"AdminDisableUser", "AdminDeleteUser", "AdminUserGlobalSignOut", "GlobalSignOut", "RevokeToken", "AdminResetUserPassword"}
}

// detail is what the receiver reads of a CloudTrail record.
type detail struct {
	EventSource       string `json:"eventSource"`
	EventName         string `json:"eventName"`
	ErrorCode         string `json:"errorCode"`
	RequestParameters struct {
		UserPoolID string `json:"userPoolId"`
		Username   string `json:"username"`
	} `json:"requestParameters"`
	AdditionalEventData struct {
		Sub string `json:"sub"`
	} `json:"additionalEventData"`
}

// Outcome is what one event did: Lambda's answer, and the log line.
type Outcome struct {
	Event    string `json:"event"`
	Applied  bool   `json:"applied"`
	Why      string `json:"why,omitempty"` // why an event changed nothing
	Revoked  int    `json:"revoked"`
	Disabled bool   `json:"disabled"`
}

// Handle applies one event. It returns an error only when the store
// failed, so that EventBridge delivers the event again; an event that is
// not for this pool, not attributable or not understood changes nothing.
func (r *Receiver) Handle(ctx context.Context, ev events.CloudWatchEvent) (Outcome, error) {
	var d detail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return r.ignore(ctx, Outcome{Event: ev.DetailType}, "the detail is not a CloudTrail record")
	}
	out := Outcome{Event: d.EventName}
	cause, known := Rules[d.EventName]
	switch {
	case ev.Source != "aws.cognito-idp" || d.EventSource != "cognito-idp.amazonaws.com":
		return r.ignore(ctx, out, "not a Cognito user pool event")
	case !known:
		return r.ignore(ctx, out, "not an event type that ends sessions")
	case d.ErrorCode != "":
		return r.ignore(ctx, out, "the call failed ("+d.ErrorCode+")")
	case d.RequestParameters.UserPoolID != "" && d.RequestParameters.UserPoolID != r.cfg.UserPoolID:
		return r.ignore(ctx, out, "another user pool")
	}
	sub, err := r.subject(ctx, d)
	if err != nil {
		return out, err
	}
	if sub == "" {
		return r.ignore(ctx, out, "the record names no user this receiver can find (no sub, and the username is hidden or unknown)")
	}
	user := session.UserKey{Issuer: r.cfg.Issuer, Subject: sub}
	ended, err := revoke.User(ctx, r.cfg.Store, revoke.Request{Environments: r.cfg.Environments, User: user, At: r.cfg.Now(), Cause: cause})
	out.Revoked, out.Disabled = len(ended), cause.Disables()
	if err != nil {
		return out, fmt.Errorf("cognitoevents: %w", err)
	}
	out.Applied = true
	r.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "cognito event", slog.String("event", out.Event), slog.String("decision", "applied"),
		slog.String("userId", sub), slog.Int("revoked", out.Revoked), slog.Bool("disabled", out.Disabled))
	return out, nil
}

// subject is the event's user: additionalEventData's sub, else the
// recorded sub of a username that is not hidden.
func (r *Receiver) subject(ctx context.Context, d detail) (string, error) {
	if s := d.AdditionalEventData.Sub; s != "" && !hidden(s) {
		return s, nil
	}
	name := d.RequestParameters.Username
	if name == "" || hidden(name) {
		return "", nil
	}
	sub, err := r.cfg.Store.SubjectOf(ctx, r.cfg.Issuer, name)
	if err != nil {
		return "", fmt.Errorf("cognitoevents: find the user named in the event: %w", err)
	}
	return sub, nil
}

// hidden reports a value Cognito masked in its CloudTrail record.
func hidden(v string) bool { return strings.HasPrefix(v, "HIDDEN_") }

func (r *Receiver) ignore(ctx context.Context, out Outcome, why string) (Outcome, error) {
	out.Why = why
	r.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "cognito event", slog.String("event", out.Event), slog.String("decision", "ignored"), slog.String("why", why))
	return out, nil
}
