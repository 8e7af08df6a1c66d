// Package fleet_test simulates a fleet of stores against one emulator: many
// config.Stores in one process, each with its own refresh schedule on one
// fake clock, following the same secrets while they rotate. It measures what
// each set-up costs (Secrets Manager calls by operation) and how soon a
// rotation reaches every store, and projects the cost to a fleet of 200 pods
// reading 50 secrets.
//
// It lives in a package of its own so that its process holds its own kumo
// state: kumo answers ListSecrets with every secret it holds.
package fleet_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// fleetConfig has one field per secret, S00 to S49, read from secret i.
type fleetConfig struct {
	S00, S01, S02, S03, S04, S05, S06, S07, S08, S09 string
	S10, S11, S12, S13, S14, S15, S16, S17, S18, S19 string
	S20, S21, S22, S23, S24, S25, S26, S27, S28, S29 string
	S30, S31, S32, S33, S34, S35, S36, S37, S38, S39 string
	S40, S41, S42, S43, S44, S45, S46, S47, S48, S49 string
}

// maxSecrets is the number of fields of fleetConfig.
const maxSecrets = 50

// setup is one way of following rotations the simulation runs.
type setup struct {
	name string
	ttl  time.Duration
	gate secretsmanager.ListGate
	push bool // push through a fan-out feed, ttl the safety net
}

// size is how big a run is.
type size struct {
	stores, secrets, rotations int
}

// call is one API call as the emulator saw it, at the fake clock's time.
type call struct {
	op    string
	at    time.Time
	start bool // made by a store's first load
}

// recorder is the layer's API: the SDK client against the emulator (through
// the fault proxy's shims), with each call recorded at the fake clock's time
// (the real one when clock is nil).
type recorder struct {
	*sm.Client
	clock *configtest.Clock

	mu       sync.Mutex
	calls    []call
	starting bool
}

func (r *recorder) record(op string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at := time.Now()
	if r.clock != nil {
		at = r.clock.Now()
	}
	r.calls = append(r.calls, call{op: op, at: at, start: r.starting})
}

func (r *recorder) BatchGetSecretValue(ctx context.Context, in *sm.BatchGetSecretValueInput, o ...func(*sm.Options)) (*sm.BatchGetSecretValueOutput, error) {
	r.record(secretsmanager.OpBatchGetSecretValue)
	return r.Client.BatchGetSecretValue(ctx, in, o...)
}

func (r *recorder) GetSecretValue(ctx context.Context, in *sm.GetSecretValueInput, o ...func(*sm.Options)) (*sm.GetSecretValueOutput, error) {
	r.record(secretsmanager.OpGetSecretValue)
	return r.Client.GetSecretValue(ctx, in, o...)
}

func (r *recorder) DescribeSecret(ctx context.Context, in *sm.DescribeSecretInput, o ...func(*sm.Options)) (*sm.DescribeSecretOutput, error) {
	r.record(secretsmanager.OpDescribeSecret)
	return r.Client.DescribeSecret(ctx, in, o...)
}

func (r *recorder) ListSecrets(ctx context.Context, in *sm.ListSecretsInput, o ...func(*sm.Options)) (*sm.ListSecretsOutput, error) {
	r.record(secretsmanager.OpListSecrets)
	return r.Client.ListSecrets(ctx, in, o...)
}

func (r *recorder) setStarting(v bool) {
	r.mu.Lock()
	r.starting = v
	r.mu.Unlock()
}

// emulator is the one emulator every run shares, with the secrets.
type emulator struct {
	client  *sm.Client // for rotations, straight to the proxy
	url     string     // the emulator itself, for SQS and SNS
	proxy   *faultproxy.Proxy
	names   []string
	version map[string]int // rotations made so far, by secret
}

func startEmulator(t *testing.T, secrets int) *emulator {
	t.Helper()
	url := emu.Start(t)
	p, err := faultproxy.New(url, faultproxy.Options{BatchShim: true, ListFilterShim: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	e := &emulator{client: emu.Client(p.URL()), url: url, proxy: p, version: map[string]int{}}
	base := emu.UniqueName(t, "fleet")
	for i := range secrets {
		name := fmt.Sprintf("%s/s%02d", base, i)
		emu.CreateString(t, e.client, name, value(name, 0))
		e.names = append(e.names, name)
	}
	return e
}

// value is the value of the n-th version of a secret.
func value(name string, n int) string { return fmt.Sprintf("%s#%d", name, n) }

// rotation is one rotation of the schedule and when each store picked it up.
type rotation struct {
	at     time.Time
	secret int
	value  string
	seen   []bool
	lags   []time.Duration
}

// result is what one run measured.
type result struct {
	setup           setup
	size            size
	starts          map[string]float64 // calls per store at its first load, by operation
	perRefresh      map[string]float64 // calls of a refresh that found no change, by operation
	perChange       map[string]float64 // more calls of a refresh that read new versions, by operation
	changeRefreshes int
	calls           map[string]int // every call of the run, by operation
	sqsRequests     int
	sqsStart        float64 // SQS requests per store at start (its queue, the sweep)
	sqsPerChange    float64 // SQS requests per store per rotation
	refreshes       int
	peakPerSec      int
	lags            []time.Duration
	lagP50          time.Duration
	lagP99          time.Duration
	lagMax          time.Duration
	simulated       time.Duration // fake time
	wall            time.Duration
	missedPickup    int
}

// run simulates one set-up: the stores start one after another over a TTL
// (random phases, as a rolling deploy gives), then secrets rotate one by one
// over a fifth of a TTL, and the run lasts until every store has had a
// refresh after the last rotation.
func run(t *testing.T, e *emulator, s setup, z size) result {
	t.Helper()
	wallStart := time.Now()
	clock := configtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	start := clock.Now()
	rec := &recorder{Client: e.client, clock: clock}
	specs := make([]secretsmanager.Spec, z.secrets)
	for i := range z.secrets {
		specs[i] = secretsmanager.String(e.names[i], fmt.Sprintf("s%02d", i), nil)
	}
	// The simulation counts calls, not their time: a call that timed out on a
	// busy machine would fall back to other calls and change the counts, so
	// each call may take a minute.
	layer := secretsmanager.NewWithClient(rec, &secretsmanager.Options{ListGate: s.gate, Timeout: time.Minute}, specs...)
	opts := config.Options{
		Clock: clock, RefreshInterval: s.ttl, RetryBackoff: s.ttl,
		Logger: slog.New(slog.DiscardHandler),
	}
	stores := make([]*config.Store[fleetConfig], 0, z.stores)
	defer func() {
		for _, st := range stores {
			_ = st.Close()
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(z.stores), uint64(s.ttl)))
	offsets := make([]time.Duration, z.stores)
	for i := range offsets {
		offsets[i] = time.Duration(rng.Int64N(int64(s.ttl)))
	}
	slices.Sort(offsets)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var rots []*rotation
	seen := func(now time.Time) { observe(now, stores, rots) }
	for i, off := range offsets {
		// A store that started early may be due before the next starts.
		at := start.Add(off)
		step(t, ctx, clock, i, at, seen)
		clock.Advance(at.Sub(clock.Now()))
		rec.setStarting(true)
		st, err := config.Load[fleetConfig](ctx, &opts, layer)
		rec.setStarting(false)
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		stores = append(stores, st)
	}

	// The rotations, each on its own secret, over a fifth of a TTL.
	first := start.Add(s.ttl)
	for k := range z.rotations {
		at := first.Add(time.Duration(k) * s.ttl / time.Duration(5*z.rotations))
		rots = append(rots, &rotation{at: at, secret: k % z.secrets, seen: make([]bool, z.stores)})
	}
	end := rots[len(rots)-1].at.Add(s.ttl * 12 / 10)
	for _, r := range rots {
		step(t, ctx, clock, z.stores, r.at, seen)
		clock.Advance(r.at.Sub(clock.Now()))
		name := e.names[r.secret]
		e.version[name]++
		r.value = value(name, e.version[name])
		emu.Rotate(t, e.client, name, r.value)
	}
	step(t, ctx, clock, z.stores, end, seen)
	res := summarize(rec.calls, rots, s, z)
	for _, st := range stores {
		res.refreshes += st.Status().Refreshes
	}
	for op, n := range layer.Calls() {
		if n.Error > 0 {
			t.Errorf("%s %v: %d %s calls failed; the counts are not those of a healthy fleet", s.name, s.ttl, n.Error, op)
		}
	}
	res.simulated, res.wall = clock.Now().Sub(start), time.Since(wallStart)
	return res
}

// step advances the clock to each deadline up to until in turn, and after
// each waits for the stores' reads to finish (every one of the n stores waits
// on the clock again), then calls after. The clock does not move while a
// store reads, so every call of one read is recorded at the time the read was
// due.
func step(t *testing.T, ctx context.Context, clock *configtest.Clock, n int, until time.Time, after func(time.Time)) {
	t.Helper()
	for {
		next, ok := clock.Next()
		if !ok || next.After(until) {
			return
		}
		clock.Advance(next.Sub(clock.Now()))
		if err := clock.BlockUntilWaiters(ctx, n); err != nil {
			t.Fatalf("the stores did not finish their reads: %v", err)
		}
		after(clock.Now())
	}
}

// observe records, for each rotation not yet seen by a store, whether the
// store serves it now.
func observe(now time.Time, stores []*config.Store[fleetConfig], rots []*rotation) {
	for i, st := range stores {
		cfg := reflect.ValueOf(st.Get()).Elem()
		for _, r := range rots {
			if r.value == "" || r.seen[i] || now.Before(r.at) {
				continue
			}
			if cfg.Field(r.secret).String() == r.value {
				r.seen[i] = true
				r.lags = append(r.lags, now.Sub(r.at))
			}
		}
	}
}

// summarize derives a result from the calls: a refresh is the calls made at
// one instant outside a load; one with a GetSecretValue read a rotation.
func summarize(calls []call, rots []*rotation, s setup, z size) result {
	res := result{setup: s, size: z, starts: map[string]float64{}, perRefresh: map[string]float64{},
		perChange: map[string]float64{}, calls: map[string]int{}}
	type group struct {
		ops     map[string]int
		changed bool
	}
	groups := map[time.Time]*group{}
	perSecond := map[int64]int{}
	for _, c := range calls {
		res.calls[c.op]++
		perSecond[c.at.Unix()]++
		if c.start {
			res.starts[c.op] += 1 / float64(z.stores)
			continue
		}
		g := groups[c.at]
		if g == nil {
			g = &group{ops: map[string]int{}}
			groups[c.at] = g
		}
		g.ops[c.op]++
		// Only a refresh that found a new version reads values.
		g.changed = g.changed || c.op == secretsmanager.OpGetSecretValue || c.op == secretsmanager.OpBatchGetSecretValue
	}
	for _, n := range perSecond {
		res.peakPerSec = max(res.peakPerSec, n)
	}
	quiet, changedCalls := 0, map[string]int{}
	changedGroups := 0
	for _, g := range groups {
		if g.changed {
			changedGroups++
			for op, n := range g.ops {
				changedCalls[op] += n
			}
			continue
		}
		quiet++
		for op, n := range g.ops {
			res.perRefresh[op] += float64(n)
		}
	}
	for op := range res.perRefresh {
		res.perRefresh[op] /= float64(max(1, quiet))
	}
	pickups := 0
	for _, r := range rots {
		pickups += len(r.lags)
		res.lags = append(res.lags, r.lags...)
		for _, seen := range r.seen {
			if !seen {
				res.missedPickup++
			}
		}
	}
	// What a rotation costs a store beyond a quiet refresh. The schedule's
	// rotations come close together, so one refresh may pick up several:
	// the reads of values are one call (a batch) per such refresh, and the
	// DescribeSecret that confirms what a listing shows is one per secret,
	// per rotation picked up. Rotations a month apart cost one of each.
	for op, n := range changedCalls {
		per := changedGroups
		if op == secretsmanager.OpDescribeSecret {
			per = pickups
		}
		res.perChange[op] = (float64(n) - res.perRefresh[op]*float64(changedGroups)) / float64(max(1, per))
	}
	res.changeRefreshes = changedGroups
	sort.Slice(res.lags, func(i, j int) bool { return res.lags[i] < res.lags[j] })
	res.lagP50, res.lagP99, res.lagMax = quantile(res.lags, 0.50), quantile(res.lags, 0.99), quantile(res.lags, 1)
	return res
}

// quantile returns the q-th quantile of sorted lags (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// The fleet the costs are projected to, with the assumptions of configcheck
// cost's defaults: each pod starts 30 times and each secret changes once a
// month (of 30 days).
const (
	projReplicas = 200
	projSecrets  = 50
	projStarts   = 30
	projRotation = 1
	month        = 30 * 24 * time.Hour
	pricePer10k  = 0.05
	// SQS and SNS: $0.40 and $0.50 per million requests.
	sqsPricePer10k = 0.004
	snsPricePer10k = 0.005
)

// scale is how an operation's count grows from secrets to projSecrets: a
// batch reads 20 secrets, a listing page gates 10, a DescribeSecret checks
// one.
func scale(op string, secrets int) float64 {
	ceil := func(n, d int) float64 { return float64((n + d - 1) / d) }
	switch op {
	case secretsmanager.OpBatchGetSecretValue:
		return ceil(projSecrets, 20) / ceil(secrets, 20)
	case secretsmanager.OpListSecrets:
		return ceil(projSecrets, 10) / ceil(secrets, 10)
	}
	return float64(projSecrets) / float64(secrets)
}

// projected returns the Secrets Manager calls a month, by operation, of
// projReplicas pods reading projSecrets secrets, from what a run measured.
func (r result) projected() map[string]float64 {
	refreshes := float64(month) / float64(r.setup.ttl)
	out := map[string]float64{}
	for _, op := range ops {
		sc := scale(op, r.size.secrets)
		out[op] = projReplicas * (projStarts*r.starts[op]*sc + refreshes*r.perRefresh[op]*sc +
			projSecrets*projRotation*r.perChange[op])
	}
	return out
}

// projectedSQS returns the SQS requests a month of projReplicas pods with
// push: measured at start and per rotation, and, for what depends on time
// alone, one long poll every 20 seconds and a heartbeat tag every 5 minutes
// (push.DefaultWaitTime and push.DefaultHeartbeat), which a short run cannot
// measure.
func (r result) projectedSQS() float64 {
	if !r.setup.push {
		return 0
	}
	perReplica := projStarts*r.sqsStart + projSecrets*projRotation*r.sqsPerChange +
		float64(month/push.DefaultWaitTime) + float64(month/push.DefaultHeartbeat)
	return projReplicas * perReplica
}

// dollars returns the projected dollars a month of Secrets Manager calls and
// SQS and SNS requests (SNS: a subscription made and removed per start).
func (r result) dollars() float64 {
	var total float64
	for _, n := range r.projected() {
		total += n * pricePer10k / 10000
	}
	total += r.projectedSQS() * sqsPricePer10k / 10000
	if r.setup.push {
		total += projReplicas * projStarts * 2 * snsPricePer10k / 10000
	}
	return total
}

var ops = []string{secretsmanager.OpBatchGetSecretValue, secretsmanager.OpGetSecretValue,
	secretsmanager.OpDescribeSecret, secretsmanager.OpListSecrets}

// row renders a result as a line of the table in docs/performance.md.
func (r result) row() string {
	p := r.projected()
	byOp := ""
	for _, op := range ops {
		if n := r.calls[op]; n > 0 {
			byOp += fmt.Sprintf("%s %d, ", short(op), n)
		}
	}
	byOp = byOp[:max(0, len(byOp)-2)]
	total := 0.0
	for _, n := range p {
		total += n
	}
	return fmt.Sprintf("| %s | %s | %s | %d | %s | %s | $%.2f | %d | %s / %s / %s |",
		r.setup.name, r.setup.ttl, byOp, r.sqsRequests, millions(total), millions(r.projectedSQS()), r.dollars(), r.peakPerSec,
		round(r.lagP50), round(r.lagP99), round(r.lagMax))
}

func short(op string) string {
	return map[string]string{secretsmanager.OpBatchGetSecretValue: "Batch", secretsmanager.OpGetSecretValue: "Get",
		secretsmanager.OpDescribeSecret: "Describe", secretsmanager.OpListSecrets: "List"}[op]
}

func millions(n float64) string { return fmt.Sprintf("%.2f M", n/1e6) }

func round(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// header is the table's head.
const header = "| set-up | TTL | Secrets Manager calls in the run | SQS requests in the run | projected Secrets Manager calls / month | projected SQS requests / month | projected $ / month | peak requests / s | pickup p50 / p99 / max |\n|---|---|---|---|---|---|---|---|---|"

// percentile helpers for the checks.
func sortedCopy(d []time.Duration) []time.Duration {
	out := slices.Clone(d)
	slices.Sort(out)
	return out
}
