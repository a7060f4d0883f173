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
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

// update is an UpdateItem under construction on the SDK's expression
// builder, which names every attribute through ExpressionAttributeNames
// (reserved words never bite) and every value through placeholders.
type update struct {
	ub   expression.UpdateBuilder
	cond expression.ConditionBuilder
}

// newUpdate starts every update the store writes: it sets the item's
// format (fv, Format), and input adds formatKnown to its condition.
func newUpdate() *update {
	return &update{ub: expression.Set(name(formatAttr), val(num(Format)))}
}

// Set adds "name = v".
func (u *update) Set(name string, v types.AttributeValue) *update {
	u.ub = u.ub.Set(expression.Name(name), expression.Value(v))
	return u
}

// SetIfAbsent adds "name = if_not_exists(name, v)".
func (u *update) SetIfAbsent(name string, v types.AttributeValue) *update {
	u.ub = u.ub.Set(expression.Name(name), expression.IfNotExists(expression.Name(name), expression.Value(v)))
	return u
}

// Add adds "ADD name v": a number grows by v (from 0 when absent).
func (u *update) Add(name string, v types.AttributeValue) *update {
	u.ub = u.ub.Add(expression.Name(name), expression.Value(v))
	return u
}

func (u *update) Remove(names ...string) *update {
	for _, n := range names {
		u.ub = u.ub.Remove(expression.Name(n))
	}
	return u
}

// When sets the condition.
func (u *update) When(c expression.ConditionBuilder) *update {
	u.cond = c
	return u
}

// Shorthands for the conditions the store writes.
func name(n string) expression.NameBuilder { return expression.Name(n) }

func val(v types.AttributeValue) expression.ValueBuilder { return expression.Value(v) }

// absentOrBefore is "attribute_not_exists(n) OR n < v": a time that only
// moves forward.
func absentOrBefore(n string, v types.AttributeValue) expression.ConditionBuilder {
	return name(n).AttributeNotExists().Or(name(n).LessThan(val(v)))
}

// versionIs is the optimistic-version condition on attribute n: absent
// for version 0, else equal.
func versionIs(n string, version int64) expression.ConditionBuilder {
	if version == 0 {
		return name(n).AttributeNotExists()
	}
	return name(n).Equal(val(num(version)))
}

// written is the condition of a write: cond (if set) and formatKnown.
func written(cond expression.ConditionBuilder) expression.ConditionBuilder {
	if !cond.IsSet() {
		return formatKnown()
	}
	return formatKnown().And(cond)
}

// input is the UpdateItem of u on the item k. A failed condition returns
// the item as it was, for writeError.
func (u *update) input(table string, k item) (*dynamodb.UpdateItemInput, error) {
	e, err := expression.NewBuilder().WithUpdate(u.ub).WithCondition(written(u.cond)).Build()
	if err != nil {
		return nil, fmt.Errorf("build the update expression: %w", err)
	}
	return &dynamodb.UpdateItemInput{TableName: &table, Key: k, UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}, nil
}

func (u *update) transact(table string, k item) (types.TransactWriteItem, error) {
	in, err := u.input(table, k)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: &types.Update{TableName: in.TableName, Key: in.Key, UpdateExpression: in.UpdateExpression,
		ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: in.ReturnValuesOnConditionCheckFailure}}, nil
}

// updateItem runs u on the item k.
func (st *Store) updateItem(ctx context.Context, u *update, k item) error {
	_, err := st.runUpdate(ctx, u, k, types.ReturnValueNone)
	return err
}

// updateItemNew runs u on the item k and returns the item as updated.
func (st *Store) updateItemNew(ctx context.Context, u *update, k item) (item, error) {
	return st.runUpdate(ctx, u, k, types.ReturnValueAllNew)
}

func (st *Store) runUpdate(ctx context.Context, u *update, k item, rv types.ReturnValue) (item, error) {
	in, err := u.input(st.table, k)
	if err != nil {
		return nil, err
	}
	in.ReturnValues = rv
	out, err := st.db.UpdateItem(ctx, in)
	if err != nil {
		return nil, writeError(err)
	}
	return out.Attributes, nil
}

// putInput is the PutItem of it, with the item's format (fv, Format),
// under cond (if set) and formatKnown: every put the store writes is
// built here. A failed condition returns the item as it was, for
// writeError.
func putInput(table string, it item, cond expression.ConditionBuilder) (*dynamodb.PutItemInput, error) {
	it = maps.Clone(it)
	it[formatAttr] = num(Format)
	e, err := expression.NewBuilder().WithCondition(written(cond)).Build()
	if err != nil {
		return nil, fmt.Errorf("build the put's condition: %w", err)
	}
	return &dynamodb.PutItemInput{TableName: &table, Item: it, ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}, nil
}

// putWrite is putInput as a transaction's write.
func putWrite(table string, it item, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	in, err := putInput(table, it, cond)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: in.TableName, Item: in.Item, ConditionExpression: in.ConditionExpression,
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}, nil
}

// putItem puts it under cond (see putInput).
func (st *Store) putItem(ctx context.Context, it item, cond expression.ConditionBuilder) error {
	in, err := putInput(st.table, it, cond)
	if err != nil {
		return err
	}
	_, err = st.db.PutItem(ctx, in)
	return writeError(err)
}

// transactWrite writes writes (from update.transact and putWrite) in one
// transaction.
func (st *Store) transactWrite(ctx context.Context, writes []types.TransactWriteItem) error {
	_, err := st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	return writeError(err)
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

// query runs one page of a query on index (or the table when ""); the
// cursor is DynamoDB's LastEvaluatedKey, encoded.
func (st *Store) query(ctx context.Context, index string, kc expression.KeyConditionBuilder, p session.Page) ([]item, string, error) {
	return st.queryInput(ctx, index, expression.NewBuilder().WithKeyCondition(kc), p, nil)
}

// queryInput runs one page of the query b (a key condition, and maybe a
// filter, which DynamoDB applies after reading p.Limit items: a page may
// then hold fewer, none even, with a cursor to go on).
func (st *Store) queryInput(ctx context.Context, index string, b expression.Builder, p session.Page, edit func(*dynamodb.QueryInput)) ([]item, string, error) {
	e, err := b.Build()
	if err != nil {
		return nil, "", fmt.Errorf("build the query's expressions: %w", err)
	}
	in := &dynamodb.QueryInput{TableName: &st.table, KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}
	if index != "" {
		in.IndexName = &index
	}
	if edit != nil {
		edit(in)
	}
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
