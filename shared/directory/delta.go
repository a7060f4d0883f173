// Change tracking: Microsoft Graph's users/delta.

package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
