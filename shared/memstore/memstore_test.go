package memstore_test

import (
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(_ *testing.T, now func() time.Time) storetest.Store { return memstore.New(now) })
}
