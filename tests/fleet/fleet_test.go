package fleet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/tests/internal/emu"
)

var (
	full  = flag.Bool("fleet.full", false, "run the fleet simulation at full size (200 stores, 50 secrets), as make bench does")
	table = flag.String("fleet.table", "", "write the simulation's table (Markdown) to this file")
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, emu.LeakOptions()...)
}

// setups are the set-ups the simulation runs.
var setups = []setup{
	{name: "poll", ttl: 5 * time.Minute, gate: secretsmanager.ListGateOff},
	{name: "poll", ttl: time.Hour, gate: secretsmanager.ListGateOff},
	{name: "poll, listing-gated", ttl: 5 * time.Minute, gate: secretsmanager.ListGateAuto},
}

// theSize is the size of the runs: 20 stores and 20 secrets for make test
// (which runs with -race on a busy machine), 200 stores and 50 secrets with
// -fleet.full.
func theSize() size {
	if *full {
		return size{stores: 200, secrets: 50, rotations: 10}
	}
	return size{stores: 20, secrets: 20, rotations: 2}
}

var (
	resultsOnce sync.Mutex
	results     []result
)

// simulate runs every set-up once per process and returns the results.
func simulate(t *testing.T) []result {
	t.Helper()
	resultsOnce.Lock()
	defer resultsOnce.Unlock()
	if results != nil {
		return results
	}
	z := theSize()
	e := startEmulator(t, z.secrets)
	var out []result
	for _, s := range setups {
		out = append(out, run(t, e, s, z))
	}
	// Push, behind a safety net that costs what the listing-gated poll does.
	out = append(out, runPush(t, e, z, out[len(out)-1]))
	results = out
	return out
}

// TestFleetSimulation runs the set-ups and checks what docs/performance.md
// says of them: every store picks up every rotation, polling picks it up half
// a TTL later on average and never later than the longest jittered interval,
// and gating with ListSecrets checks 20 or 50 secrets with 2 or 5 listings
// and no DescribeSecret unless a secret changed.
func TestFleetSimulation(t *testing.T) {
	rs := simulate(t)
	var b strings.Builder
	z := theSize()
	fmt.Fprintf(&b, "%d stores, %d secrets, %d rotations; projected to %d pods x %d secrets\n\n%s\n", z.stores, z.secrets, z.rotations, projReplicas, projSecrets, header)
	for _, r := range rs {
		b.WriteString(r.row() + "\n")
		t.Logf("%s %s: %d refreshes, %s simulated in %s; per refresh %v, per pickup %v, at start %v",
			r.setup.name, r.setup.ttl, r.refreshes, r.simulated, r.wall.Round(time.Millisecond), r.perRefresh, r.perChange, r.starts)
	}
	t.Log("\n" + b.String())
	if *table != "" {
		if err := os.WriteFile(*table, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rs {
		name := fmt.Sprintf("%s %s", r.setup.name, r.setup.ttl)
		if r.setup.push {
			checkPush(t, r, z)
			continue
		}
		if r.missedPickup > 0 || len(r.lags) != z.stores*z.rotations {
			t.Errorf("%s: %d pickups, %d missed; want every store to pick up each of the %d rotations", name, len(r.lags), r.missedPickup, z.rotations)
		}
		ttl := r.setup.ttl
		if r.lagMax > ttl*11/10 {
			t.Errorf("%s: a pickup took %s, longer than the longest jittered interval %s", name, r.lagMax, ttl*11/10)
		}
		if r.lagP50 < ttl*3/10 || r.lagP50 > ttl*7/10 {
			t.Errorf("%s: median pickup %s, want about half the TTL (%s)", name, r.lagP50, ttl/2)
		}
		if reads := r.perChange[secretsmanager.OpGetSecretValue] + r.perChange[secretsmanager.OpBatchGetSecretValue]; reads < 0.99 || reads > 1.01 {
			t.Errorf("%s: %.2f reads per refresh that found a rotation, want 1: only rotated secrets are read, in one call", name, reads)
		}
		describe, list := r.perRefresh[secretsmanager.OpDescribeSecret], r.perRefresh[secretsmanager.OpListSecrets]
		switch r.setup.gate {
		case secretsmanager.ListGateAuto:
			if describe != 0 || list != math.Ceil(float64(z.secrets)/10) {
				t.Errorf("%s: a quiet refresh made %.2f DescribeSecret and %.2f ListSecrets, want 0 and %v", name, describe, list, math.Ceil(float64(z.secrets)/10))
			}
		default:
			if describe != float64(z.secrets) || list != 0 {
				t.Errorf("%s: a quiet refresh made %.2f DescribeSecret and %.2f ListSecrets, want %d and 0", name, describe, list, z.secrets)
			}
		}
	}
}

// TestFleetCostAgreesWithConfigcheck checks that configcheck cost projects
// each set-up the simulation ran within 10 % of what the simulation measured,
// for 200 pods reading 50 secrets.
func TestFleetCostAgreesWithConfigcheck(t *testing.T) {
	rs := simulate(t)
	specs := make([]secretsmanager.Spec, projSecrets)
	for i := range specs {
		specs[i] = secretsmanager.String(fmt.Sprintf("app/s%02d", i), fmt.Sprintf("s%02d", i), nil)
	}
	setup := func(context.Context, string) (*config.Options, []config.Layer, error) {
		return &config.Options{RefreshInterval: 5 * time.Minute}, []config.Layer{secretsmanager.NewWithClient(nil, nil, specs...)}, nil
	}
	var stdout, stderr bytes.Buffer
	code := configcheck.Main[fleetConfig](context.Background(),
		[]string{"cost", "--replicas", fmt.Sprint(projReplicas), "--format", "json"},
		configcheck.Options{Setup: setup, Stdout: &stdout, Stderr: &stderr})
	if code != configcheck.ExitOK {
		t.Fatalf("configcheck cost exited %d: %s", code, stderr.String())
	}
	var out struct {
		Setups []struct {
			Name    string  `json:"setup"`
			TTL     string  `json:"ttl"`
			Dollars float64 `json:"calls_usd_per_month"`
			Calls   float64 `json:"secretsmanager_calls_per_month"`
		} `json:"setups"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		found := false
		for _, s := range out.Setups {
			if s.Name != r.setup.name || s.TTL != r.setup.ttl.String() {
				continue
			}
			found = true
			sim := r.dollars()
			if math.Abs(s.Dollars-sim) > 0.1*sim {
				t.Errorf("%s %s: configcheck cost says $%.2f a month, the simulation $%.2f: more than 10 %% apart", r.setup.name, r.setup.ttl, s.Dollars, sim)
			}
			t.Logf("%s %s: configcheck $%.2f (%.0f calls), simulation $%.2f", r.setup.name, r.setup.ttl, s.Dollars, s.Calls, sim)
		}
		if !found {
			t.Errorf("configcheck cost compares no set-up %q at %s", r.setup.name, r.setup.ttl)
		}
	}
}

// checkPush checks the push run: every store picks up every rotation, p99
// within 2 seconds, each with one read of the rotated secret and no
// DescribeSecret.
func checkPush(t *testing.T, r result, z size) {
	t.Helper()
	if len(r.lags) != z.stores*z.rotations {
		t.Errorf("push: %d pickups, want %d", len(r.lags), z.stores*z.rotations)
	}
	// The goal is 2 seconds. make test runs this with -race on a machine
	// shared with other work, where a read can take several times as long;
	// it allows 5.
	limit := 5 * time.Second
	if *full {
		limit = 2 * time.Second
	}
	if r.lagP99 > limit {
		t.Errorf("push: pickup p99 %s, want at most %s (p50 %s, max %s)", r.lagP99, limit, r.lagP50, r.lagMax)
	}
	reads := r.perChange[secretsmanager.OpGetSecretValue] + r.perChange[secretsmanager.OpBatchGetSecretValue]
	if reads < 0.99 || reads > 1.01 || r.perChange[secretsmanager.OpDescribeSecret] != 0 || r.perChange[secretsmanager.OpListSecrets] != 0 {
		t.Errorf("push: per store and rotation %v, want one read and nothing else", r.perChange)
	}
}
