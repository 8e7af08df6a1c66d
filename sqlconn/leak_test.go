package sqlconn_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine is left running: a
// connection attempt, a late connection's Close, a background refresh or a
// recycling timer that outlives its test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
