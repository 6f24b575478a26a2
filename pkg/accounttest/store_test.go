package accounttest

import (
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func TestFakeStoreContract(t *testing.T) {
	StoreContract(t, func(*testing.T) account.Store { return NewStore() })
}
