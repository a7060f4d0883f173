package sessionapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/sessionguard/sessionguard/shared/device"
	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/httpjson"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/jsonread"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// signInBody is the optional sign-in request body.
type signInBody struct {
	StaySignedIn bool `json:"staySignedIn"`
}

// signIn starts a session from a verified access token (for the tokens it
// refuses after a sign-out, see reauthenticationNeeded) for a user who is
// not disabled, within the session limit, and answers 201 with the view,
// the session id shown this once, and the session cookie.
func (a *API) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	const op = "sign_in"
	scheme, raw, code := identity.AccessToken(r.Header.Get("Authorization"))
	if code != reason.OK {
		a.deny(ctx, w, op, code, nil)
		return
	}
	claims, err := a.cfg.Verifier.Verify(ctx, raw)
	if err != nil {
		a.deny(ctx, w, op, reason.CodeOf(err), err)
		return
	}
	named, bad := a.identityOf(r)
	if bad != nil {
		problem.Fields(w, "the request is not valid", []problem.FieldError{*bad})
		return
	}
	env, err := a.cfg.Environments.Of(named.Environment, named.EnvironmentNamed)
	if err != nil {
		a.deny(ctx, w, op, reason.EnvironmentUnknown, err)
		return
	}
	body, errs := readSignIn(r)
	if errs != nil {
		problem.Fields(w, "the sign-in body is not valid", errs)
		return
	}
	user := session.UserKey{Issuer: claims.Issuer, Subject: claims.Subject}
	who := []slog.Attr{slog.String("environment", env), slog.String("userId", claims.Subject)}
	u, err := a.cfg.Store.User(ctx, env, user)
	if err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("read user state: %w", err), who...)
		return
	}
	settings, version, err := a.cfg.Store.Settings(ctx, env)
	if err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("read settings of %s: %w", env, err), who...)
		return
	}
	if why, err := a.reauthenticationNeeded(ctx, env, u, claims, settings); err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, err, who...)
		return
	} else if why != "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="sign in again", max_age="0"`)
		a.log(ctx, slog.LevelInfo, append(who, slog.String("op", op), slog.String("decision", "deny"), slog.String("reason", string(reason.SessionRevoked)), slog.String("why", why))...)
		problem.Write(w, problem.Details{Status: http.StatusUnauthorized, Reason: reason.SessionRevoked,
			Detail: why + ": sign in again with credentials (prompt=login)"})
		return
	}
	if u.Disabled {
		a.deny(ctx, w, op, reason.UserDisabled, nil, who...)
		return
	}
	key, err := a.proofAtSignIn(ctx, r, scheme, raw, claims, settings.DPoP)
	if err != nil {
		a.deny(ctx, w, op, reason.CodeOf(err), err, who...)
		return
	}
	id, err := session.NewID()
	if err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, err, who...)
		return
	}
	now := a.cfg.Now()
	s := session.Session{
		Hash: id.Hash(), Environment: env, User: user, ClientID: claims.ClientID, IdPSession: claims.SessionID,
		CreatedAt: now, AuthTime: claims.AuthenticatedAt(), StaySignedIn: body.StaySignedIn && settings.StaySignedIn.Allowed,
		SettingsVersion: version, Settings: settings, Device: device.Describe(r.Header.Get("User-Agent")),
		DPoPKey: key,
	}
	live := liveAt(u, now)
	if claims.Username != "" {
		if err := a.cfg.Store.RecordUsername(ctx, user.Issuer, claims.Subject, claims.Username); err != nil {
			a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("record the username: %w", err), who...)
			return
		}
	}
	ended, err := a.cfg.Store.Create(ctx, s, session.Limit{Max: settings.MaxSessionsPerUser, OnLimit: settings.OnSessionLimit}, live)
	switch {
	case errors.Is(err, session.ErrLimitReached):
		a.log(ctx, slog.LevelInfo, append(who, slog.String("op", op), slog.String("decision", "deny"), slog.String("reason", string(reason.Forbidden)), slog.String("error", "session limit"))...)
		problem.Write(w, problem.Details{Status: http.StatusForbidden, Reason: reason.Forbidden,
			Detail: fmt.Sprintf("the user already holds the most sessions allowed here (%d): sign out of one first", settings.MaxSessionsPerUser)})
		return
	case err != nil:
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("create session: %w", err), who...)
		return
	}
	d := settings.Evaluate(s.PolicyView(u).Presenting(claims.ClientID), now, policy.Enforcement{})
	v := viewOf(s, d)
	v.SessionID = id.Reveal()
	v.EndedSessions = len(ended)
	v.Now = now.UTC()
	http.SetCookie(w, a.cookie(id.Reveal(), s.StaySignedIn, d.ExpiresAt, now))
	a.log(ctx, slog.LevelInfo, append(who, slog.String("op", op), slog.String("decision", "allow"), slog.String("reason", string(reason.OK)),
		slog.String("sessionId", s.Hash.Prefix()), slog.Bool("staySignedIn", s.StaySignedIn), slog.Int("endedSessions", len(ended)), slog.Bool("dpop", key != ""),
		downgrade(settings.DPoP, dpop.Presented{Scheme: scheme, TokenKey: claims.KeyThumbprint}))...)
	httpjson.Write(w, http.StatusCreated, v)
}

// downgrade is the log field dpopDowngradeAccepted when a DPoP-bound
// token was taken as Bearer because the environment's dpop is off
// (dpop.DowngradeAccepted), else an empty attribute, which slog leaves
// out.
func downgrade(m policy.DPoPMode, p dpop.Presented) slog.Attr {
	if dpop.DowngradeAccepted(m, p) {
		return slog.Bool("dpopDowngradeAccepted", true)
	}
	return slog.Attr{}
}

// reauthenticationNeeded says why claims cannot start a session for u in
// env after a sign-out or a revocation, or "" when they can:
//   - a token of an IdP session (sid) that a sign-out or a logout ended is
//     refused, whatever its iat: refreshing a token does not undo a
//     sign-out;
//   - a token whose authentication (auth_time, else iat) is not later than
//     the last sign-out or the user's revocation point (to the second,
//     failing closed on ties) is refused;
//   - a token with a sid and no auth_time (whose iat a refresh renews) is
//     refused when that sid started a session of the user here created
//     at or before the later of the sign-out and the revocation point:
//     the sessions those ended, whether marked ended, ended by their own
//     limits or not reached by a bounded "sign out everywhere else",
//     cannot come back through a refreshed token of their IdP session;
//   - with strictReauthentication, after a sign-out a token must also
//     prove a new authentication: an auth_time (checked above) or a sid
//     (not ended, checked above); a token with neither is refused.
func (a *API) reauthenticationNeeded(ctx context.Context, env string, u session.User, c token.Claims, s policy.Settings) (string, error) {
	if c.SessionID != "" {
		_, ended, err := a.cfg.Store.IdPSessionEnded(ctx, env, c.Issuer, c.SessionID)
		if err != nil {
			return "", fmt.Errorf("read whether the token's IdP session ended: %w", err)
		}
		if ended {
			return "this token's IdP session was signed out", nil
		}
	}
	authAt := c.AuthenticatedAt()
	for _, cut := range []time.Time{u.SignedOutAt, u.SessionsValidFrom} {
		if !cut.IsZero() && !authAt.After(cut.Truncate(time.Second)) {
			return "this token's sign-in predates the user's last sign-out or revocation", nil
		}
	}
	if cut := laterOf(u.SignedOutAt, u.SessionsValidFrom); c.SessionID != "" && c.AuthTime.IsZero() && !cut.IsZero() {
		had, err := a.cfg.Store.SessionOfIdPSessionBy(ctx, env, session.UserKey{Issuer: c.Issuer, Subject: c.Subject}, c.SessionID, cut)
		if err != nil {
			return "", fmt.Errorf("read whether the token's IdP session had a session before the user's sign-out or revocation: %w", err)
		}
		if had {
			return "this token's IdP session had a session that the user's last sign-out or revocation ended", nil
		}
	}
	if s.StrictReauthentication && !u.SignedOutAt.IsZero() && c.AuthTime.IsZero() && c.SessionID == "" {
		return "after a sign-out this environment needs a token from a new sign-in (auth_time or sid), and this one carries neither", nil
	}
	return "", nil
}

// laterOf is the later of two times (zero when both are).
func laterOf(x, y time.Time) time.Time {
	if y.After(x) {
		return y
	}
	return x
}

// cookie is the session cookie: __Host- (Secure, Path=/, no Domain),
// HttpOnly, SameSite=Lax. A stay-signed-in session's cookie persists until
// the session's absolute end, or 400 days (the browsers' cap) when it has
// none; any other session's cookie ends with the browser.
func (a *API) cookie(value string, persistent bool, expiresAt, now time.Time) *http.Cookie {
	c := &http.Cookie{Name: a.cfg.Sources.SessionCookie, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if persistent {
		c.MaxAge = 400 * 24 * 3600
		if !expiresAt.IsZero() {
			c.MaxAge = int(expiresAt.Sub(now).Seconds())
		}
	}
	return c
}

// maxBody caps the sign-in body.
const maxBody = 4 << 10

// readSignIn reads the optional sign-in body strictly: an object whose
// only member is staySignedIn, each bad field named.
func readSignIn(r *http.Request) (signInBody, []problem.FieldError) {
	var b signInBody
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return b, []problem.FieldError{{Field: "(body)", Message: "could not be read"}}
	}
	if len(data) > maxBody {
		return b, []problem.FieldError{{Field: "(body)", Message: fmt.Sprintf("is larger than %d bytes", maxBody)}}
	}
	if len(data) == 0 {
		return b, nil
	}
	if json.Valid(data) && !jsonread.Valid(data) {
		return b, []problem.FieldError{{Field: "(body)", Message: "names a member twice in one object, or is not valid UTF-8"}}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return b, []problem.FieldError{{Field: "(body)", Message: `must be a JSON object such as {"staySignedIn": true}`}}
	}
	var errs []problem.FieldError
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		switch k {
		case "staySignedIn":
			if err := json.Unmarshal(v, &b.StaySignedIn); err != nil || string(v) == "null" {
				errs = append(errs, problem.FieldError{Field: "staySignedIn", Message: "must be true or false"})
			}
		default:
			errs = append(errs, problem.FieldError{Field: k, Message: "unknown field"})
		}
	}
	return b, errs
}
