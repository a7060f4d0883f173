// Package dynamostore is the DynamoDB store: sessions, users' check state,
// per-environment settings with their history, and audit reports, in one
// table (infra/dynamodb/README.md). It is the only package that imports
// the DynamoDB SDK.
//
// Every read filters out items past their expiry itself: DynamoDB's TTL
// deletes them late. The authorizer's lookup is one BatchGetItem (session,
// user, environment settings); sign-in and settings writes are
// transactions with optimistic versions.
package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store is safe for concurrent use.
type Store struct {
	db    API
	table string
	now   func() time.Time
	// Attempts bounds the optimistic retries of a sign-in that lost a race
	// for the user's item.
	attempts int
}

// New returns a store on table; now judges expiry (time.Now if nil).
func New(db API, table string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, table: table, now: now, attempts: 40}
}

// DefaultPageSize is the page size when a Page asks for none.
const DefaultPageSize = 50

func (st *Store) get(ctx context.Context, k item) (item, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// getMany reads keys (consistently) in batches of 100, retrying
// unprocessed keys a few times.
func (st *Store) getMany(ctx context.Context, keys []item) ([]item, error) {
	var out []item
	for len(keys) > 0 {
		n := min(len(keys), 100)
		batch := keys[:n]
		keys = keys[n:]
		for attempt := 0; len(batch) > 0; attempt++ {
			if attempt == 5 {
				return nil, errors.New("batch get: keys left unprocessed after 5 attempts")
			}
			if attempt > 0 {
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return nil, err
				}
			}
			res, err := st.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				st.table: {Keys: batch, ConsistentRead: aws.Bool(true)},
			}})
			if err != nil {
				return nil, err
			}
			out = append(out, res.Responses[st.table]...)
			batch = res.UnprocessedKeys[st.table].Keys
		}
	}
	return out, nil
}

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

// User returns the state of user in env.
func (st *Store) User(ctx context.Context, env string, user session.UserKey) (session.User, error) {
	it, err := st.get(ctx, userKey(env, user))
	if err != nil {
		return session.User{}, fmt.Errorf("dynamodb: get user %s in %s: %w", user.Subject, env, err)
	}
	u, err := decodeUser(it, env, user)
	if err != nil {
		return session.User{}, fmt.Errorf("dynamodb: %w", err)
	}
	return u, nil
}

// update is an UpdateItem under construction; every attribute name goes
// through ExpressionAttributeNames, so reserved words never bite.
type update struct {
	n           int
	set, remove []string
	cond        string
	names       map[string]string
	values      map[string]types.AttributeValue
}

func newUpdate() *update {
	return &update{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

func (u *update) name(n string) string {
	u.names["#"+n] = n
	return "#" + n
}

// value adds a value under a placeholder of its own.
func (u *update) value(_ string, v types.AttributeValue) string {
	u.n++
	p := ":v" + strconv.Itoa(u.n)
	u.values[p] = v
	return p
}

// Set adds "#name = :name".
func (u *update) Set(name string, v types.AttributeValue) *update {
	u.set = append(u.set, u.name(name)+" = "+u.value(name, v))
	return u
}

// SetIfAbsent adds "#name = if_not_exists(#name, :name)".
func (u *update) SetIfAbsent(name string, v types.AttributeValue) *update {
	u.set = append(u.set, fmt.Sprintf("%s = if_not_exists(%s, %s)", u.name(name), u.name(name), u.value(name, v)))
	return u
}

func (u *update) Remove(names ...string) *update {
	for _, n := range names {
		u.remove = append(u.remove, u.name(n))
	}
	return u
}

// When sets the condition; %N names an attribute, %V a value (given as
// name, value pairs in order of use).
func (u *update) When(cond string, args ...any) *update {
	var b strings.Builder
	ai := 0
	for i := 0; i < len(cond); i++ {
		if cond[i] == '%' && i+1 < len(cond) {
			switch cond[i+1] {
			case 'N':
				b.WriteString(u.name(args[ai].(string)))
				ai++
				i++
				continue
			case 'V':
				b.WriteString(u.value(args[ai].(string), args[ai+1].(types.AttributeValue)))
				ai += 2
				i++
				continue
			}
		}
		b.WriteByte(cond[i])
	}
	u.cond = b.String()
	return u
}

func (u *update) expression() string {
	var parts []string
	if len(u.set) > 0 {
		parts = append(parts, "SET "+strings.Join(u.set, ", "))
	}
	if len(u.remove) > 0 {
		parts = append(parts, "REMOVE "+strings.Join(u.remove, ", "))
	}
	return strings.Join(parts, " ")
}

func (u *update) input(table string, k item) *dynamodb.UpdateItemInput {
	in := &dynamodb.UpdateItemInput{TableName: &table, Key: k, UpdateExpression: aws.String(u.expression()), ExpressionAttributeNames: u.names}
	if len(u.values) > 0 {
		in.ExpressionAttributeValues = u.values
	}
	if u.cond != "" {
		in.ConditionExpression = &u.cond
	}
	return in
}

func (u *update) transact(table string, k item) types.TransactWriteItem {
	in := u.input(table, k)
	return types.TransactWriteItem{Update: &types.Update{TableName: in.TableName, Key: in.Key, UpdateExpression: in.UpdateExpression,
		ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.ExpressionAttributeValues}}
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// transactionConflict reports whether a transaction was cancelled by a
// failed condition or a concurrent transaction on the same items.
func transactionConflict(err error) bool {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		var tcf *types.TransactionConflictException
		return errors.As(err, &tcf)
	}
	for _, r := range tc.CancellationReasons {
		if c := aws.ToString(r.Code); c == "ConditionalCheckFailed" || c == "TransactionConflict" {
			return true
		}
	}
	return len(tc.CancellationReasons) == 0
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
	u.When("attribute_exists(%N) AND attribute_not_exists(%N) AND (attribute_not_exists(%N) OR %N > %V) AND "+
		"((attribute_not_exists(%N) AND %N <= %V) OR %N <= %V)",
		"pk", "rv", "exp", "exp", "now", nanos(st.now()),
		"la", "cr", "floor", floor, "la", "floor", floor)
	_, err := st.db.UpdateItem(ctx, u.input(st.table, sessionKey(s.Hash)))
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
// each sign-in reads it, prunes sessions that ended, applies the limit,
// and writes the new session, the user's item (if its version is still
// the one read) and any session it ends in one transaction; a sign-in
// that lost the race reads again.
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
	r := reader{it: uItem}
	version := r.n("ver")
	listed, _ := uItem["lv"].(*types.AttributeValueMemberM)
	var keys []item
	if listed != nil {
		for hex := range listed.Value {
			if h, err := session.ParseHash(hex); err == nil {
				keys = append(keys, sessionKey(h))
			}
		}
	}
	items, err := st.getMany(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: create session: read the user's sessions: %w", err)
	}
	now := st.now()
	var mine []session.Session
	for _, it := range items {
		o, err := decodeSession(it)
		if err != nil {
			return nil, fmt.Errorf("dynamodb: %w", err)
		}
		if !expired(it, now) && !o.Revoked() && live(o) {
			mine = append(mine, o)
		}
	}
	var ended []session.Session
	if limit.Max > 0 {
		if over := len(mine) - limit.Max + 1; over > 0 {
			if limit.OnLimit == policy.DenyNew {
				return nil, session.ErrLimitReached
			}
			slices.SortFunc(mine, func(a, b session.Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
			ended, mine = mine[:over], mine[over:]
		}
	}
	lv := map[string]types.AttributeValue{s.Hash.String(): nanos(s.CreatedAt)}
	for _, o := range mine {
		lv[o.Hash.String()] = nanos(o.CreatedAt)
	}
	cond := "attribute_not_exists(%N)"
	args := []any{"ver"}
	if version > 0 {
		cond, args = "%N = %V", []any{"ver", "expect", num(version)}
	}
	userUpdate := newUpdate().
		Set("env", str(s.Environment)).Set("iss", str(s.User.Issuer)).Set("sub", str(s.User.Subject)).
		Set("ver", num(version+1)).Set("lv", &types.AttributeValueMemberM{Value: lv}).
		SetIfAbsent("nxt", nanos(s.CreatedAt)).
		SetIfAbsent("gsi2pk", str("C#"+s.Environment)).
		SetIfAbsent("gsi2sk", str(dueSK(s.CreatedAt, s.User))).
		When(cond, args...)
	writes := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &st.table, Item: sessionItem(s), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		userUpdate.transact(st.table, uk),
	}
	for i, o := range ended {
		o.RevokedAt, o.RevokeReason = s.CreatedAt, "session_limit"
		ended[i] = o
		writes = append(writes, revokeUpdate(o).transact(st.table, sessionKey(o.Hash)))
	}
	if _, err := st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes}); err != nil {
		return nil, fmt.Errorf("dynamodb: create session for %s in %s: %w", s.User.Subject, s.Environment, err)
	}
	return ended, nil
}

// revokeUpdate marks o (already carrying its revocation) revoked, if it is
// not yet; it stays in its user's listing, filtered, until its TTL, so
// that audits can count revocations.
func revokeUpdate(o session.Session) *update {
	u := newUpdate().Set("rv", nanos(o.RevokedAt)).Set("why", str(o.RevokeReason))
	exp := map[string]types.AttributeValue{}
	expiry(exp, o.ExpiresAt())
	for k, v := range exp {
		u.Set(k, v)
	}
	return u.When("attribute_exists(%N) AND attribute_not_exists(%N)", "pk", "rv")
}

// Revoke revokes the session with hash h at `at`. Revoking a revoked
// session changes nothing (the first revocation's time and reason stay);
// it reports whether this call revoked it.
func (st *Store) Revoke(ctx context.Context, h session.Hash, at time.Time, why string) (session.Session, bool, error) {
	s, err := st.Session(ctx, h)
	if err != nil {
		return session.Session{}, false, err
	}
	if s.Revoked() {
		return s, false, nil
	}
	s.RevokedAt, s.RevokeReason = at, why
	_, err = st.db.UpdateItem(ctx, revokeUpdate(s).input(st.table, sessionKey(h)))
	if conditionFailed(err) { // revoked meanwhile: report that revocation
		cur, err := st.Session(ctx, h)
		return cur, false, err
	}
	if err != nil {
		return session.Session{}, false, fmt.Errorf("dynamodb: revoke session %s: %w", h.Prefix(), err)
	}
	return s, true, nil
}

// RevokeUser revokes every session of user in env at `at`, and marks the
// user so that any session created before `at` is refused even if the
// (eventually consistent) listing missed it. It returns the sessions this
// call revoked.
func (st *Store) RevokeUser(ctx context.Context, env string, user session.UserKey, at time.Time, why string) ([]session.Session, error) {
	u := newUpdate().Set("env", str(env)).Set("iss", str(user.Issuer)).Set("sub", str(user.Subject)).Set("vf", nanos(at)).
		When("attribute_not_exists(%N) OR %N < %V", "vf", "vf", "vf", nanos(at))
	if _, err := st.db.UpdateItem(ctx, u.input(st.table, userKey(env, user))); err != nil && !conditionFailed(err) {
		return nil, fmt.Errorf("dynamodb: revoke sessions of %s in %s: %w", user.Subject, env, err)
	}
	var out []session.Session
	cursor := ""
	for {
		list, next, err := st.UserSessions(ctx, env, user, session.Page{Limit: 100, Cursor: cursor})
		if err != nil {
			return out, err
		}
		for _, s := range list {
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

// RecordSignOut notes that user signed out of env at `at`.
func (st *Store) RecordSignOut(ctx context.Context, env string, user session.UserKey, at time.Time) error {
	u := newUpdate().Set("env", str(env)).Set("iss", str(user.Issuer)).Set("sub", str(user.Subject)).Set("out", nanos(at)).
		When("attribute_not_exists(%N) OR %N < %V", "out", "out", "out", nanos(at))
	if _, err := st.db.UpdateItem(ctx, u.input(st.table, userKey(env, user))); err != nil && !conditionFailed(err) {
		return fmt.Errorf("dynamodb: record sign-out of %s in %s: %w", user.Subject, env, err)
	}
	return nil
}

// PutUser stores a user's policy-check state: Disabled, LastCheckAt,
// SessionsValidFrom and NextCheckAt (SignedOutAt and the session list are
// kept). A zero NextCheckAt takes the user off the check schedule.
func (st *Store) PutUser(ctx context.Context, usr session.User) error {
	u := newUpdate().Set("env", str(usr.Environment)).Set("iss", str(usr.Key.Issuer)).Set("sub", str(usr.Key.Subject)).
		Set("dis", boolean(usr.Disabled)).Set("cf", num(int64(usr.CheckFailures)))
	for _, t := range []struct {
		name string
		v    time.Time
	}{{"chk", usr.LastCheckAt}, {"vf", usr.SessionsValidFrom}, {"nxt", usr.NextCheckAt}} {
		if t.v.IsZero() {
			u.Remove(t.name)
		} else {
			u.Set(t.name, nanos(t.v))
		}
	}
	if usr.NextCheckAt.IsZero() {
		u.Remove("gsi2pk", "gsi2sk")
	} else {
		u.Set("gsi2pk", str("C#"+usr.Environment)).Set("gsi2sk", str(dueSK(usr.NextCheckAt, usr.Key)))
	}
	if _, err := st.db.UpdateItem(ctx, u.input(st.table, userKey(usr.Environment, usr.Key))); err != nil {
		return fmt.Errorf("dynamodb: put user %s in %s: %w", usr.Key.Subject, usr.Environment, err)
	}
	return nil
}

// query runs one page of a query; the cursor is DynamoDB's
// LastEvaluatedKey, encoded.
func (st *Store) query(ctx context.Context, in *dynamodb.QueryInput, p session.Page) ([]item, string, error) {
	in.TableName = &st.table
	size := p.Limit
	if size <= 0 {
		size = DefaultPageSize
	}
	in.Limit = aws.Int32(int32(min(size, 1000)))
	if p.Cursor != "" {
		start, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	out, err := st.db.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	return out.Items, encodeCursor(out.LastEvaluatedKey), nil
}

var cursorAttrs = []string{"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"}

func encodeCursor(k item) string {
	if len(k) == 0 {
		return ""
	}
	m := map[string]string{}
	for n, v := range k {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			m[n] = s.Value
		}
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (item, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) > 4096 {
		return nil, session.ErrBadCursor
	}
	var m map[string]string
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil, session.ErrBadCursor
	}
	k := item{}
	for n, v := range m {
		if !slices.Contains(cursorAttrs, n) {
			return nil, session.ErrBadCursor
		}
		k[n] = str(v)
	}
	return k, nil
}

// UserSessions lists the live (not revoked, not expired) sessions of user
// in env — with p.Revoked, revoked ones too — oldest first, from the
// user-sessions index. A page may hold
// fewer than Limit sessions when some expired; follow the cursor.
func (st *Store) UserSessions(ctx context.Context, env string, user session.UserKey, p session.Page) ([]session.Session, string, error) {
	items, next, err := st.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(gsiUserSessions),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": "gsi1pk"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userSessionsPK(env, user))},
	}, p)
	if err != nil {
		if errors.Is(err, session.ErrBadCursor) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("dynamodb: list sessions of %s in %s: %w", user.Subject, env, err)
	}
	now := st.now()
	var out []session.Session
	for _, it := range items {
		s, err := decodeSession(it)
		if err != nil {
			return nil, "", fmt.Errorf("dynamodb: %w", err)
		}
		if !expired(it, now) && (p.Revoked || !s.Revoked()) {
			out = append(out, s)
		}
	}
	return out, next, nil
}

// DueUsers lists the users of env due for a policy check at `at`, most
// overdue first, from the due-checks index.
func (st *Store) DueUsers(ctx context.Context, env string, at time.Time, p session.Page) ([]session.User, string, error) {
	items, next, err := st.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(gsiDueChecks),
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk < :sk"),
		ExpressionAttributeNames:  map[string]string{"#pk": "gsi2pk", "#sk": "gsi2sk"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("C#" + env), ":sk": str(sortTime(at.Add(time.Nanosecond)))},
	}, p)
	if err != nil {
		if errors.Is(err, session.ErrBadCursor) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("dynamodb: list users due in %s: %w", env, err)
	}
	return usersOf(env, items, next)
}

// Users lists the users of env that are on the policy-check schedule
// (every user who signed in), by next check, from the due-checks index.
func (st *Store) Users(ctx context.Context, env string, p session.Page) ([]session.User, string, error) {
	items, next, err := st.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(gsiDueChecks),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": "gsi2pk"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("C#" + env)},
	}, p)
	if err != nil {
		if errors.Is(err, session.ErrBadCursor) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("dynamodb: list users of %s: %w", env, err)
	}
	return usersOf(env, items, next)
}

func usersOf(env string, items []item, next string) ([]session.User, string, error) {
	out := make([]session.User, 0, len(items))
	for _, it := range items {
		r := reader{it: it}
		u, err := decodeUser(it, env, session.UserKey{Issuer: r.s("iss"), Subject: r.s("sub")})
		if err != nil {
			return nil, "", fmt.Errorf("dynamodb: %w", err)
		}
		out = append(out, u)
	}
	return out, next, nil
}

// Settings returns env's current settings and version; an environment with
// no custom settings gets the defaults at version 0.
func (st *Store) Settings(ctx context.Context, env string) (policy.Settings, int, error) {
	it, err := st.get(ctx, settingsKey(env))
	if err != nil {
		return policy.Settings{}, 0, fmt.Errorf("dynamodb: get settings of %s: %w", env, err)
	}
	if it == nil {
		return policy.Defaults(), 0, nil
	}
	r := reader{it: it}
	s, v := r.settings("doc"), int(r.n("ver"))
	if r.err != nil {
		return policy.Settings{}, 0, fmt.Errorf("dynamodb: settings of %s: %w", env, r.err)
	}
	return s, v, nil
}

// PutSettings writes c.New as version c.Version of c.Environment's
// settings and its history record in one transaction, if the current
// version is still c.Version-1; else session.ErrVersionConflict.
func (st *Store) PutSettings(ctx context.Context, c session.SettingsChange) error {
	if c.Version < 1 {
		return session.ErrVersionConflict
	}
	doc := str(settingsJSON(c.New))
	u := newUpdate().Set("ver", num(int64(c.Version))).Set("doc", doc).Set("at", nanos(c.At)).Set("by", str(c.Actor))
	if c.ApplyToRunning {
		u.Set("ovv", num(int64(c.Version))).Set("ovs", doc)
	}
	if c.Version == 1 {
		u.When("attribute_not_exists(%N)", "ver")
	} else {
		u.When("%N = %V", "ver", "prev", num(int64(c.Version-1)))
	}
	hist := key(envPK(c.Environment), historySK(c.Version))
	hist["env"] = str(c.Environment)
	hist["ver"] = num(int64(c.Version))
	hist["at"] = nanos(c.At)
	hist["by"] = str(c.Actor)
	hist["old"] = str(settingsJSON(c.Old))
	hist["new"] = doc
	hist["apply"] = boolean(c.ApplyToRunning)
	if c.Preset != "" {
		hist["preset"] = str(c.Preset)
	}
	_, err := st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		u.transact(st.table, settingsKey(c.Environment)),
		{Put: &types.Put{TableName: &st.table, Item: hist, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	if err != nil && transactionConflict(err) {
		return session.ErrVersionConflict
	}
	if err != nil {
		return fmt.Errorf("dynamodb: put settings of %s version %d: %w", c.Environment, c.Version, err)
	}
	return nil
}

// History lists env's settings changes, newest first.
func (st *Store) History(ctx context.Context, env string, p session.Page) ([]session.SettingsChange, string, error) {
	items, next, err := st.query(ctx, prefixQuery(env, "H#"), p)
	if err != nil {
		if errors.Is(err, session.ErrBadCursor) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("dynamodb: settings history of %s: %w", env, err)
	}
	out := make([]session.SettingsChange, 0, len(items))
	for _, it := range items {
		c, err := decodeChange(it)
		if err != nil {
			return nil, "", fmt.Errorf("dynamodb: history of %s: %w", env, err)
		}
		out = append(out, c)
	}
	return out, next, nil
}

func prefixQuery(env, prefix string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames:  map[string]string{"#pk": "pk", "#sk": "sk"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(envPK(env)), ":prefix": str(prefix)},
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
	}
}

// PutReport stores an audit report. Reports do not expire.
func (st *Store) PutReport(ctx context.Context, r session.Report) error {
	if !json.Valid(r.Body) {
		return fmt.Errorf("dynamodb: report of %s at %s is not JSON", r.Environment, r.At.Format(time.RFC3339))
	}
	it := key(envPK(r.Environment), "A#"+sortTime(r.At))
	it["at"] = nanos(r.At)
	it["body"] = str(string(r.Body))
	if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.table, Item: it}); err != nil {
		return fmt.Errorf("dynamodb: put report of %s: %w", r.Environment, err)
	}
	return nil
}

// Reports lists env's audit reports, newest first.
func (st *Store) Reports(ctx context.Context, env string, p session.Page) ([]session.Report, string, error) {
	items, next, err := st.query(ctx, prefixQuery(env, "A#"), p)
	if err != nil {
		if errors.Is(err, session.ErrBadCursor) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("dynamodb: reports of %s: %w", env, err)
	}
	out := make([]session.Report, 0, len(items))
	for _, it := range items {
		r := reader{it: it}
		out = append(out, session.Report{Environment: env, At: r.t("at"), Body: []byte(r.s("body"))})
		if r.err != nil {
			return nil, "", fmt.Errorf("dynamodb: report of %s: %w", env, r.err)
		}
	}
	return out, next, nil
}

// RecordJTI records that issuer's token jti was received, keeping the
// record until keepUntil (then TTL); it reports whether this is the first
// receipt (false: a replay). One conditional PutItem.
func (st *Store) RecordJTI(ctx context.Context, issuer, jti string, keepUntil time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(issuer + "\x00" + jti))
	it := key("J#"+hex.EncodeToString(sum[:]), "J")
	expiry(it, keepUntil)
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.table, Item: it,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #exp <= :now"),
		ExpressionAttributeNames:  map[string]string{"#pk": "pk", "#exp": "exp"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": nanos(st.now())}})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamodb: record jti of %s: %w", issuer, err)
	}
	return true, nil
}

// backoff is a jittered exponential wait for the n-th retry, capped at
// 100 ms.
func backoff(n int) time.Duration {
	d := min(time.Duration(1<<min(n, 7))*time.Millisecond, 100*time.Millisecond)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
