package adminapi

import (
	"net/http"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/sessionguard/sessionguard/shared/httpjson"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// MaxUserPrefix caps the prefix of a user search, in bytes: longer than
// any subject an issuer profile names (an Entra tid/oid is 73).
const MaxUserPrefix = 256

// prefixProblem is what is wrong with a search prefix, or "".
func prefixProblem(prefix string) string {
	switch {
	case len(prefix) > MaxUserPrefix:
		return "at most " + strconv.Itoa(MaxUserPrefix) + " bytes"
	case !utf8.ValidString(prefix):
		return "must be UTF-8 text"
	}
	for _, c := range prefix {
		if unicode.IsControl(c) {
			return "must hold no control characters"
		}
	}
	return ""
}

// users finds the users of an issuer in the environment by the
// beginning of their subject (case-sensitive; no prefix lists them all),
// by subject, in pages: the users who signed in (session.UserKey). The
// store holds no names or e-mail addresses, so they are not searched.
func (a *API) users(w http.ResponseWriter, r *http.Request, _ token.Claims, env string) {
	prefix := r.URL.Query().Get("prefix")
	if msg := prefixProblem(prefix); msg != "" {
		problem.Fields(w, "bad search prefix", []problem.FieldError{{Field: "prefix", Message: msg}})
		return
	}
	iss, ok := a.issuer(w, r)
	if !ok {
		return
	}
	p, ok := page(w, r)
	if !ok {
		return
	}
	list, next, err := a.cfg.Store.SearchUsers(r.Context(), env, iss, prefix, p)
	if err != nil {
		a.fail(w, r, "search users", err)
		return
	}
	if list == nil {
		list = []session.UserKey{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"users": list, "next": next})
}
