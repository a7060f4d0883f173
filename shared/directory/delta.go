// Change tracking: Microsoft Graph's users/delta.

package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Change is one user a change feed reports changed.
type Change struct {
	ID     string // the directory's id of the user (Graph: the object id)
	Result Result
	// Complete: Result is the user's whole state. An incomplete change
	// (a property the check needs was not in the entry) must be asked
	// about user by user.
	Complete bool
}

// ErrCursorExpired is the error of a cursor the directory no longer
// accepts (Graph answers 410 Gone): tracking restarts from now, and the
// per-user interval covers the gap.
var ErrCursorExpired = errors.New("directory: change cursor expired")

// MaxDeltaPages bounds the pages one Changes call follows.
const MaxDeltaPages = 1000

// deltaSelect is what a users/delta entry carries: the check's properties.
const deltaSelect = "id,accountEnabled,signInSessionsValidFromDateTime"

func (d *Graph) base() string {
	if d.GraphURL == "" {
		return "https://graph.microsoft.com/v1.0"
	}
	return strings.TrimRight(d.GraphURL, "/")
}

// Changes reads users/delta from cursor (a @odata.deltaLink a former call
// returned) and returns the users changed since, and the cursor to keep.
// Without a cursor it asks for the current position only
// ($deltatoken=latest): tracking starts now, with no initial full read of
// the tenant. Links are followed only under the configured Graph URL.
func (d *Graph) Changes(ctx context.Context, cursor string) ([]Change, string, error) {
	tok, err := d.accessToken(ctx)
	if err != nil {
		return nil, "", err
	}
	start := d.base() + "/users/delta"
	link := cursor
	if link == "" {
		link = start + "?$select=" + deltaSelect + "&$deltatoken=latest"
	}
	var out []Change
	for range MaxDeltaPages {
		if !strings.HasPrefix(link, start+"?") {
			return nil, "", fmt.Errorf("directory: graph delta link %.60q is not under %s", link, start)
		}
		status, _, body, err := do(ctx, client(d.Client), func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodGet, link, nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			return req, err
		})
		if err != nil {
			return nil, "", fmt.Errorf("directory: graph users/delta: %w", err)
		}
		if status == http.StatusGone {
			return nil, "", ErrCursorExpired
		}
		if status != http.StatusOK {
			return nil, "", statusError("graph users/delta", status)
		}
		var page struct {
			Value     []map[string]json.RawMessage `json:"value"`
			NextLink  string                       `json:"@odata.nextLink"`
			DeltaLink string                       `json:"@odata.deltaLink"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, "", fmt.Errorf("directory: graph users/delta page: %w", err)
		}
		for _, entry := range page.Value {
			c, err := deltaEntry(entry)
			if err != nil {
				return nil, "", err
			}
			out = append(out, c)
		}
		switch {
		case page.DeltaLink != "":
			return out, page.DeltaLink, nil
		case page.NextLink == "":
			return nil, "", errors.New("directory: graph users/delta page with neither nextLink nor deltaLink")
		}
		link = page.NextLink
	}
	return nil, "", fmt.Errorf("directory: graph users/delta: more than %d pages", MaxDeltaPages)
}

// deltaEntry reads one users/delta entry. A removed user (reason
// "changed": soft-deleted, restorable for 30 days; "deleted": gone) is
// Deleted; either way the account cannot sign in. A disabled account is
// complete on its own; an enabled one needs its revocation point too.
func deltaEntry(e map[string]json.RawMessage) (Change, error) {
	var c Change
	if err := json.Unmarshal(e["id"], &c.ID); err != nil || c.ID == "" {
		return c, fmt.Errorf("directory: graph users/delta entry without id: %v", err)
	}
	if _, removed := e["@removed"]; removed {
		c.Result, c.Complete = Result{State: Deleted}, true
		return c, nil
	}
	var enabled *bool
	if raw, ok := e["accountEnabled"]; ok {
		if err := json.Unmarshal(raw, &enabled); err != nil {
			return c, fmt.Errorf("directory: graph users/delta entry %s: accountEnabled: %w", c.ID, err)
		}
	}
	raw, hasFrom := e["signInSessionsValidFromDateTime"]
	var from *time.Time
	if hasFrom {
		if err := json.Unmarshal(raw, &from); err != nil {
			return c, fmt.Errorf("directory: graph users/delta entry %s: signInSessionsValidFromDateTime: %w", c.ID, err)
		}
	}
	switch {
	case enabled != nil && !*enabled:
		c.Result, c.Complete = Result{State: Disabled}, true
	case enabled != nil && hasFrom:
		c.Result, c.Complete = Result{State: Active}, true
		if from != nil {
			c.Result.SessionsValidFrom = from.UTC()
		}
	}
	return c, nil
}

// Change tracking: a SCIM service provider's meta.lastModified filter.

// scimFilter caches whether the service provider advertises filtering,
// once it has answered.
type scimFilter struct {
	mu               sync.Mutex
	known, supported bool
}

// filtering reports whether the service provider advertises filtering
// (filter.supported: true in its /ServiceProviderConfig document),
// asking until it has answered.
func (d *SCIM) filtering(ctx context.Context) (bool, error) {
	f := &d.filter
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.known {
		return f.supported, nil
	}
	status, body, err := d.scimGet(ctx, strings.TrimRight(d.BaseURL, "/")+"/ServiceProviderConfig")
	if err == nil && status != http.StatusOK {
		err = statusError("SCIM ServiceProviderConfig", status)
	}
	var doc struct {
		Filter struct {
			Supported bool `json:"supported"`
		} `json:"filter"`
	}
	if err == nil {
		err = json.Unmarshal(body, &doc)
	}
	if err != nil { // asked again next run
		return false, fmt.Errorf("directory: %w", err)
	}
	f.known, f.supported = true, doc.Filter.Supported
	return f.supported, nil
}

// Changes lists the users modified after cursor (a meta.lastModified the
// service provider gave), with `filter=meta.lastModified gt "…"`, when the
// service provider advertises filtering; otherwise it reports no changes
// and the per-user interval alone applies. Without a cursor, tracking
// starts a minute before now. Deleted users do not appear in a SCIM list:
// the interval catches them (404). The cursor kept is the latest
// meta.lastModified seen, in the service provider's own clock.
func (d *SCIM) Changes(ctx context.Context, cursor string) ([]Change, string, error) {
	ok, err := d.filtering(ctx)
	if err != nil || !ok {
		return nil, cursor, err
	}
	if cursor == "" {
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		return nil, now().Add(-time.Minute).UTC().Format(time.RFC3339), nil
	}
	since, err := time.Parse(time.RFC3339Nano, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("directory: SCIM change cursor %q: %w", cursor, err)
	}
	latest, next := since, cursor
	var out []Change
	q := url.Values{"filter": {`meta.lastModified gt "` + cursor + `"`}, "attributes": {"id,active,meta.lastModified"}, "count": {"100"}}
	for page, start := 0, 1; page < MaxDeltaPages; page++ {
		q.Set("startIndex", strconv.Itoa(start))
		status, body, err := d.scimGet(ctx, strings.TrimRight(d.BaseURL, "/")+"/Users?"+q.Encode())
		if err != nil {
			return nil, "", fmt.Errorf("directory: SCIM changes: %w", err)
		}
		if status != http.StatusOK {
			return nil, "", statusError("SCIM changes", status)
		}
		var list struct {
			TotalResults int `json:"totalResults"`
			Resources    []struct {
				ID     string `json:"id"`
				Active *bool  `json:"active"`
				Meta   struct {
					LastModified string `json:"lastModified"`
				} `json:"meta"`
			} `json:"Resources"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, "", fmt.Errorf("directory: SCIM changes page: %w", err)
		}
		for _, r := range list.Resources {
			c := Change{ID: r.ID}
			if r.Active != nil {
				c.Complete = true
				c.Result.State = map[bool]State{true: Active, false: Disabled}[*r.Active]
			}
			if r.ID == "" {
				return nil, "", errors.New("directory: SCIM changes: a resource without id")
			}
			out = append(out, c)
			if t, err := time.Parse(time.RFC3339Nano, r.Meta.LastModified); err == nil && t.After(latest) {
				latest, next = t, r.Meta.LastModified
			}
		}
		start += len(list.Resources)
		if len(list.Resources) == 0 || start > list.TotalResults {
			return out, next, nil
		}
	}
	return nil, "", fmt.Errorf("directory: SCIM changes: more than %d pages", MaxDeltaPages)
}
