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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
	if err := st.updateItem(ctx, u, userKey(usr.Environment, usr.Key)); err != nil {
		return fmt.Errorf("dynamodb: put user %s in %s: %w", usr.Key.Subject, usr.Environment, err)
	}
	return nil
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
		r := reader{it: it}
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
		if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.table, Item: it}); err != nil {
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
	r := reader{it: it}
	v := r.s(attr)
	return v, r.err
}
