// Package devdir is a development directory that speaks the three
// protocols of shared/directory over real HTTP: the plain HTTP/JSON one
// (/users/{id}), SCIM 2.0 (/scim/v2/Users/{id}) and Microsoft Graph
// (/graph/token, /graph/v1.0/$batch). Users can be disabled, deleted or
// have their sessions revoked; the directory can be taken down, slowed, or
// made to throttle — for the tests and the local stack.
package devdir

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// User is one directory user.
type User struct {
	Enabled           bool
	SessionsValidFrom time.Time
}

// Directory is safe for concurrent use.
type Directory struct {
	// DefaultActive makes users it has not been told about exist and be
	// enabled (the local stack, where any name can sign in); otherwise
	// they are deleted (404).
	DefaultActive bool
	// Now stamps changes (SCIM meta.lastModified); time.Now if nil.
	Now func() time.Time
	// NoFilter makes the SCIM service provider not advertise filtering.
	NoFilter bool

	mu       sync.Mutex
	users    map[string]User
	deleted  map[string]bool
	down     bool
	delay    time.Duration
	throttle int    // answer this many requests 429
	after    string // their Retry-After
	requests atomic.Int64
	log      []string // user ids in the order they changed (Graph users/delta)
	modified map[string]time.Time
}

// New returns an empty directory.
func New() *Directory {
	return &Directory{users: map[string]User{}, deleted: map[string]bool{}, modified: map[string]time.Time{}}
}

func (d *Directory) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Put adds or replaces a user.
func (d *Directory) Put(id string, u User) {
	d.mu.Lock()
	d.users[id] = u
	delete(d.deleted, id)
	d.log = append(d.log, id)
	d.modified[id] = d.now()
	d.mu.Unlock()
}

// Delete removes a user: from now on the user does not exist.
func (d *Directory) Delete(id string) {
	d.mu.Lock()
	delete(d.users, id)
	d.deleted[id] = true
	d.log = append(d.log, id)
	d.mu.Unlock()
}

// SetDown makes every answer 500 (true) or normal again.
func (d *Directory) SetDown(down bool) { d.mu.Lock(); d.down = down; d.mu.Unlock() }

// SetDelay delays every answer.
func (d *Directory) SetDelay(delay time.Duration) { d.mu.Lock(); d.delay = delay; d.mu.Unlock() }

// Throttle answers the next n requests (Graph: batch items) 429 with
// Retry-After: retryAfter.
func (d *Directory) Throttle(n int, retryAfter string) {
	d.mu.Lock()
	d.throttle, d.after = n, retryAfter
	d.mu.Unlock()
}

// Requests counts the HTTP requests served.
func (d *Directory) Requests() int64 { return d.requests.Load() }

// answer is what the directory says of one user now: its HTTP status and
// user, and a Retry-After when throttled.
func (d *Directory) answer(id string) (int, User, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.down:
		return http.StatusInternalServerError, User{}, ""
	case d.throttle > 0:
		d.throttle--
		return http.StatusTooManyRequests, User{}, d.after
	}
	u, ok := d.users[id]
	if !ok && d.DefaultActive && !d.deleted[id] {
		u, ok = User{Enabled: true}, true
	}
	if !ok {
		return http.StatusNotFound, User{}, ""
	}
	return http.StatusOK, u, ""
}

func (d *Directory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.requests.Add(1)
	d.mu.Lock()
	delay := d.delay
	d.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/users/"):
		d.serveUser(w, strings.TrimPrefix(path, "/users/"), func(u User) any {
			doc := map[string]any{"enabled": u.Enabled}
			if !u.SessionsValidFrom.IsZero() {
				doc["sessionsValidFrom"] = u.SessionsValidFrom
			}
			return doc
		})
	case path == "/scim/v2/ServiceProviderConfig":
		writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
			"filter": map[string]any{"supported": !d.NoFilter, "maxResults": scimPage}})
	case path == "/scim/v2/Users":
		d.serveSCIMList(w, r)
	case strings.HasPrefix(path, "/scim/v2/Users/"):
		id := strings.TrimPrefix(path, "/scim/v2/Users/")
		d.serveUser(w, id, func(u User) any {
			return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "id": id, "active": u.Enabled}
		})
	case strings.HasPrefix(path, "/admin/users/"):
		d.serveAdmin(w, r, strings.TrimPrefix(path, "/admin/users/"))
	case path == "/graph/token" && r.Method == http.MethodPost:
		r.ParseForm()
		if r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_secret") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "dev-graph-token", "expires_in": 3600, "token_type": "Bearer"})
	case path == "/graph/v1.0/$batch" && r.Method == http.MethodPost:
		d.serveBatch(w, r)
	case path == "/graph/v1.0/users/delta" && r.Method == http.MethodGet:
		d.serveDelta(w, r)
	default:
		http.NotFound(w, r)
	}
}

// serveAdmin changes a user, for the local stack's quick-start:
// PUT /admin/users/{id} {"enabled": false, "sessionsValidFrom": "..."},
// DELETE /admin/users/{id}.
func (d *Directory) serveAdmin(w http.ResponseWriter, r *http.Request, id string) {
	if id == "" {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodPut:
		var doc struct {
			Enabled           *bool     `json:"enabled"`
			SessionsValidFrom time.Time `json:"sessionsValidFrom"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&doc); err != nil || doc.Enabled == nil {
			http.Error(w, `want {"enabled": true|false, "sessionsValidFrom": "RFC 3339 (optional)"}`, http.StatusBadRequest)
			return
		}
		d.Put(id, User{Enabled: *doc.Enabled, SessionsValidFrom: doc.SessionsValidFrom})
	case http.MethodDelete:
		d.Delete(id)
	default:
		w.Header().Set("Allow", "PUT, DELETE")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (d *Directory) serveUser(w http.ResponseWriter, id string, doc func(User) any) {
	status, u, after := d.answer(id)
	if after != "" {
		w.Header().Set("Retry-After", after)
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, doc(u))
}

func (d *Directory) serveBatch(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer dev-graph-token" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var batch struct {
		Requests []struct{ ID, Method, URL string } `json:"requests"`
	}
	if err := json.NewDecoder(r.Body).Decode(&batch); err != nil || len(batch.Requests) > 20 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	type response struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers,omitempty"`
		Body    any               `json:"body,omitempty"`
	}
	var out []response
	for _, q := range batch.Requests {
		id, _, _ := strings.Cut(strings.TrimPrefix(q.URL, "/users/"), "?")
		status, u, after := d.answer(id)
		resp := response{ID: q.ID, Status: status}
		if after != "" {
			resp.Headers = map[string]string{"Retry-After": after}
		}
		if status == http.StatusOK {
			body := map[string]any{"accountEnabled": u.Enabled, "signInSessionsValidFromDateTime": nil}
			if !u.SessionsValidFrom.IsZero() {
				body["signInSessionsValidFromDateTime"] = u.SessionsValidFrom.Format(time.RFC3339)
			}
			resp.Body = body
		}
		out = append(out, resp)
	}
	writeJSON(w, http.StatusOK, map[string]any{"responses": out})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// deltaPage is how many users one users/delta page holds.
const deltaPage = 200

// serveDelta is Graph's users/delta: without a token, every user (the
// initial sync); with $deltatoken=latest, none (tracking starts now);
// with $deltatoken=N, the users changed after the N-th
// change; pages of deltaPage linked by @odata.nextLink ($skiptoken), the
// last with @odata.deltaLink; an unknown token is 410 Gone. Deleted users come as {"id", "@removed"}.
func (d *Directory) serveDelta(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d.mu.Lock()
	var ids []string
	seen := map[string]bool{}
	switch t := q.Get("$deltatoken"); t {
	case "latest": // the current position only, no users
	case "":
		for id := range d.users {
			ids = append(ids, id)
		}
		slices.Sort(ids)
	default:
		from, err := strconv.Atoi(t)
		if err != nil || from < 0 || from > len(d.log) {
			d.mu.Unlock()
			writeJSON(w, http.StatusGone, map[string]any{"error": map[string]string{"code": "syncStateNotFound", "message": "delta token expired"}})
			return
		}
		for _, id := range d.log[min(from, len(d.log)):] {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	end := len(d.log)
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	var items []map[string]any
	for _, id := range ids[min(skip, len(ids)):min(skip+deltaPage, len(ids))] {
		if u, ok := d.users[id]; ok {
			item := map[string]any{"id": id, "accountEnabled": u.Enabled, "signInSessionsValidFromDateTime": nil}
			if !u.SessionsValidFrom.IsZero() {
				item["signInSessionsValidFromDateTime"] = u.SessionsValidFrom
			}
			items = append(items, item)
		} else {
			items = append(items, map[string]any{"id": id, "@removed": map[string]string{"reason": "deleted"}})
		}
	}
	d.mu.Unlock()
	base := "http://" + r.Host + "/graph/v1.0/users/delta"
	page := map[string]any{"value": items}
	if skip+deltaPage < len(ids) {
		next := url.Values{"$skiptoken": {strconv.Itoa(skip + deltaPage)}}
		if t := q.Get("$deltatoken"); t != "" {
			next.Set("$deltatoken", t)
		}
		page["@odata.nextLink"] = base + "?" + next.Encode()
	} else {
		page["@odata.deltaLink"] = base + "?" + url.Values{"$deltatoken": {strconv.Itoa(end)}}.Encode()
	}
	writeJSON(w, http.StatusOK, page)
}

// scimPage is the most users one SCIM list page holds.
const scimPage = 100

// serveSCIMList answers GET /scim/v2/Users?filter=meta.lastModified gt
// "time" (the only filter it knows; 400 invalidFilter otherwise), paged by
// startIndex and count, oldest change first.
func (d *Directory) serveSCIMList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := q.Get("filter")
	after, ok := strings.CutPrefix(f, `meta.lastModified gt "`)
	since, err := time.Parse(time.RFC3339Nano, strings.TrimSuffix(after, `"`))
	if d.NoFilter || !ok || !strings.HasSuffix(after, `"`) || err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "scimType": "invalidFilter", "status": "400"})
		return
	}
	start, _ := strconv.Atoi(q.Get("startIndex"))
	count, err := strconv.Atoi(q.Get("count"))
	if err != nil || count <= 0 || count > scimPage {
		count = scimPage
	}
	start = max(start, 1)
	d.mu.Lock()
	var ids []string
	for id, at := range d.modified {
		if _, live := d.users[id]; live && at.After(since) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { // a stable order, so that pages neither overlap nor skip
		if c := d.modified[a].Compare(d.modified[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var res []map[string]any
	for _, id := range ids[min(start-1, len(ids)):min(start-1+count, len(ids))] {
		res = append(res, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "id": id,
			"active": d.users[id].Enabled, "meta": map[string]any{"resourceType": "User", "lastModified": d.modified[id].Format(time.RFC3339Nano)}})
	}
	d.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": len(ids), "itemsPerPage": len(res), "startIndex": start, "Resources": res})
}
