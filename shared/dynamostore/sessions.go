// Sessions: the authorizer's lookup, activity, sign-in under the limit,
// revocation, listings; and received token ids.

package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/shared/session"
)

// Lookup returns the session with hash h, judged under any settings change
// applied to running sessions, and the state of user in env: one
// BatchGetItem.
func (st *Store) Lookup(ctx context.Context, h session.Hash, env string, user session.UserKey) (session.Session, session.User, error) {
	sk, uk, ek := sessionKey(h), userKey(env, user), settingsKey(env)
	items, err := st.getMany(ctx, []item{sk, uk, ek})
	if err != nil {
		return session.Session{}, session.User{}, fmt.Errorf("dynamodb: look up session %s: %w", h.Prefix(), err)
	}
	var sItem, uItem, eItem item
	for _, it := range items {
		switch pk := (&reader{it: it}).s("pk"); {
		case strings.HasPrefix(pk, "S#"):
			sItem = it
		case strings.HasPrefix(pk, "U#"):
			uItem = it
		case strings.HasPrefix(pk, "E#"):
			eItem = it
		}
	}
	if sItem == nil || expired(sItem, st.now()) {
		return session.Session{}, session.User{}, session.ErrNotFound
	}
	s, err := decodeSession(sItem)
	if err != nil {
		return session.Session{}, session.User{}, fmt.Errorf("dynamodb: %w", err)
	}
	u, err := decodeUser(uItem, env, user)
	if err != nil {
		return session.Session{}, session.User{}, fmt.Errorf("dynamodb: %w", err)
	}
	o, err := decodeOverride(eItem)
	if err != nil {
		return session.Session{}, session.User{}, fmt.Errorf("dynamodb: settings of %s: %w", env, err)
	}
	return s.Under(o), u, nil
}

// Session returns the session with hash h as stored.
func (st *Store) Session(ctx context.Context, h session.Hash) (session.Session, error) {
	it, err := st.get(ctx, sessionKey(h))
	if err != nil {
		return session.Session{}, fmt.Errorf("dynamodb: get session %s: %w", h.Prefix(), err)
	}
	if it == nil || expired(it, st.now()) {
		return session.Session{}, session.ErrNotFound
	}
	s, err := decodeSession(it)
	if err != nil {
		return session.Session{}, fmt.Errorf("dynamodb: %w", err)
	}
	return s, nil
}

// Touch records s's activity at `at` unless its last recorded activity is
// less than minInterval before it, or it is revoked or gone; it reports
// whether it wrote. The item's expiry moves with the activity.
func (st *Store) Touch(ctx context.Context, s session.Session, at time.Time, minInterval time.Duration) (bool, error) {
	moved := s
	moved.LastActivityAt = at
	u := newUpdate().Set("la", nanos(at))
	exp := map[string]types.AttributeValue{}
	expiry(exp, moved.ExpiresAt())
	for k, v := range exp {
		u.Set(k, v)
	}
	floor := nanos(at.Add(-minInterval))
	u.When(expression.And(
		name("pk").AttributeExists(),
		name("rv").AttributeNotExists(),
		name("exp").AttributeNotExists().Or(name("exp").GreaterThan(val(nanos(st.now())))),
		name("la").AttributeNotExists().And(name("cr").LessThanEqual(val(floor))).Or(name("la").LessThanEqual(val(floor))),
	))
	err := st.updateItem(ctx, u, sessionKey(s.Hash))
	if err == nil {
		return true, nil
	}
	if !conditionFailed(err) {
		return false, fmt.Errorf("dynamodb: record activity of session %s: %w", s.Hash.Prefix(), err)
	}
	// Rate-limited, revoked, or gone: tell "gone" apart.
	if _, err := st.Session(ctx, s.Hash); err != nil {
		return false, err
	}
	return false, nil
}

// Create stores s, enforcing limit atomically over the user's live
// sessions in s's environment (see memstore.Store.Create). The user's
// item lists the hashes of the user's sessions and carries a version:
// each sign-in reads it, prunes sessions that ended (judged, as Lookup
// returns them, under any settings change applied to running sessions:
// the settings item is read in the same batch), applies the limit, and
// writes the new session, the user's item (if its version is still the
// one read) and any session it ends in one transaction; a sign-in that
// lost the race reads again.
func (st *Store) Create(ctx context.Context, s session.Session, limit session.Limit, live func(session.Session) bool) ([]session.Session, error) {
	for attempt := 0; attempt < st.attempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
		}
		ended, err := st.tryCreate(ctx, s, limit, live)
		if err == nil || !transactionConflict(err) {
			return ended, err
		}
	}
	return nil, fmt.Errorf("dynamodb: create session for %s in %s: still contended after %d attempts", s.User.Subject, s.Environment, st.attempts)
}

func (st *Store) tryCreate(ctx context.Context, s session.Session, limit session.Limit, live func(session.Session) bool) ([]session.Session, error) {
	uk := userKey(s.Environment, s.User)
	uItem, err := st.get(ctx, uk)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: create session: read user: %w", err)
	}
	r := readItem(uItem)
	version := r.n("ver")
	if r.err != nil {
		return nil, fmt.Errorf("dynamodb: create session: user item of %s in %s: %w", s.User.Subject, s.Environment, r.err)
	}
	listed, _ := uItem["lv"].(*types.AttributeValueMemberM)
	var keys []item
	if listed != nil {
		for hex := range listed.Value {
			if h, err := session.ParseHash(hex); err == nil {
				keys = append(keys, sessionKey(h))
			}
		}
	}
	if len(keys) > 0 {
		keys = append(keys, settingsKey(s.Environment))
	}
	items, err := st.getMany(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: create session: read the user's sessions: %w", err)
	}
	var stored []item
	var ov session.Override
	for _, it := range items {
		if (&reader{it: it}).s("pk") == envPK(s.Environment) {
			if ov, err = decodeOverride(it); err != nil {
				return nil, fmt.Errorf("dynamodb: create session: settings of %s: %w", s.Environment, err)
			}
			continue
		}
		stored = append(stored, it)
	}
	now := st.now()
	var mine []session.Session
	for _, it := range stored {
		o, err := decodeSession(it)
		if err != nil {
			return nil, fmt.Errorf("dynamodb: %w", err)
		}
		if !expired(it, now) && !o.Revoked() && live(o.Under(ov)) {
			mine = append(mine, o)
		}
	}
	ended, mine, err := limit.Apply(mine, s.CreatedAt)
	if err != nil {
		return nil, err
	}
	lv := map[string]types.AttributeValue{s.Hash.String(): nanos(s.CreatedAt)}
	for _, o := range mine {
		lv[o.Hash.String()] = nanos(o.CreatedAt)
	}
	userUpdate := newUpdate().
		Set("env", str(s.Environment)).Set("iss", str(s.User.Issuer)).Set("sub", str(s.User.Subject)).
		Set("ver", num(version+1)).Set("lv", &types.AttributeValueMemberM{Value: lv}).
		SetIfAbsent("nxt", nanos(s.CreatedAt)).
		SetIfAbsent("gsi2pk", str("C#"+s.Environment)).
		SetIfAbsent("gsi2sk", str(dueSK(s.CreatedAt, s.User))).
		Set(listedAttr, boolean(true)).
		When(versionIs("ver", version))
	userWrite, err := userUpdate.transact(st.table, uk)
	if err != nil {
		return nil, err
	}
	sessionWrite, err := putWrite(st.table, sessionItem(s), name("pk").AttributeNotExists())
	if err != nil {
		return nil, err
	}
	writes := []types.TransactWriteItem{sessionWrite, userWrite}
	if !listedIn(uItem) { // the user's first sign-in (since the listing exists)
		w, err := st.listingWrite(s.Environment, s.User, s.CreatedAt)
		if err != nil {
			return nil, err
		}
		writes = append(writes, w)
	}
	if s.IdPSession != "" {
		w, err := putWrite(st.table, idpSessionItem(s), expression.ConditionBuilder{})
		if err != nil {
			return nil, err
		}
		writes = append(writes, w)
	}
	for _, o := range ended {
		w, err := revokeUpdate(o).transact(st.table, sessionKey(o.Hash))
		if err != nil {
			return nil, err
		}
		writes = append(writes, w)
	}
	if err := st.transactWrite(ctx, writes); err != nil {
		return nil, fmt.Errorf("dynamodb: create session for %s in %s: %w", s.User.Subject, s.Environment, err)
	}
	return ended, nil
}

// revokeUpdate marks o (already carrying its revocation) revoked, if it is
// not yet; it stays in its user's listing, filtered, until its TTL, so
// that audits can count revocations.
func revokeUpdate(o session.Session) *update {
	u := newUpdate().Set("rv", nanos(o.RevokedAt)).Set("why", str(string(o.RevokeReason)))
	exp := map[string]types.AttributeValue{}
	expiry(exp, o.ExpiresAt())
	for k, v := range exp {
		u.Set(k, v)
	}
	return u.When(name("pk").AttributeExists().And(name("rv").AttributeNotExists()))
}

// Revoke revokes the session with hash h at `at`. Revoking a revoked
// session changes nothing (the first revocation's time and reason stay);
// it reports whether this call revoked it.
func (st *Store) Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error) {
	s, err := st.Session(ctx, h)
	if err != nil {
		return session.Session{}, false, err
	}
	if s.Revoked() {
		return s, false, nil
	}
	s.RevokedAt, s.RevokeReason = at, why
	err = st.updateItem(ctx, revokeUpdate(s), sessionKey(h))
	if conditionFailed(err) { // revoked meanwhile: report that revocation
		cur, err := st.Session(ctx, h)
		return cur, false, err
	}
	if err != nil {
		return session.Session{}, false, fmt.Errorf("dynamodb: revoke session %s: %w", h.Prefix(), err)
	}
	return s, true, nil
}

// RevokeUser moves user's SessionsValidFrom (vf) in env forward to from,
// never back (a conditional update), so that any session created before
// it is refused even if the (eventually consistent) listing missed it;
// then it revokes at `at` the live sessions created at or before from
// (see memstore.Store.RevokeUser: not those ended by their own limits,
// which the listing leaves out). It returns the sessions this call
// revoked.
func (st *Store) RevokeUser(ctx context.Context, env string, user session.UserKey, from, at time.Time, why session.Cause) ([]session.Session, error) {
	u := newUpdate().Set("env", str(env)).Set("iss", str(user.Issuer)).Set("sub", str(user.Subject)).Set("vf", nanos(from)).
		When(absentOrBefore("vf", nanos(from)))
	if err := st.updateItem(ctx, u, userKey(env, user)); err != nil && !conditionFailed(err) {
		return nil, fmt.Errorf("dynamodb: revoke sessions of %s in %s: %w", user.Subject, env, err)
	}
	o, err := st.Override(ctx, env)
	if err != nil {
		return nil, err
	}
	var out []session.Session
	cursor := ""
	for {
		list, next, err := st.UserSessions(ctx, env, user, session.Page{Limit: 100, Cursor: cursor, Unended: &o})
		if err != nil {
			return out, err
		}
		for _, s := range list {
			if s.CreatedAt.After(from) {
				continue
			}
			r, changed, err := st.Revoke(ctx, s.Hash, at, why)
			if err != nil && !errors.Is(err, session.ErrNotFound) {
				return out, err
			}
			if changed {
				out = append(out, r)
			}
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// A page of UserSessions is filled past the sessions it does not list
// (revoked, expired, ended by their limits with Page.Unended: a filter on
// the query, so DynamoDB reads them but does not return them) with at most userSessionsQueries Queries: the
// first reads as many index items as the page wants, each further one
// userSessionsChunk (DynamoDB also stops a Query at 1 MB). One call thus
// reads past at least 3,000 sessions it does not list before it answers
// a short page with a cursor; the revoked sessions a user can pile up in
// the week they stay stored (session.Retention) do not starve a listing
// of the live ones after them (TestOwnSessionsOnDynamoDB, with 1,050
// revoked and 1,001 ended idle before the live ones; the store contract's
// "a page of a user's sessions is filled past revoked and expired ones").
const (
	userSessionsQueries = 4
	userSessionsChunk   = 1000
)

// UserSessions lists the sessions of user in env that are not revoked
// (with p.Revoked, revoked ones too) and not expired, created after
// p.After when it is set, without those ended by their own limits with
// p.Unended, oldest first, from the user-sessions index.
// A page holds p.Limit of them when that many remain, unless more than
// the read budget above lie between them (then it is short: follow the
// cursor).
func (st *Store) UserSessions(ctx context.Context, env string, user session.UserKey, p session.Page) ([]session.Session, string, error) {
	size := p.Limit
	if size <= 0 {
		size = DefaultPageSize
	}
	kc := expression.Key("gsi1pk").Equal(expression.Value(userSessionsPK(env, user)))
	if !p.After.IsZero() {
		kc = kc.And(expression.Key("gsi1sk").GreaterThanEqual(expression.Value(sortTime(p.After.Add(time.Nanosecond)))))
	}
	now := st.now()
	listed := name("exp").AttributeNotExists().Or(name("exp").GreaterThan(val(nanos(now))))
	if !p.Revoked {
		listed = listed.And(name("rv").AttributeNotExists())
	}
	if o := p.Unended; o != nil {
		// exp is EndsAt plus the retention, as the stored settings judge
		// it (sessionItem, Touch, revokeUpdate): not yet ended is exp
		// past now plus the retention.
		listed = listed.And(name("exp").AttributeNotExists().
			Or(name("exp").GreaterThan(val(nanos(now.Add(session.Retention))))).
			Or(name("sv").LessThan(val(num(int64(o.Version))))))
	}
	q := expression.NewBuilder().WithKeyCondition(kc).WithFilter(listed)
	var out []session.Session
	cursor := p.Cursor
	for n := 0; n < userSessionsQueries; n++ {
		read := size - len(out)
		if n > 0 {
			read = max(read, userSessionsChunk)
		}
		items, next, err := st.queryInput(ctx, gsiUserSessions, q, session.Page{Limit: read, Cursor: cursor}, nil)
		if err != nil {
			if errors.Is(err, session.ErrBadCursor) {
				return nil, "", err
			}
			return nil, "", fmt.Errorf("dynamodb: list sessions of %s in %s: %w", user.Subject, env, err)
		}
		for i, it := range items {
			s, err := decodeSession(it)
			if err != nil {
				return nil, "", fmt.Errorf("dynamodb: %w", err)
			}
			if expired(it, now) || (!p.Revoked && s.Revoked()) {
				continue
			}
			out = append(out, s)
			if len(out) == size {
				if i < len(items)-1 { // the page ends inside what this Query read
					next = encodeCursor(item{"pk": it["pk"], "sk": it["sk"], "gsi1pk": it["gsi1pk"], "gsi1sk": it["gsi1sk"]})
				}
				return out, next, nil
			}
		}
		if next == "" {
			return out, "", nil
		}
		cursor = next
	}
	return out, cursor, nil
}

// RecordJTI records that issuer's token jti was received, keeping the
// record until keepUntil (then TTL); it reports whether this is the first
// receipt (false: a replay). One conditional PutItem.
func (st *Store) RecordJTI(ctx context.Context, issuer, jti string, keepUntil time.Time) (bool, error) {
	it := jtiItem(issuer, jti)
	expiry(it, keepUntil)
	err := st.putItem(ctx, it, name("pk").AttributeNotExists().Or(name("exp").LessThanEqual(val(nanos(st.now())))))
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamodb: record jti of %s: %w", issuer, err)
	}
	return true, nil
}

// ForgetJTI forgets a jti RecordJTI recorded, for a token whose effects
// could not be applied: its retransmission is then received afresh, not
// refused as a replay. The record is overwritten as already expired (one
// PutItem, as RecordJTI), which RecordJTI treats as absent.
func (st *Store) ForgetJTI(ctx context.Context, issuer, jti string) error {
	it := jtiItem(issuer, jti)
	expiry(it, st.now())
	if err := st.putItem(ctx, it, expression.ConditionBuilder{}); err != nil {
		return fmt.Errorf("dynamodb: forget jti of %s: %w", issuer, err)
	}
	return nil
}

// jtiItem is the key of issuer's jti record.
func jtiItem(issuer, jti string) item {
	sum := sha256.Sum256([]byte(issuer + "\x00" + jti))
	return key("J#"+hex.EncodeToString(sum[:]), "J")
}

// IdPSessionHashes lists the sessions created from tokens of one IdP
// session (issuer and "sid"), from their link items (one Query).
func (st *Store) IdPSessionHashes(ctx context.Context, issuer, sid string) ([]session.Hash, error) {
	var out []session.Hash
	cursor := ""
	for {
		items, next, err := st.query(ctx, "", expression.Key("pk").Equal(expression.Value(idpSessionPK(issuer, sid))), session.Page{Limit: 100, Cursor: cursor})
		if err != nil {
			return nil, fmt.Errorf("dynamodb: sessions of an IdP session of %s: %w", issuer, err)
		}
		for _, it := range items {
			r := readItem(it)
			sk := r.s("sk")
			if r.err != nil {
				return nil, fmt.Errorf("dynamodb: sessions of an IdP session of %s: %w", issuer, r.err)
			}
			if h, err := session.ParseHash(sk); err == nil {
				out = append(out, h)
			}
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// maxIdPSessionLinks bounds what SessionOfIdPSessionBy reads of one IdP
// session's links: far more sessions than one IdP session starts.
const maxIdPSessionLinks = 1000

// SessionOfIdPSessionBy reports whether user had a session in env from a
// token of the IdP session sid (at user's issuer) created at or before by,
// ended or not, while its record is kept. It reads the IdP session's
// links (one Query); a link written before they carried the session's
// environment, subject and creation costs a read of its session. Past
// maxIdPSessionLinks links it answers true (failing closed: sign-in then
// asks for a new authentication).
func (st *Store) SessionOfIdPSessionBy(ctx context.Context, env string, user session.UserKey, sid string, by time.Time) (bool, error) {
	cursor, read, now := "", 0, st.now()
	for {
		items, next, err := st.query(ctx, "", expression.Key("pk").Equal(expression.Value(idpSessionPK(user.Issuer, sid))), session.Page{Limit: 100, Cursor: cursor})
		if err != nil {
			return false, fmt.Errorf("dynamodb: sessions of an IdP session of %s: %w", user.Issuer, err)
		}
		for _, it := range items {
			r := readItem(it)
			h, err := session.ParseHash(r.s("sk"))
			if err != nil || expired(it, now) { // the ended-IdP-session record, or a forgotten link
				continue
			}
			if read++; read > maxIdPSessionLinks {
				return true, nil
			}
			e, sub, cr := r.s("env"), r.s("sub"), r.t("cr")
			if r.err != nil {
				return false, fmt.Errorf("dynamodb: link of session %s: %w", h.Prefix(), r.err)
			}
			if cr.IsZero() { // written before links carried these
				s, err := st.Session(ctx, h)
				if errors.Is(err, session.ErrNotFound) {
					continue
				}
				if err != nil {
					return false, err
				}
				e, sub, cr = s.Environment, s.User.Subject, s.CreatedAt
			}
			if e == env && sub == user.Subject && !cr.After(by) {
				return true, nil
			}
		}
		if next == "" {
			return false, nil
		}
		cursor = next
	}
}
