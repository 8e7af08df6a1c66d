package config_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// store a test loads must stop its refresh loop, refreshes and subscribers.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
