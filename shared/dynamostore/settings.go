// Settings: an environment's settings, versioned, with their history.

package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

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
	r := readItem(it)
	s, v := r.settings("doc"), int(r.n("ver"))
	if r.err != nil {
		return policy.Settings{}, 0, fmt.Errorf("dynamodb: settings of %s: %w", env, r.err)
	}
	return s, v, nil
}

// Override is the latest settings change applied to running sessions in
// env (zero: none), as Lookup applies it: one GetItem.
func (st *Store) Override(ctx context.Context, env string) (session.Override, error) {
	it, err := st.get(ctx, settingsKey(env))
	if err != nil {
		return session.Override{}, fmt.Errorf("dynamodb: get settings of %s: %w", env, err)
	}
	o, err := decodeOverride(it)
	if err != nil {
		return session.Override{}, fmt.Errorf("dynamodb: settings of %s: %w", env, err)
	}
	return o, nil
}

// PutSettings writes c.New as version c.Version of c.Environment's
// settings and its history record in one transaction, if the current
// version is still c.Version-1; else session.ErrVersionConflict.
func (st *Store) PutSettings(ctx context.Context, c policy.SettingsChange) error {
	if c.Version < 1 {
		return session.ErrVersionConflict
	}
	doc := str(settingsJSON(c.New))
	u := newUpdate().Set("ver", num(int64(c.Version))).Set("doc", doc).Set("at", nanos(c.At)).Set("by", str(c.Actor))
	if c.ApplyToRunning {
		u.Set("ovv", num(int64(c.Version))).Set("ovs", doc).Set("ova", nanos(c.At))
	}
	u.When(versionIs("ver", int64(c.Version-1)))
	settingsWrite, err := u.transact(st.table, settingsKey(c.Environment))
	if err != nil {
		return err
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
	histWrite, err := putWrite(st.table, hist, name("pk").AttributeNotExists())
	if err != nil {
		return err
	}
	err = st.transactWrite(ctx, []types.TransactWriteItem{settingsWrite, histWrite})
	if err != nil && transactionConflict(err) {
		return session.ErrVersionConflict
	}
	if err != nil {
		return fmt.Errorf("dynamodb: put settings of %s version %d: %w", c.Environment, c.Version, err)
	}
	return nil
}

// History lists env's settings changes, newest first.
func (st *Store) History(ctx context.Context, env string, p session.Page) ([]policy.SettingsChange, string, error) {
	items, next, err := st.newestFirst(ctx, env, "H#", p)
	if err != nil {
		if errors.Is(err, session.ErrBadCursor) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("dynamodb: settings history of %s: %w", env, err)
	}
	out := make([]policy.SettingsChange, 0, len(items))
	for _, it := range items {
		c, err := decodeChange(it)
		if err != nil {
			return nil, "", fmt.Errorf("dynamodb: history of %s: %w", env, err)
		}
		out = append(out, c)
	}
	return out, next, nil
}

// newestFirst queries env's partition for the items whose sort key
// starts with prefix, newest first.
func (st *Store) newestFirst(ctx context.Context, env, prefix string, p session.Page) ([]item, string, error) {
	kc := expression.Key("pk").Equal(expression.Value(envPK(env))).And(expression.KeyBeginsWith(expression.Key("sk"), prefix))
	return st.queryInput(ctx, "", expression.NewBuilder().WithKeyCondition(kc), p, func(in *dynamodb.QueryInput) {
		in.ScanIndexForward, in.ConsistentRead = aws.Bool(false), aws.Bool(true)
	})
}
