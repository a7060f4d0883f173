package sessionapi

import (
	"net/http"

	"github.com/sessionguard/sessionguard/shared/httpjson"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// current answers the current session as the authorizer judges it now,
// without recording activity: polling for the expiry warning does not keep
// a session alive.
func (a *API) current(w http.ResponseWriter, r *http.Request) {
	res, ok := a.authenticated(w, r, "current")
	if !ok {
		return
	}
	v := viewOf(res.Session, res.Decision)
	v.Now = a.cfg.Now().UTC()
	httpjson.Write(w, http.StatusOK, v)
}

// keepAlive is the user's explicit "keep working": it records activity
// now, even inside the activity interval that rate-limits the
// authorizer's writes, so the idle end moves at once; the answer is the
// session judged again.
func (a *API) keepAlive(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, bad := a.identityOf(r)
	if bad != nil {
		problem.Fields(w, "the request is not valid", []problem.FieldError{*bad})
		return
	}
	res := a.cfg.Authorizer.Check(ctx, id)
	if !res.Allowed() {
		a.deny(ctx, w, "keep_alive", res.Reason, res.Err)
		return
	}
	if err := a.cfg.Authorizer.KeepAlive(ctx, res); err != nil {
		a.deny(ctx, w, "keep_alive", reason.DependencyUnavailable, err)
		return
	}
	if res = a.cfg.Authorizer.Recheck(ctx, id, res); !res.Allowed() { // its proof is used: checked once
		a.deny(ctx, w, "keep_alive", res.Reason, res.Err)
		return
	}
	v := viewOf(res.Session, res.Decision)
	v.Now = a.cfg.Now().UTC()
	httpjson.Write(w, http.StatusOK, v)
}
