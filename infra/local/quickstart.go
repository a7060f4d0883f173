package local

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// QuickStart is the copy-pasteable walk-through printed by `make run`.
func (s *Stack) QuickStart() string {
	u := s.URL
	return fmt.Sprintf(`sessionguard local stack on %[1]s
  environment %[2]q, %[3]s, development issuer at %[1]s/idp (it mints tokens for anyone: loopback only)
  admin console: %[1]s/console/    demo app with the expiry warning: %[1]s/app?user=alice
  the example app of examples/ (its own API in AWS): %[1]s/example/hello and /example/items, behind the authorizer
  example single-page app on the browser client library and oidc-client-ts: %[1]s/spa/ (signs in at the development issuer; needs make node-deps)
  a second environment, "staging": every route again under %[1]s/staging/ (a named stage), or sign in with POST /sessions?environment=staging

Quick start (copy and paste into another shell):

# 1. Mint an access token for alice at the development issuer
TOKEN=$(curl -s '%[1]s/idp/token?user=alice')

# 2. Sign in: a session bound to alice, its id in the JSON body and a cookie
SID=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" -d '{"staySignedIn":false}' %[1]s/sessions | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')

# 3. Call the protected route: the authorizer allows it; the route echoes the authorizer context
curl -s -i -H "Authorization: Bearer $TOKEN" -H "X-Session-Id: $SID" %[1]s/demo

# 4. Another user's token on alice's session is refused: 403 (binding_user)
MALLORY=$(curl -s '%[1]s/idp/token?user=mallory')
curl -s -i -H "Authorization: Bearer $MALLORY" -H "X-Session-Id: $SID" %[1]s/demo

# 5. Sign out (204), then call again with the same token and session: refused, 401 (session_revoked)
curl -s -i -X DELETE -H "X-Session-Id: $SID" %[1]s/sessions/current
curl -s -i -H "Authorization: Bearer $TOKEN" -H "X-Session-Id: $SID" %[1]s/demo

# 6. The old token cannot start a new session: sign in again with credentials (401)
curl -s -i -X POST -H "Authorization: Bearer $TOKEN" %[1]s/sessions

# 7. An admin (a token with the %[4]s role) signs in and reads the settings (the first time: defaults, ETag "0"), keeping the ETag
ADMIN=$(curl -s '%[1]s/idp/token?user=root&role=%[4]s')
ASID=$(curl -s -X POST -H "Authorization: Bearer $ADMIN" %[1]s/sessions | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')
SETTINGS=$(curl -s -i -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" %[1]s/environments/%[2]s/settings); echo "$SETTINGS"
ETAG=$(echo "$SETTINGS" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')

# 8. ...and sets an 8-hour session lifetime (If-Match carries the ETag read; a stale one gets 412)
curl -s -i -X PUT -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" -H "If-Match: $ETAG" \
  -d '{"sessionExpiration":{"enabled":true,"maxSessionMinutes":480}}' %[1]s/environments/%[2]s/settings

# 9. A new sign-in gets the new settings: expiresAt 8 hours from now, warnAt 20 minutes before
BOB=$(curl -s '%[1]s/idp/token?user=bob')
BOB_SIGNIN=$(curl -s -X POST -H "Authorization: Bearer $BOB" %[1]s/sessions); echo "$BOB_SIGNIN"
BSID=$(echo "$BOB_SIGNIN" | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')

# 10. The change is in the history: who, when, old and new values, version
curl -s -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" %[1]s/environments/%[2]s/settings/history; echo

# 11. bob is disabled in the development directory; a policy-check run (every 30 s, or now) revokes his sessions: 401
curl -s -X PUT -d '{"enabled":false}' %[1]s/directory/admin/users/bob
curl -s -X POST %[1]s/local/run-checks; echo
curl -s -i -H "Authorization: Bearer $BOB" -H "X-Session-Id: $BSID" %[1]s/demo
# (bob is enabled again in the directory: the next check lets him sign in anew; the revoked session stays revoked)
curl -s -X PUT -d '{"enabled":true}' %[1]s/directory/admin/users/bob

# 12. The IdP pushes a session-revoked event (a Shared Signals SET) for carol: 202, and her session ends: 401
CAROL=$(curl -s '%[1]s/idp/token?user=carol')
CSID=$(curl -s -X POST -H "Authorization: Bearer $CAROL" %[1]s/sessions | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')
curl -s -i -X POST -H 'Content-Type: application/secevent+jwt' --data "$(curl -s '%[1]s/idp/set?user=carol&event=session-revoked')" %[1]s/signals
curl -s -i -H "Authorization: Bearer $CAROL" -H "X-Session-Id: $CSID" %[1]s/demo

# 13. The audit reports of the runs: active sessions, revocations by cause, users failing checks, settings changes
curl -s -X POST %[1]s/local/run-checks > /dev/null
curl -s -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" '%[1]s/environments/%[2]s/audits?limit=1'; echo

# 14. Shared Signals: set up a stream at the development transmitter (the console's "Shared Signals" panel does the same), verify it, push an event through it
curl -s -X PUT -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" -d '{"delivery":"push"}' '%[1]s/transmitters/stream?issuer=%[1]s/idp'; echo
curl -s -X POST -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" '%[1]s/transmitters/stream/verify?issuer=%[1]s/idp'; echo
DAVE=$(curl -s '%[1]s/idp/token?user=dave')
DSID=$(curl -s -X POST -H "Authorization: Bearer $DAVE" %[1]s/sessions | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')
curl -s '%[1]s/idp/set?user=dave&event=session-revoked&deliver=1'
curl -s -i -H "Authorization: Bearer $DAVE" -H "X-Session-Id: $DSID" %[1]s/demo

# 15. DPoP: the admin makes staging require it; erin's device holds a key (the stack's demo keys stand in for a browser's), her token is bound to it, and her sign-in with a proof binds the session to it: 201, then 200
STAGING=$(curl -s -i -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" %[1]s/environments/staging/settings | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')
curl -s -X PUT -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" -H "If-Match: $STAGING" -d '{"dpop":"required"}' %[1]s/environments/staging/settings; echo
ERIN=$(curl -s "%[1]s/idp/token?user=erin&jkt=$(curl -s '%[1]s/local/dpop/jkt?key=erin-laptop')")
proof() { curl -s -G --data-urlencode "key=$1" --data-urlencode "htm=$2" --data-urlencode "htu=$3" --data-urlencode "token=$ERIN" %[1]s/local/dpop/proof; }
ESID=$(curl -s -X POST -H "Authorization: DPoP $ERIN" -H "DPoP: $(proof erin-laptop POST %[1]s/staging/sessions)" %[1]s/staging/sessions | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')
curl -s -i -H "Authorization: DPoP $ERIN" -H "DPoP: $(proof erin-laptop GET %[1]s/staging/demo)" -H "X-Session-Id: $ESID" %[1]s/staging/demo

# 16. The token and session id, stolen and used from another machine: its own key's proof is refused, 401 (dpop_invalid); so is a replayed proof, and no proof at all (dpop_required)
curl -s -i -H "Authorization: DPoP $ERIN" -H "DPoP: $(proof mallory-laptop GET %[1]s/staging/demo)" -H "X-Session-Id: $ESID" %[1]s/staging/demo
SEEN=$(proof erin-laptop GET %[1]s/staging/demo)
curl -s -o /dev/null -H "Authorization: DPoP $ERIN" -H "DPoP: $SEEN" -H "X-Session-Id: $ESID" %[1]s/staging/demo
curl -s -i -H "Authorization: DPoP $ERIN" -H "DPoP: $SEEN" -H "X-Session-Id: $ESID" %[1]s/staging/demo
curl -s -i -H "Authorization: Bearer $ERIN" -H "X-Session-Id: $ESID" %[1]s/staging/demo
%[5]s
Every decision is logged as one JSON line with its reason code. Ctrl-C stops the stack.
`, u, Environment, s.Storage, AdminRole, s.cognitoQuickStart())
}

// appPage is a demo app page: it signs in (?user=, default alice) with a
// development token, calls the protected route, and includes the expiry
// warning snippet (?poll= seconds between its checks, default 30).
//
//go:embed app.html
var appPage []byte

func serveApp(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(appPage)
}

// demo is the protected demo route: it echoes the authorizer context.
func demo(w http.ResponseWriter, r *http.Request) {
	rc, _ := core.GetAPIGatewayV2ContextFromContext(r.Context())
	var ctx map[string]any
	if rc.Authorizer != nil {
		ctx = rc.Authorizer.Lambda
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"message": "hello from the protected demo route", "authorizer": ctx})
}
