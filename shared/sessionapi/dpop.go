package sessionapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// DPoP at the sessions routes (docs/security.md#dpop-sender-constrained-tokens-and-sessions):
//   - sign-in with a DPoP-bound token and a proof for it (htm POST, htu the
//     sessions URL) binds the new session to the proof's key; what the
//     environment's dpop setting asks of a sign-in is dpop.Need's;
//   - GET /sessions/current and the keep-alive judge the session as the
//     authorizer does, proof included;
//   - sign-out of a session bound to a key needs a proof by that key (htm
//     DELETE); the session id alone no longer signs it out, as it no
//     longer uses it. No token is judged there, so the proof's ath is not.

// requestOf is the request as the client called it, which a proof must
// name: as the edge recorded it from the API Gateway event (the domain
// name, the path before a stage is taken off), else as net/http has it
// (a handler served without the edge: tests).
func requestOf(r *http.Request) dpop.Request {
	if req, ok := dpop.RequestFrom(r.Context()); ok {
		return req
	}
	return dpop.Request{Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath()}
}

// proofHeader is the DPoP header's proof; repeated reports the header
// sent more than once, or values joined by a comma (the edge refuses
// both before the handler runs; this holds without it).
func proofHeader(r *http.Request) (proof string, repeated bool) {
	vs := r.Header.Values("DPoP")
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], len(vs) > 1 || strings.IndexByte(vs[0], ',') >= 0
}

// proofAtSignIn checks a sign-in's proof where the environment's mode
// and the token ask for one (dpop.Need), and returns the key the new
// session is bound to: the proof's, for a DPoP-bound token and a valid
// proof; "" when none is checked.
func (a *API) proofAtSignIn(ctx context.Context, r *http.Request, scheme identity.Scheme, raw string, c token.Claims, mode policy.DPoPMode) (string, error) {
	proof, repeated := proofHeader(r)
	if repeated {
		return "", dpop.Repeated()
	}
	need, err := dpop.Need(mode, dpop.Presented{Scheme: scheme, TokenKey: c.KeyThumbprint, Proof: proof != ""})
	if err != nil || !need {
		return "", err
	}
	if a.cfg.Proofs == nil {
		return "", errors.New("a DPoP proof must be checked and the sessions API has no replay store to check it with")
	}
	p, err := a.cfg.Proofs.Check(ctx, proof, requestOf(r), dpop.Binding{AccessToken: raw, TokenBound: true, TokenKey: c.KeyThumbprint})
	if err != nil {
		return "", err
	}
	return p.Thumbprint, nil
}

// proofAtSignOut checks the proof that signing out of s needs when s is
// bound to a key: present, valid for this request, by that key.
func (a *API) proofAtSignOut(ctx context.Context, r *http.Request, s session.Session) error {
	if s.DPoPKey == "" {
		return nil
	}
	proof, repeated := proofHeader(r)
	switch {
	case repeated:
		return dpop.Repeated()
	case proof == "":
		return &dpop.Error{Check: dpop.CheckMissing, Err: reason.New(reason.DPoPRequired, "the session is bound to a key: signing out needs a proof by it")}
	case a.cfg.Proofs == nil:
		return errors.New("a DPoP proof must be checked and the sessions API has no replay store to check it with")
	}
	_, err := a.cfg.Proofs.Check(ctx, proof, requestOf(r), dpop.Binding{SessionKey: s.DPoPKey})
	return err
}

// dpopDeny answers a DPoP deny with its problem and the DPoP challenge:
// invalid_dpop_proof for a proof refused, a bare challenge naming the
// algorithms for a proof missing.
func dpopDeny(w http.ResponseWriter, c reason.Code, detail string) {
	challenge := `DPoP algs="` + strings.Join(dpop.Algorithms, " ") + `"`
	if c == reason.DPoPInvalid {
		challenge = `DPoP error="invalid_dpop_proof", algs="` + strings.Join(dpop.Algorithms, " ") + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	problem.Write(w, problem.Details{Status: http.StatusUnauthorized, Reason: c, Detail: detail})
}
