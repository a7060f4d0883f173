package token

import (
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/reason"
)

// kind is what a token is verified as. An access token, a security event
// token and a back-channel logout token never pass for one another.
type kind int

const (
	accessToken kind = iota
	securityEvent
	logoutToken
)

// BackchannelLogoutEvent is the member a logout token's events object must
// hold (an object, usually empty): what marks it as a back-channel logout.
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutMaxAge is how old a logout token may be (by iat): they are posted
// the moment a user signs out, and their jti is remembered this long.
const LogoutMaxAge = 5 * time.Minute

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
	}
	return nil
}
