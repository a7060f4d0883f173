// Package reason holds the decision reason codes (docs/reason-codes.md)
// and the error type that carries one. Every deny in sessionguard has exactly one code.
package reason

import (
	"errors"
	"fmt"
)

// Code is a machine-readable reason for a decision.
type Code string

// The reason codes, plus OK for an allow.
const (
	OK                    Code = "ok"
	TokenMissing          Code = "token_missing"
	TokenMalformed        Code = "token_malformed"
	TokenSignature        Code = "token_signature"
	TokenExpired          Code = "token_expired"
	TokenNotYetValid      Code = "token_not_yet_valid"
	TokenIssuer           Code = "token_issuer"
	TokenAudience         Code = "token_audience"
	TokenTooLarge         Code = "token_too_large"
	DPoPInvalid           Code = "dpop_invalid"
	DPoPRequired          Code = "dpop_required"
	SessionMissing        Code = "session_missing"
	SessionUnknown        Code = "session_unknown"
	BindingUser           Code = "binding_user"
	BindingEnvironment    Code = "binding_environment"
	SessionExpired        Code = "session_expired"
	SessionIdle           Code = "session_idle"
	SessionRevoked        Code = "session_revoked"
	UserDisabled          Code = "user_disabled"
	PolicyCheckStale      Code = "policy_check_stale"
	EnvironmentUnknown    Code = "environment_unknown"
	DependencyUnavailable Code = "dependency_unavailable"
	Forbidden             Code = "forbidden"
)

// All lists every deny code, in the order of docs/reason-codes.md.
var All = []Code{
	TokenMissing, TokenMalformed, TokenSignature, TokenExpired, TokenNotYetValid,
	TokenIssuer, TokenAudience, TokenTooLarge, DPoPInvalid, DPoPRequired, SessionMissing, SessionUnknown,
	BindingUser, BindingEnvironment, SessionExpired, SessionIdle, SessionRevoked,
	UserDisabled, PolicyCheckStale, EnvironmentUnknown, DependencyUnavailable, Forbidden,
}

// Status is how an edge should answer a deny.
type Status int

// Deny classes: the client must sign in again (401), the
// caller is not allowed whatever it does (403), or a dependency failed and the
// answer is a fail-closed server error (500, never cached by API Gateway).
const (
	Unauthenticated Status = 401
	NotAllowed      Status = 403
	Unavailable     Status = 500
)

// StatusOf maps a deny code to its HTTP class.
func StatusOf(c Code) Status {
	switch c {
	case BindingUser, BindingEnvironment, EnvironmentUnknown, Forbidden:
		return NotAllowed
	case DependencyUnavailable:
		return Unavailable
	default:
		return Unauthenticated
	}
}

// Error is a deny with its reason code and, for logs only, its cause.
type Error struct {
	Code Code
	Err  error
}

// New returns an *Error with a cause built from format and args.
func New(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Err: fmt.Errorf(format, args...)}
}

func (e *Error) Error() string {
	if e.Err == nil {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the reason code carried by err, or DependencyUnavailable
// for any error that carries none: an unexplained failure never allows.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var re *Error
	if errors.As(err, &re) {
		return re.Code
	}
	return DependencyUnavailable
}
