// Package dpop checks DPoP proofs: the signed statements with which a
// client shows, on each request, that it holds the private key its access
// token (cnf.jkt) and its session are bound to (docs/security.md, DPoP).
// A token or a session id copied out of a log, a proxy or a browser
// extension is useless without that key.
//
// A request carries "Authorization: DPoP <access token>" (read by
// identity.AccessToken) and a header
// "DPoP: <proof>", a JWS whose header holds the public key (jwk) and whose
// claims name the request (htm, htu), when it was made (iat), a unique id
// (jti) and the hash of the access token (ath). Checker.Check runs the
// checks in a fixed order and names the first that fails (Error.Check);
// Need says, for an environment's mode, whether a request must carry a
// proof at all.
//
// The package knows nothing of API Gateway or DynamoDB: the authorizer
// and the sessions API give it the request's method, host and path, and
// a store records the proofs already used (ReplayStore).
package dpop

import (
	"context"
	"errors"
	"time"

	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// Mode is an environment's dpop setting (its values are policy's).
type Mode = policy.DPoPMode

// The modes. The zero value ("", settings stored before the setting
// existed) is Off.
const (
	// Off: DPoP is not used. The DPoP scheme is refused; a Bearer token
	// passes as before, bound to a key or not.
	Off = policy.DPoPOff
	// Allowed: a request with a DPoP-bound token, or on a session bound
	// to a key, must carry a valid proof; a plain Bearer token on an
	// unbound session still passes.
	Allowed = policy.DPoPAllowed
	// Required: only DPoP-bound tokens with valid proofs pass, on
	// sessions bound to the proofs' key.
	Required = policy.DPoPRequired
)

// effective is m, with "" read as Off, and any value that is not a mode
// (a setting written by a later release, or corrupted) read as Required:
// what the setting asks is unknown, so the most is asked (fail closed).
func effective(m Mode) Mode {
	switch m {
	case "":
		return Off
	case Off, Allowed, Required:
		return m
	}
	return Required
}

// Request is the HTTP request a proof must name: its method, and the
// URL the client called, as API Gateway describes it (the API's domain
// name and the path before any stage or base path is taken off).
type Request struct {
	Method string
	Host   string // requestContext.domainName (host[:port])
	Path   string // rawPath (payload 2.0), requestContext.path (REST, payload 1.0)
}

// The checks, in the order Checker.Check runs them; Error.Check names
// the one that failed.
const (
	CheckProof     = "proof"     // not a readable proof: size, shape, base64url, JSON, crit
	CheckTyp       = "typ"       // typ is not dpop+jwt
	CheckAlg       = "alg"       // alg is not in the allow-list
	CheckJWK       = "jwk"       // no public key of a kind alg takes, or one with private members
	CheckSignature = "signature" // the signature does not verify with jwk
	CheckHTM       = "htm"       // htm is not the request's method
	CheckHTU       = "htu"       // htu is not the request's URL
	CheckIAT       = "iat"       // iat is too old or too far in the future
	CheckJTI       = "jti"       // no jti, or one already used within the window (a replay)
	CheckATH       = "ath"       // ath is not the hash of the access token presented
	CheckJKT       = "cnf.jkt"   // the token is not bound to the proof's key
	CheckSession   = "session"   // the session is bound to another key
	// The reasons a proof is needed and missing (dpop_required).
	CheckDowngrade = "downgrade" // a DPoP-bound token sent as Bearer
	CheckMissing   = "missing"   // no DPoP header where one is needed
	CheckUnbound   = "unbound"   // under required: a token or a session not bound to a key
	// CheckRepeated: the DPoP header was sent more than once.
	CheckRepeated = "repeated"
	// CheckOff: the DPoP scheme where the environment's dpop is off.
	CheckOff = "off"
	// CheckCache: a proof passed, but the authorizer's answers are cached
	// (AUTHORIZER_CACHE_TTL_SECONDS > 0), so the allow would pass the next
	// request without one: dependency_unavailable, never cached.
	CheckCache = "cache"
)

// Error is a refused proof, or a request refused for want of one: the
// check that failed, and for iat the skew found (now - iat; negative for
// a proof from the future). It unwraps to a *reason.Error carrying the
// deny's reason code, so reason.CodeOf reads it.
type Error struct {
	Check string
	Skew  time.Duration
	Err   *reason.Error
}

func (e *Error) Error() string { return "dpop " + e.Check + ": " + e.Err.Error() }

// Unwrap is the *reason.Error.
func (e *Error) Unwrap() error { return e.Err }

// Code is the error's reason code.
func (e *Error) Code() reason.Code { return e.Err.Code }

func invalid(check, format string, args ...any) *Error {
	return &Error{Check: check, Err: reason.New(reason.DPoPInvalid, format, args...)}
}

func required(check, format string, args ...any) *Error {
	return &Error{Check: check, Err: reason.New(reason.DPoPRequired, format, args...)}
}

// Repeated is the error of a request that sent the DPoP header more than
// once (in any letter case): which proof the client meant is unknowable.
func Repeated() *Error { return invalid(CheckRepeated, "more than one DPoP header") }

// CheckOf is the check an error names ("" when it is not an *Error).
func CheckOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Check
	}
	return ""
}

// Presented is what a request presents, as Need judges it.
type Presented struct {
	Scheme identity.Scheme
	// TokenKey is the verified token's cnf.jkt; "" for an unbound token.
	TokenKey string
	// Proof: the request carries a DPoP header.
	Proof bool
	// Session: a session is judged (false at sign-in, which starts one).
	Session bool
	// SessionKey is the key thumbprint the session is bound to; "".
	SessionKey string
}

// Need says whether a request in an environment of mode m must have its
// proof checked (true), passes without (false), or is refused (an
// *Error: dpop_required, or token_malformed for the DPoP scheme where
// DPoP is off). A session bound to a key needs a proof by that key in
// every mode: the binding is the session's, not the setting's.
func Need(m Mode, p Presented) (bool, error) {
	m = effective(m)
	if m == Off && p.SessionKey == "" {
		if p.Scheme == identity.DPoP {
			return false, &Error{Check: CheckOff, Err: reason.New(reason.TokenMalformed, "DPoP is off in this environment: send the token as Bearer")}
		}
		return false, nil
	}
	switch {
	case p.Scheme == identity.Bearer && p.TokenKey != "":
		return false, required(CheckDowngrade, "a DPoP-bound token sent as Bearer: send it as DPoP with a proof")
	case p.Scheme == identity.DPoP && !p.Proof:
		return false, required(CheckMissing, "the DPoP scheme without a DPoP header")
	case p.SessionKey != "" && !p.Proof:
		return false, required(CheckMissing, "the session is bound to a key: every request needs a proof by it")
	case m == Required && p.TokenKey == "":
		return false, required(CheckUnbound, "this environment takes only DPoP-bound tokens")
	case m == Required && p.Session && p.SessionKey == "":
		return false, required(CheckUnbound, "this environment takes only sessions bound to a key: sign in again with a proof")
	}
	return p.Scheme == identity.DPoP || p.SessionKey != "", nil
}

// DowngradeAccepted reports whether Need lets p pass as a downgrade: a
// DPoP-bound token sent as Bearer, taken as any Bearer token because the
// environment's dpop is off (a resource server that does not use DPoP
// does the same). The decision logs name it (dpopDowngradeAccepted), so
// an operator sees bound tokens used without their proofs.
func DowngradeAccepted(m Mode, p Presented) bool {
	return effective(m) == Off && p.Scheme == identity.Bearer && p.TokenKey != "" && p.SessionKey == ""
}

// requestKey carries a Request in a context.
type requestKey struct{}

// WithRequest returns ctx carrying req: the edge (shared/edge) records
// the request as API Gateway described it, before it takes a stage off
// the path, for the handlers that check proofs.
func WithRequest(ctx context.Context, req Request) context.Context {
	return context.WithValue(ctx, requestKey{}, req)
}

// RequestFrom is the Request ctx carries, if any.
func RequestFrom(ctx context.Context) (Request, bool) {
	req, ok := ctx.Value(requestKey{}).(Request)
	return req, ok
}
