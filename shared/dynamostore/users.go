// Users: a user's state in an environment and the policy-check schedule.

package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/shared/session"
)

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

// RecordSignOut notes that user signed out of env at `at`.
func (st *Store) RecordSignOut(ctx context.Context, env string, user session.UserKey, at time.Time) error {
	u := newUpdate().Set("env", str(env)).Set("iss", str(user.Issuer)).Set("sub", str(user.Subject)).Set("out", nanos(at)).
		When(absentOrBefore("out", nanos(at)))
	if err := st.updateItem(ctx, u, userKey(env, user)); err != nil && !conditionFailed(err) {
		return fmt.Errorf("dynamodb: record sign-out of %s in %s: %w", user.Subject, env, err)
	}
	return nil
}

// DisableUser marks user disabled in env as of at: dis is set and da
// (when the disable was recorded) moves forward only. When a later disable
// is already recorded, its time stays, and dis is set all the same (a
// check may have cleared that later one).
func (st *Store) DisableUser(ctx context.Context, env string, user session.UserKey, at time.Time) error {
	u := newUpdate().Set("env", str(env)).Set("iss", str(user.Issuer)).Set("sub", str(user.Subject)).
		Set("dis", boolean(true)).Set("da", nanos(at)).
		When(absentOrBefore("da", nanos(at)))
	err := st.updateItem(ctx, u, userKey(env, user))
	if conditionFailed(err) {
		err = st.updateItem(ctx, newUpdate().Set("dis", boolean(true)), userKey(env, user))
	}
	if err != nil {
		return fmt.Errorf("dynamodb: disable %s in %s: %w", user.Subject, env, err)
	}
	return nil
}

// RecordCheck records a policy check of user in env, field by field: the
// schedule (nxt and the due-checks index), the failure count, the last
// good check; then, when the check may enable the user (c.Enable), a
// second update clears dis only if the disable was recorded before the
// check started (da < StartedAt), so a check that raced a disable cannot
// undo it. SessionsValidFrom (vf) and the last sign-out are never written
// here. Last, a user not yet in the user listing (usersearch.go) is put
// there: the listing only serves the console's search, so its failure
// skips nothing that judges access; it is returned after the writes that
// matter are done, and the next check lists the user again.
func (st *Store) RecordCheck(ctx context.Context, env string, user session.UserKey, c session.Check) error {
	k := userKey(env, user)
	// The whole item comes back (ALL_NEW) for its ls: no capacity units are
	// spent on a reply, and UPDATED_NEW cannot answer "is ls set" the same
	// way everywhere (DynamoDB returns every attribute the update names,
	// moto, the test server, only those whose value changed).
	u := newUpdate().Set("env", str(env)).Set("iss", str(user.Issuer)).Set("sub", str(user.Subject)).
		Set("nxt", nanos(c.NextCheckAt)).Set("gsi2pk", str("C#"+env)).Set("gsi2sk", str(dueSK(c.NextCheckAt, user)))
	switch {
	case !c.Answered:
		u.Add("cf", num(1))
	default:
		u.Set("cf", num(0))
		if !c.CheckedAt.IsZero() {
			u.Set("chk", nanos(c.CheckedAt))
		}
	}
	attrs, err := st.updateItemNew(ctx, u, k)
	if err != nil {
		return fmt.Errorf("dynamodb: record the check of %s in %s: %w", user.Subject, env, err)
	}
	if c.Answered && c.Enable {
		enable := newUpdate().Set("dis", boolean(false)).
			When(name("dis").Equal(val(boolean(true))).And(name("da").AttributeNotExists().Or(name("da").LessThan(val(nanos(c.StartedAt))))))
		if err := st.updateItem(ctx, enable, k); err != nil && !conditionFailed(err) {
			return fmt.Errorf("dynamodb: record that %s in %s is active: %w", user.Subject, env, err)
		}
	}
	// A user the table knew before the listing existed is listed at
	// their first check since.
	return st.listOnce(ctx, env, user, attrs, c.StartedAt)
}

// ScheduleCheck makes a user who is on the check schedule due at `at`
// (only nxt and the due-checks index change).
func (st *Store) ScheduleCheck(ctx context.Context, env string, user session.UserKey, at time.Time) error {
	u := newUpdate().Set("nxt", nanos(at)).Set("gsi2sk", str(dueSK(at, user))).When(name("nxt").AttributeExists())
	if err := st.updateItem(ctx, u, userKey(env, user)); err != nil && !conditionFailed(err) {
		return fmt.Errorf("dynamodb: schedule a check of %s in %s: %w", user.Subject, env, err)
	}
	return nil
}

// EndIdPSession records that the IdP session sid of issuer ended in env
// at `at`: an item beside the IdP session's links, kept (then TTL) for
// session.EndedIdPSessionRetention from the earliest end recorded; a
// record past its retention is replaced.
func (st *Store) EndIdPSession(ctx context.Context, env, issuer, sid string, at time.Time) error {
	exp := map[string]types.AttributeValue{"at": nanos(at)}
	expiry(exp, at.Add(session.EndedIdPSessionRetention))
	u := newUpdate()
	for k, v := range exp {
		u.Set(k, v)
	}
	u.When(name("at").AttributeNotExists().Or(name("at").GreaterThan(val(nanos(at)))).Or(name("exp").LessThanEqual(val(nanos(st.now())))))
	if err := st.updateItem(ctx, u, endedIdPSessionKey(env, issuer, sid)); err != nil && !conditionFailed(err) {
		return fmt.Errorf("dynamodb: record the end of an IdP session of %s in %s: %w", issuer, env, err)
	}
	return nil
}

// IdPSessionEnded reports whether the IdP session sid of issuer ended in
// env, and when.
func (st *Store) IdPSessionEnded(ctx context.Context, env, issuer, sid string) (time.Time, bool, error) {
	it, err := st.get(ctx, endedIdPSessionKey(env, issuer, sid))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("dynamodb: read the end of an IdP session of %s in %s: %w", issuer, env, err)
	}
	if it == nil || expired(it, st.now()) {
		return time.Time{}, false, nil
	}
	r := readItem(it)
	at := r.t("at")
	return at, r.err == nil, r.err
}

// DueUsers lists the users of env due for a policy check at `at`, most
// overdue first, from the due-checks index.
func (st *Store) DueUsers(ctx context.Context, env string, at time.Time, p session.Page) ([]session.User, string, error) {
	items, next, err := st.query(ctx, gsiDueChecks, expression.Key("gsi2pk").Equal(expression.Value("C#"+env)).
		And(expression.Key("gsi2sk").LessThan(expression.Value(sortTime(at.Add(time.Nanosecond))))), p)
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
	items, next, err := st.query(ctx, gsiDueChecks, expression.Key("gsi2pk").Equal(expression.Value("C#"+env)), p)
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
		r := readItem(it)
		u, err := decodeUser(it, env, session.UserKey{Issuer: r.s("iss"), Subject: r.s("sub")})
		if err != nil {
			return nil, "", fmt.Errorf("dynamodb: %w", err)
		}
		out = append(out, u)
	}
	return out, next, nil
}

// RecordUsername remembers that subject signed in as username at issuer
// (Cognito's username), in both directions: two items keyed by a hash of
// issuer and name, so neither appears in a key in clear. Unconditional
// puts: recording again is harmless, and a name re-used by a new user
// points to the new subject.
func (st *Store) RecordUsername(ctx context.Context, issuer, subject, username string) error {
	for _, it := range []item{
		nameItem("N", issuer, username, "subject", subject),
		nameItem("B", issuer, subject, "username", username),
	} {
		if err := st.putItem(ctx, it, expression.ConditionBuilder{}); err != nil {
			return fmt.Errorf("dynamodb: record the username of %s: %w", subject, err)
		}
	}
	return nil
}

func nameItem(kind, issuer, from, attr, to string) item {
	sum := sha256.Sum256([]byte(issuer + "\x00" + from))
	it := key(kind+"#"+hex.EncodeToString(sum[:]), kind)
	it[attr] = str(to)
	return it
}

// SubjectOf is the subject last recorded for username at issuer, or "".
func (st *Store) SubjectOf(ctx context.Context, issuer, username string) (string, error) {
	return st.readName(ctx, nameItem("N", issuer, username, "", ""), "subject")
}

// UsernameOf is the username recorded for subject at issuer, or "".
func (st *Store) UsernameOf(ctx context.Context, issuer, subject string) (string, error) {
	return st.readName(ctx, nameItem("B", issuer, subject, "", ""), "username")
}

func (st *Store) readName(ctx context.Context, k item, attr string) (string, error) {
	it, err := st.get(ctx, item{"pk": k["pk"], "sk": k["sk"]})
	if err != nil {
		return "", fmt.Errorf("dynamodb: read a username mapping: %w", err)
	}
	r := readItem(it)
	v := r.s(attr)
	return v, r.err
}
