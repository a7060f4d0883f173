package dynamostore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Items of formats 1 (no fv) and 2 are read; a newer one is refused with
// ErrNewerFormat, a malformed fv with another error. (Against moto:
// TestUpgradeFrom040, TestNewerFormatIsNeitherReadNorWritten.)
func TestCheckFormat(t *testing.T) {
	for _, c := range []struct {
		name  string
		it    item
		ok    bool
		newer bool
	}{
		{"none", nil, true, false},
		{"format 1: no fv", item{"pk": str("S#x")}, true, false},
		{"format 1 named", item{"fv": num(1)}, true, false},
		{"format 2", item{"fv": num(2)}, true, false},
		{"format 3", item{"fv": num(3)}, false, true},
		{"format 0", item{"fv": num(0)}, false, false},
		{"not a number", item{"fv": &types.AttributeValueMemberN{Value: "2.5"}}, false, false},
		{"a string", item{"fv": str("2")}, false, false},
	} {
		err := checkFormat(c.it)
		if (err == nil) != c.ok || errors.Is(err, ErrNewerFormat) != c.newer {
			t.Errorf("%s: checkFormat = %v; want ok %v, newer format %v", c.name, err, c.ok, c.newer)
		}
		r := readItem(c.it)
		r.s("pk")
		if (r.err == nil) != c.ok {
			t.Errorf("%s: the reader's error = %v; want ok %v", c.name, r.err, c.ok)
		}
	}
	// An item this release cannot read is never taken for expired (its
	// decoder reports it instead of a read saying "not found").
	if expired(item{"fv": num(3), "exp": nanos(time.Unix(1, 0))}, time.Unix(2, 0)) {
		t.Error("an expired-looking item of format 3 reads as expired; want its decoder to refuse it")
	}
}

// A write's condition that failed on an item of a newer format is that
// item's format error; on an item this release reads, the failed
// condition as it was.
func TestWriteError(t *testing.T) {
	newer := &types.ConditionalCheckFailedException{Item: item{"fv": num(3)}}
	if err := writeError(newer); !errors.Is(err, ErrNewerFormat) {
		t.Errorf("writeError(failed condition on format 3) = %v; want ErrNewerFormat", err)
	}
	known := &types.ConditionalCheckFailedException{Item: item{"fv": num(2)}}
	if err := writeError(known); !conditionFailed(err) {
		t.Errorf("writeError(failed condition on format 2) = %v; want the failed condition", err)
	}
	tx := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("None")}, {Code: aws.String("ConditionalCheckFailed"), Item: item{"fv": num(4)}}}}
	if err := writeError(tx); !errors.Is(err, ErrNewerFormat) {
		t.Errorf("writeError(a transaction cancelled on format 4) = %v; want ErrNewerFormat", err)
	}
	if writeError(nil) != nil {
		t.Error("writeError(nil) != nil")
	}
}

// Every update and every put the store builds sets fv to Format and is
// conditional on formatKnown.
func TestWritesCarryTheFormat(t *testing.T) {
	k := key("S#x", "S")
	up, err := newUpdate().Set("la", num(1)).When(name("pk").AttributeExists()).input("t", k)
	if err != nil {
		t.Fatal(err)
	}
	put, err := putInput("t", item{"pk": str("J#x"), "sk": str("J")}, expression.ConditionBuilder{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := put.Item[formatAttr].(*types.AttributeValueMemberN); !ok || v.Value != "2" {
		t.Errorf("putInput's item fv = %v; want 2", put.Item[formatAttr])
	}
	for _, c := range []struct {
		name   string
		update string
		cond   *string
		names  map[string]string
		values map[string]types.AttributeValue
		rv     types.ReturnValuesOnConditionCheckFailure
	}{
		{"update", aws.ToString(up.UpdateExpression), up.ConditionExpression, up.ExpressionAttributeNames, up.ExpressionAttributeValues, up.ReturnValuesOnConditionCheckFailure},
		{"put", "", put.ConditionExpression, put.ExpressionAttributeNames, put.ExpressionAttributeValues, put.ReturnValuesOnConditionCheckFailure},
	} {
		fv := ""
		for placeholder, n := range c.names {
			if n == formatAttr {
				fv = placeholder
			}
		}
		if fv == "" {
			t.Errorf("%s names no %s: %v", c.name, formatAttr, c.names)
			continue
		}
		cond := aws.ToString(c.cond)
		if !strings.Contains(cond, "attribute_not_exists ("+fv+")") || !strings.Contains(cond, fv+" <= ") {
			t.Errorf("%s's condition %q does not hold the item to a known format", c.name, cond)
		}
		if c.name == "update" && !strings.Contains(c.update, fv+" = ") {
			t.Errorf("update %q does not set %s", c.update, formatAttr)
		}
		if c.rv != types.ReturnValuesOnConditionCheckFailureAllOld {
			t.Errorf("%s returns %q on a failed condition; want ALL_OLD (writeError reads the item's format)", c.name, c.rv)
		}
	}
}
