package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/rehearsal"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, emu.LeakOptions()...)
}

// TestRotationDemo runs the demonstration with one rotation of each kind
// and no comparison: every connector run reports its figures, and no query
// failed.
func TestRotationDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	failed, err := run(ctx, &out, []rehearsal.Strategy{rehearsal.SingleUser, rehearsal.AlternatingUsers}, 1, false)
	t.Logf("\n%s", out.String())
	if err != nil || failed {
		t.Fatalf("run: failed %v, err %v", failed, err)
	}
	for _, want := range []string{
		"single user rotations, sqlconn.NewPending: 1 rotations",
		"single user rotations, sqlconn.New: 1 rotations",
		"alternating users rotations, sqlconn.New: 1 rotations",
		"With the connector: 0 failed queries over 3 rotations.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "DSN read at start-up") {
		t.Error("compare=false ran the comparison")
	}
}
