package revoke

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionguard/sessionguard/shared/session"
)

// IdPSessionStore is what ending the sessions of one IdP session needs.
type IdPSessionStore interface {
	IdPSessionHashes(ctx context.Context, issuer, sid string) ([]session.Hash, error)
	Session(ctx context.Context, h session.Hash) (session.Session, error)
	Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error)
}

// MaxIdPSessionLinks bounds the sessions IdPSession handles for one IdP
// session: links outlive their sessions (a week, session.Retention), and
// one IdP session normally has a handful. Past it, IdPSession handles the
// first MaxIdPSessionLinks, stops, and reports ErrTooManyLinks; the rest
// are left as they are (for a session ended by its user, the revocation
// and sign-out points still refuse it).
const MaxIdPSessionLinks = 1000

// ErrTooManyLinks says an IdP session had more than MaxIdPSessionLinks
// sessions linked, and only the first were handled.
var ErrTooManyLinks = errors.New("revoke: more sessions linked to the IdP session than one request handles")

// IdPSession ends, at `at` for why, the sessions created from tokens of
// one IdP session (issuer and sid) that keep takes: all of them when keep
// is nil, else each is read first and kept or left as it is. Sessions gone
// meanwhile are passed over. It returns the sessions this call ended; on
// an error what it did stays done, and repeating it is harmless. The
// back-channel logout (every session of the sid) and the user's own "end
// this session" (the caller's other sessions of that sid in the
// environment) go this way. It handles at most MaxIdPSessionLinks.
func IdPSession(ctx context.Context, st IdPSessionStore, issuer, sid string, at time.Time, why session.Cause, keep func(session.Session) bool) ([]session.Session, error) {
	hs, err := st.IdPSessionHashes(ctx, issuer, sid)
	if err != nil {
		return nil, fmt.Errorf("revoke: find the sessions of an IdP session of %s: %w", issuer, err)
	}
	over := len(hs) > MaxIdPSessionLinks
	if over {
		hs = hs[:MaxIdPSessionLinks]
	}
	var ended []session.Session
	for _, h := range hs {
		if keep != nil {
			s, err := st.Session(ctx, h)
			if errors.Is(err, session.ErrNotFound) {
				continue
			}
			if err != nil {
				return ended, fmt.Errorf("revoke: read session %s: %w", h.Prefix(), err)
			}
			if !keep(s) {
				continue
			}
		}
		s, changed, err := st.Revoke(ctx, h, at, why)
		if errors.Is(err, session.ErrNotFound) {
			continue
		}
		if err != nil {
			return ended, fmt.Errorf("revoke: session %s: %w", h.Prefix(), err)
		}
		if changed {
			ended = append(ended, s)
		}
	}
	if over {
		return ended, fmt.Errorf("%w: the first %d of %s's IdP session handled", ErrTooManyLinks, MaxIdPSessionLinks, issuer)
	}
	return ended, nil
}
