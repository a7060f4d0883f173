package dynamostore

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/shared/session"
)

// ItemsOf are the items the store writes for s at sign-in (the session,
// and its IdP-session link when it has a sid), at the store's format: for
// tests that put many sessions in place at once.
func ItemsOf(s session.Session) []map[string]types.AttributeValue {
	out := []item{sessionItem(s)}
	if s.IdPSession != "" {
		out = append(out, idpSessionItem(s))
	}
	for _, it := range out {
		it[formatAttr] = num(Format)
	}
	return out
}
