// Package globallogout receives global token revocation requests, as
// Okta's Universal Logout sends them: the identity provider posts to
// POST /global-token-revocation a JSON body naming a user (sub_id, a
// subject identifier), authenticated by a JWT it signs and sends as the
// bearer token. Every session of that user ends, in every environment,
// and a token authenticated before the request cannot start another:
// the user signs in again at the IdP.
//
// A request is accepted only for the TRUSTED_ISSUERS entries configured
// with universalLogout whose signer signed its JWT (Entry), and names a
// user of one of those entries; another issuer's user is refused. The
// JWT's jti is remembered as long as the JWT would be accepted, so a
// request is applied once.
//
// Answers: 204 when the user's sessions are ended (also when the user
// holds none: sessionguard keeps no directory of users, so "no such
// user" cannot be told from "no session now", and the point before which
// the user's tokens cannot sign in is recorded either way); 400 for a
// body it cannot read or a subject an entry cannot map to its user (never
// a 204 that ends nothing); 401 for a missing, invalid or replayed JWT;
// 403 for a caller not configured, or a user of an issuer the signer may
// not sign out; 503 when the key set or the table cannot be read, so the
// IdP may retry.
// Each refusal is problem+json naming the field, with its reason code;
// always Cache-Control: no-store.
package globallogout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/route"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Path is the receiver's route.
const Path = "/global-token-revocation"

// Route is the receiver's route: public to API Gateway, since the
// request's signed JWT is the credential.
var Route = route.Route{Method: "POST", Path: Path, Public: true}

// Verifier verifies the requests' JWTs (token.Verifier.VerifyRevocation,
// over the signers of the entries: Signers).
type Verifier interface {
	VerifyRevocation(ctx context.Context, raw string) (token.Revocation, error)
}

// Store is what the receiver needs of storage.
type Store interface {
	RecordJTI(ctx context.Context, issuer, jti string, keepUntil time.Time) (bool, error)
	ForgetJTI(ctx context.Context, issuer, jti string) error
	RecordSignOut(ctx context.Context, env string, user session.UserKey, at time.Time) error
	revoke.Store
}

// Config configures a Receiver.
type Config struct {
	// Verifier verifies the requests' JWTs; nil when no entry has
	// universalLogout: every request is then refused (401).
	Verifier     Verifier
	Entries      []Entry
	Store        Store
	Environments []string
	Log          *slog.Logger
	Now          func() time.Time
}

// Receiver is the http.Handler of Path.
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

// jtiPrefix keeps these JWTs' jtis apart from the signer's other tokens'
// (logout tokens, SETs) in the store.
const jtiPrefix = "global-token-revocation:"

// maxJTI caps a jti: a longer one could not be a key in the store, so the
// request is refused rather than failing there.
const maxJTI = 256

// refusal is why a request is refused: its status, reason code, the
// field the problem names and what it says there, and for the log only,
// the cause.
type refusal struct {
	status int
	code   reason.Code
	fields []problem.FieldError
	err    error
}

// refuse is a refusal naming field ("" names none: a 5xx).
func refuse(status int, code reason.Code, field, message string, err error) *refusal {
	rf := &refusal{status: status, code: code, err: err}
	if field != "" {
		rf.fields = []problem.FieldError{{Field: field, Message: message}}
	}
	return rf
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	log := []slog.Attr{}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		rc.answer(ctx, w, refuse(http.StatusMethodNotAllowed, reason.Forbidden, "(method)", "only POST", nil), log)
		return
	}
	rev, entries, rf := rc.authenticate(ctx, r)
	if rf != nil {
		rc.answer(ctx, w, rf, log)
		return
	}
	log = append(log, slog.String("issuer", rev.Issuer), slog.String("caller", rev.Caller))
	// The JWT is used once, whatever becomes of the request: its jti is
	// kept until the verifier would refuse the JWT anyway.
	jti := jtiPrefix + rev.JTI
	first, err := rc.cfg.Store.RecordJTI(ctx, rev.Issuer, jti, rev.RefusedFrom)
	if err != nil {
		rc.answer(ctx, w, refuse(http.StatusServiceUnavailable, reason.DependencyUnavailable, "", "", fmt.Errorf("record the jti: %w", err)), log)
		return
	}
	if !first {
		rc.answer(ctx, w, refuse(http.StatusUnauthorized, reason.TokenMalformed, "Authorization", "this JWT was already used (its jti was seen)", errors.New("a replayed JWT")), log)
		return
	}
	sub, errs := readRequest(r)
	if errs != nil {
		rc.answer(ctx, w, &refusal{status: http.StatusBadRequest, code: reason.TokenMalformed, fields: errs, err: errors.New("the request body is not one this receiver reads")}, log)
		return
	}
	log = append(log, slog.String("format", sub.format))
	users, rf := targets(entries, rev, sub)
	if rf != nil {
		rc.answer(ctx, w, rf, log)
		return
	}
	n, err := rc.revoke(ctx, users, rev.IssuedAt)
	if err != nil {
		// The jti is forgotten again, so that the IdP's retry is applied,
		// not refused as a replay (ending sessions is idempotent).
		if ferr := rc.cfg.Store.ForgetJTI(ctx, rev.Issuer, jti); ferr != nil {
			err = errors.Join(err, ferr)
		}
		rc.answer(ctx, w, refuse(http.StatusServiceUnavailable, reason.DependencyUnavailable, "", "", err), log)
		return
	}
	// Every user named has the same id, under the issuers of its entries.
	issuers := make([]string, len(users))
	for i, u := range users {
		issuers[i] = u.Issuer
	}
	rc.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "global token revocation", append(log, slog.String("decision", "accept"), slog.String("reason", string(reason.OK)),
		slog.String("userId", users[0].Subject), slog.Any("userIssuers", issuers), slog.Int("revoked", n))...)
	w.WriteHeader(http.StatusNoContent)
}

// authenticate reads and verifies the bearer JWT and returns it with the
// entries that accept it.
func (rc *Receiver) authenticate(ctx context.Context, r *http.Request) (token.Revocation, []Entry, *refusal) {
	none := token.Revocation{}
	values := r.Header.Values("Authorization")
	if len(values) > 1 {
		return none, nil, refuse(http.StatusUnauthorized, reason.TokenMalformed, "Authorization", "is given more than once", errors.New("two Authorization values"))
	}
	scheme, raw, _ := strings.Cut(strings.Join(values, ""), " ")
	raw = strings.TrimSpace(raw)
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return none, nil, refuse(http.StatusUnauthorized, reason.TokenMissing, "Authorization", "must be Bearer and the JWT the identity provider signs for this request", errors.New("no bearer token"))
	}
	if rc.cfg.Verifier == nil {
		return none, nil, refuse(http.StatusUnauthorized, reason.TokenIssuer, "Authorization", "no issuer is configured for universal logout here",
			errors.New("no TRUSTED_ISSUERS entry has universalLogout"))
	}
	rev, err := rc.cfg.Verifier.VerifyRevocation(ctx, raw)
	if err != nil {
		code := reason.CodeOf(err)
		if code == reason.DependencyUnavailable { // the key set could not be read: the IdP may retry
			return none, nil, refuse(http.StatusServiceUnavailable, code, "", "", err)
		}
		// Why is logged, never told: the caller is not authenticated.
		return none, nil, refuse(http.StatusUnauthorized, code, "Authorization", "the bearer JWT is not accepted", err)
	}
	if len(rev.JTI) > maxJTI {
		return none, nil, refuse(http.StatusUnauthorized, reason.TokenMalformed, "Authorization", "the bearer JWT is not accepted", fmt.Errorf("a jti of %d bytes (at most %d)", len(rev.JTI), maxJTI))
	}
	var entries []Entry
	addressed := false
	for _, e := range rc.cfg.Entries {
		if e.Signer == rev.Issuer && slices.Contains(rev.Audience, e.Audience) {
			addressed = true
		}
		if e.accepts(rev) {
			entries = append(entries, e)
		}
	}
	switch {
	case !addressed: // an audience of another signer's entry
		return none, nil, refuse(http.StatusUnauthorized, reason.TokenAudience, "Authorization", "the bearer JWT is not accepted",
			fmt.Errorf("audience %q is not an endpoint URL of issuer %q's entries", truncate(strings.Join(rev.Audience, ","), 200), rev.Issuer))
	case len(entries) == 0:
		return none, nil, refuse(http.StatusForbidden, reason.Forbidden, "Authorization", "the JWT's sub (the calling app) is not a caller configured for universal logout",
			fmt.Errorf("caller %q is not in callers", truncate(rev.Caller, 100)))
	}
	return rev, entries, nil
}

// targets are the users the subject names under the entries that accept
// the request, and only under them:
//   - iss_sub: under the entry whose issuer is iss, sub as that issuer
//     names the user (Entry.mapsIssSub); and when iss is the signer's own
//     (Okta's org authorization server, signing for its custom ones),
//     also under every other entry it signs for, sub then being the
//     signer's user id (Entry.mapsSignerSub);
//   - opaque: the user's id as sessionguard keys it, under every entry;
//   - email: under every entry that keys its users by email (mapsEmail).
//
// A subject of another issuer is refused (403). A subject that an entry
// it names cannot map to that entry's user key is refused (400) as a
// whole: a 204 that ended nothing would have the IdP believe the user
// signed out.
func targets(entries []Entry, rev token.Revocation, sub subjectID) ([]session.UserKey, *refusal) {
	var users []session.UserKey
	switch sub.format {
	case "iss_sub":
		iss := sub.values["iss"]
		for _, e := range entries {
			switch {
			case e.Issuer == iss:
				if !e.mapsIssSub() {
					return nil, refuse(http.StatusBadRequest, reason.TokenMalformed, sub.field("format"),
						fmt.Sprintf("iss_sub cannot name a user of issuer %q, whose users are keyed by %s: send opaque with the user's id as sessionguard records it", e.Issuer, e.keyedBy()),
						errors.New("an iss_sub subject for an issuer not keyed by sub"))
				}
			case iss == rev.Issuer: // every entry accepted here is one the signer signs for
				if !e.mapsSignerSub() {
					return nil, refuse(http.StatusBadRequest, reason.TokenMalformed, sub.field("format"),
						fmt.Sprintf("iss_sub with issuer %q names the user by that issuer's user id, and issuer %q keys its users by %s, not by that id: send opaque with the user's id as sessionguard records it",
							truncate(iss, 100), e.Issuer, e.keyedBy()),
						errors.New("an iss_sub subject of the signer for an entry not keyed by the signer's user id"))
				}
			default:
				continue
			}
			users = append(users, session.UserKey{Issuer: e.Issuer, Subject: sub.values["sub"]})
		}
		if len(users) == 0 {
			return nil, refuse(http.StatusForbidden, reason.Forbidden, sub.field("iss"), "names an issuer whose users this identity provider may not sign out here",
				fmt.Errorf("subject issuer %q is not an entry that issuer %q signs for", truncate(iss, 100), rev.Issuer))
		}
	case "opaque":
		for _, e := range entries {
			users = append(users, session.UserKey{Issuer: e.Issuer, Subject: sub.values["id"]})
		}
	case "email":
		for _, e := range entries {
			if e.mapsEmail() {
				users = append(users, session.UserKey{Issuer: e.Issuer, Subject: sub.values["email"]})
			}
		}
		if len(users) == 0 {
			return nil, refuse(http.StatusBadRequest, reason.TokenMalformed, sub.field("format"),
				fmt.Sprintf("email cannot name a user here: sessionguard does not record users' email addresses (issuer %q keys its users by %s); have the identity provider send iss_sub (or opaque)", entries[0].Issuer, entries[0].keyedBy()),
				errors.New("an email subject for an issuer not keyed by email"))
		}
	}
	return users, nil
}

// revoke ends each user's sessions in every environment (the one way
// sessions end for a cause: revoke.User), and records a sign-out there, so
// that a token authenticated before the request cannot start a session.
// The sign-out point is the later of now and issuedAt, the JWT's iat:
// tokens are authenticated by the IdP's clock, and a receiver whose clock
// is behind it must not let a token authenticated just before the logout
// sign in. The sessions end by the receiver's own clock, which stamped
// their creation. It returns how many sessions it ended; repeating it is
// harmless.
func (rc *Receiver) revoke(ctx context.Context, users []session.UserKey, issuedAt time.Time) (int, error) {
	now := rc.cfg.Now()
	signedOut := now
	if issuedAt.After(now) {
		signedOut = issuedAt
	}
	n := 0
	for _, u := range users {
		ended, err := revoke.User(ctx, rc.cfg.Store, revoke.Request{Environments: rc.cfg.Environments, User: u, At: now, Cause: session.CauseIdPLogout})
		n += len(ended)
		if err != nil {
			return n, err
		}
		for _, env := range rc.cfg.Environments {
			if err := rc.cfg.Store.RecordSignOut(ctx, env, u, signedOut); err != nil {
				return n, fmt.Errorf("record the sign-out of %s in %s: %w", u.Subject, env, err)
			}
		}
	}
	return n, nil
}

// answer refuses the request: problem+json naming the field, with the
// reason code (a 5xx says nothing internal), and the log line says why.
func (rc *Receiver) answer(ctx context.Context, w http.ResponseWriter, rf *refusal, log []slog.Attr) {
	attrs := append(log, slog.String("decision", "reject"), slog.String("reason", string(rf.code)), slog.Int("status", rf.status))
	if rf.err != nil {
		attrs = append(attrs, slog.String("error", rf.err.Error()))
	}
	level := slog.LevelWarn
	if rf.status >= 500 {
		level = slog.LevelError
	}
	rc.cfg.Log.LogAttrs(ctx, level, "global token revocation", attrs...)
	switch {
	case rf.status == http.StatusUnauthorized && rf.code == reason.TokenMissing:
		w.Header().Set("WWW-Authenticate", `Bearer`)
	case rf.status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case rf.status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
	}
	p := problem.Details{Status: rf.status, Reason: rf.code, Errors: rf.fields}
	if rf.status < 500 && len(rf.fields) > 0 {
		p.Detail = "the global token revocation request is refused"
	}
	problem.Write(w, p)
}
