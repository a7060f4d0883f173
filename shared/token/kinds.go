package token

import (
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/reason"
)

// kind is what a token is verified as. An access token, a security event
// token, a back-channel logout token and the JWT of a global token
// revocation request never pass for one another.
type kind int

const (
	accessToken kind = iota
	securityEvent
	logoutToken
	revocationRequest
)

// BackchannelLogoutEvent is the member a logout token's events object must
// hold (an object, usually empty): what marks it as a back-channel logout.
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutMaxAge is how old a logout token may be (by iat): they are posted
// the moment a user signs out, and their jti is remembered this long.
const LogoutMaxAge = 5 * time.Minute

// RevocationMaxAge is how old (by iat) the JWT that authenticates a
// global token revocation request may be: the IdP signs one per request,
// valid for a few minutes, and its jti is remembered this long.
const RevocationMaxAge = 5 * time.Minute

// isRevocationType reports whether a typ header names the JWT of a global
// token revocation request (the type Okta's Universal Logout sends).
func isRevocationType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == "global-token-revocation+jwt" || typ == "application/global-token-revocation+jwt"
}

// isSETType reports whether a typ header names a Security Event Token.
func isSETType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == "secevent+jwt" || typ == "application/secevent+jwt"
}

// isLogoutType reports whether a typ header names a logout token.
func isLogoutType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == "logout+jwt" || typ == "application/logout+jwt"
}

// kindRules are what makes a token one kind and not the others: the
// header typ, the events claim, the claims each kind requires.
func kindRules(k kind, jws *compact, now time.Time, skew time.Duration) error {
	c, typ := &jws.claims, jws.header.Typ
	logoutEvent := c.hasEvent(BackchannelLogoutEvent)
	switch k {
	case accessToken:
		switch {
		case isSETType(typ) || isLogoutType(typ) || c.Events != nil:
			return reason.New(reason.TokenMalformed, "an event token (a security event or logout token) is not an access token")
		case isRevocationType(typ):
			return reason.New(reason.TokenMalformed, "the JWT of a global token revocation request is not an access token")
		case !c.Exp.set:
			return reason.New(reason.TokenMalformed, "token has no exp")
		}
	case securityEvent:
		switch {
		case typ != "" && !isSETType(typ):
			return reason.New(reason.TokenMalformed, "typ %q is not secevent+jwt", truncate(typ, 40))
		case logoutEvent:
			return reason.New(reason.TokenMalformed, "a logout token is not a security event token for this receiver")
		case !c.Iat.set || c.Jti == "":
			return reason.New(reason.TokenMalformed, "a security event token needs iat and jti")
		case !c.eventsObject():
			// Without it an access token that carries jti and iat, and no
			// typ, would pass for a SET.
			return reason.New(reason.TokenMalformed, `a security event token needs "events": an object of one or more events, each an object`)
		}
	case logoutToken: // the back-channel logout event, sub or sid, no nonce, jti, a recent iat
		switch {
		case typ != "" && !isLogoutType(typ):
			return reason.New(reason.TokenMalformed, "typ %q is not logout+jwt", truncate(typ, 40))
		case !logoutEvent:
			return reason.New(reason.TokenMalformed, "events has no %s member (an object)", BackchannelLogoutEvent)
		case c.Sub == "" && c.Sid == "":
			return reason.New(reason.TokenMalformed, "a logout token needs sub or sid")
		case c.HasNonce:
			return reason.New(reason.TokenMalformed, "a logout token must not carry a nonce")
		case c.Jti == "":
			return reason.New(reason.TokenMalformed, "a logout token needs jti")
		case !c.Iat.set:
			return reason.New(reason.TokenMalformed, "a logout token needs iat")
		case now.After(c.Iat.t.Add(LogoutMaxAge + skew)):
			return reason.New(reason.TokenExpired, "issued at %s, more than %v ago", c.Iat.t.Format(time.RFC3339), LogoutMaxAge)
		}
	case revocationRequest: // typed as one or untyped; no events, no client, no nonce; sub, jti, iat, exp; a recent iat
		switch {
		case typ != "" && !isRevocationType(typ) && !strings.EqualFold(typ, "JWT"):
			return reason.New(reason.TokenMalformed, "typ %q is not global-token-revocation+jwt", truncate(typ, 40))
		case c.Events != nil:
			return reason.New(reason.TokenMalformed, "an event token (a security event or logout token) is not a revocation request")
		case c.Azp != "" || c.ClientID != "" || c.Cid != "" || c.Appid != "":
			// The request's JWT names the calling app in sub; a client
			// claim marks an access (or ID) token of the issuer.
			return reason.New(reason.TokenMalformed, "a token naming a client (azp, client_id, cid, appid) is an access or ID token, not a revocation request")
		case c.HasNonce:
			return reason.New(reason.TokenMalformed, "a token with a nonce is an ID token, not a revocation request")
		case c.Sub == "" || c.Jti == "" || !c.Iat.set || !c.Exp.set:
			return reason.New(reason.TokenMalformed, "a revocation request's JWT needs sub, jti, iat and exp")
		case now.After(c.Iat.t.Add(RevocationMaxAge + skew)):
			return reason.New(reason.TokenExpired, "issued at %s, more than %v ago", c.Iat.t.Format(time.RFC3339), RevocationMaxAge)
		}
	}
	return nil
}
