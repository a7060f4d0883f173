package dynamostore_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/storetest"
)

// transactSizes records the number of writes of each transaction.
type transactSizes struct {
	*dynamodb.Client
	mu    sync.Mutex
	sizes []int
}

func (c *transactSizes) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	c.sizes = append(c.sizes, len(in.TransactItems))
	c.mu.Unlock()
	return c.Client.TransactWriteItems(ctx, in, o...)
}

func (c *transactSizes) take() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.sizes
	c.sizes = nil
	return out
}

// The user listing costs one write per user, once: a user's first
// sign-in adds the listing's entry to its transaction, later sign-ins do
// not; a policy check of a listed user writes nothing more, and the first
// check of a user not yet listed (one the table knew before the listing
// existed) writes the entry and marks the user, with UpdateItems only
// (the template lets the policy-check functions update items, not put
// them). A search is one Query on
// the listing's partition (no Scan), and a cursor of another search is
// refused.
func TestUserListingWrites(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	_, c := open(t, time.Now)
	tx := &transactSizes{Client: c.db}
	st := dynamostore.New(tx, c.table, time.Now)
	alice := session.UserKey{Issuer: "https://idp.example/", Subject: "alice"}
	signIn := func(at time.Time) {
		t.Helper()
		if _, err := st.Create(ctx, storetest.NewSession(t, "prod", alice, at, policy.Defaults()), session.Limit{}, func(session.Session) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now()
	signIn(t0)
	if got := tx.take(); !reflect.DeepEqual(got, []int{3}) {
		t.Errorf("first sign-in's transaction writes %v items; want 3 (session, user, listing)", got)
	}
	signIn(t0.Add(time.Second))
	if got := tx.take(); !reflect.DeepEqual(got, []int{2}) {
		t.Errorf("second sign-in's transaction writes %v items; want 2 (session, user)", got)
	}
	c.take(t)
	check := session.Check{StartedAt: t0, Answered: true, CheckedAt: t0, NextCheckAt: t0.Add(time.Hour)}
	if err := st.RecordCheck(ctx, "prod", alice, check); err != nil {
		t.Fatal(err)
	}
	if got := c.take(t); !reflect.DeepEqual(got, map[string]int{"UpdateItem": 1}) {
		t.Errorf("a check of a listed user made %v; want one UpdateItem", got)
	}
	dora := session.UserKey{Issuer: alice.Issuer, Subject: "dora"}                // on the check schedule, not yet listed
	for i, want := range []map[string]int{{"UpdateItem": 3}, {"UpdateItem": 1}} { // no PutItem: the checks' functions may not put
		if err := st.RecordCheck(ctx, "prod", dora, check); err != nil {
			t.Fatal(err)
		}
		if got := c.take(t); !reflect.DeepEqual(got, want) {
			t.Errorf("check %d of a user not listed made %v; want %v", i+1, got, want)
		}
	}
	got, next, err := st.SearchUsers(ctx, "prod", alice.Issuer, "", session.Page{Limit: 1})
	if err != nil || !reflect.DeepEqual(got, []session.UserKey{alice}) || next == "" {
		t.Fatalf("SearchUsers, first page of 1 = %v, %q, %v; want alice and a cursor", got, next, err)
	}
	if ops := c.take(t); !reflect.DeepEqual(ops, map[string]int{"Query": 1}) {
		t.Errorf("a search made %v; want one Query", ops)
	}
	if got, _, err := st.SearchUsers(ctx, "prod", alice.Issuer, "", session.Page{Limit: 1, Cursor: next}); err != nil || !reflect.DeepEqual(got, []session.UserKey{dora}) {
		t.Errorf("SearchUsers, second page = %v, %v; want dora", got, err)
	}
	for _, other := range []struct{ env, issuer, prefix string }{{"prod", alice.Issuer, "b"}, {"staging", alice.Issuer, ""}, {"prod", "https://other.example/", ""}} {
		if _, _, err := st.SearchUsers(ctx, other.env, other.issuer, other.prefix, session.Page{Cursor: next}); !errors.Is(err, session.ErrBadCursor) {
			t.Errorf("SearchUsers(%+v) with the cursor of another search = %v; want ErrBadCursor", other, err)
		}
	}
}

// listingDown fails every UpdateItem of a user-listing entry (keys
// starting "D#"), as a throttled or refused listing partition would.
type listingDown struct{ *dynamodb.Client }

var errListingDown = errors.New("listing partition refused the write")

func (c listingDown) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if pk, ok := in.Key["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "D#") {
		return nil, errListingDown
	}
	return c.Client.UpdateItem(ctx, in, o...)
}

// The listing is written last in a policy check and only serves the
// console's search: when its write fails, the check that found a
// disabled user active again has still cleared the disable (and moved
// the schedule), the failure is reported, and the next check lists the
// user.
func TestRecordCheckListingFailure(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	_, c := open(t, time.Now)
	st := dynamostore.New(listingDown{c.db}, c.table, time.Now)
	dora := session.UserKey{Issuer: "https://idp.example/", Subject: "dora"} // known to the table, not listed
	t0 := time.Now().Truncate(time.Second)
	if err := st.DisableUser(ctx, "prod", dora, t0); err != nil {
		t.Fatal(err)
	}
	check := session.Check{StartedAt: t0.Add(time.Second), Answered: true, Enable: true, CheckedAt: t0.Add(time.Second), NextCheckAt: t0.Add(time.Hour)}
	if err := st.RecordCheck(ctx, "prod", dora, check); !errors.Is(err, errListingDown) {
		t.Errorf("RecordCheck with the listing down = %v; want the listing's error", err)
	}
	u, err := st.User(ctx, "prod", dora)
	if err != nil || u.Disabled || !u.NextCheckAt.Equal(check.NextCheckAt) || !u.LastCheckAt.Equal(check.CheckedAt) {
		t.Errorf("dora after a check that found her active, listing down = %+v, %v; want enabled, checked, next check in an hour", u, err)
	}
	if got, _, err := st.SearchUsers(ctx, "prod", dora.Issuer, "", session.Page{}); err != nil || len(got) != 0 {
		t.Errorf("SearchUsers with the listing down = %v, %v; want nobody yet", got, err)
	}
	healthy := dynamostore.New(c.db, c.table, time.Now)
	if err := healthy.RecordCheck(ctx, "prod", dora, check); err != nil {
		t.Fatal(err)
	}
	if got, _, err := healthy.SearchUsers(ctx, "prod", dora.Issuer, "", session.Page{}); err != nil || !reflect.DeepEqual(got, []session.UserKey{dora}) {
		t.Errorf("SearchUsers after the next check = %v, %v; want dora", got, err)
	}
}
