package rehearsal

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/tests/internal/emu"
)

// Plan is the shape of one run.
type Plan struct {
	// Rotations is how many rotations to perform. Default: 20.
	Rotations int
	// Workers is how many goroutines run queries; the pool has as many
	// connections at most. Default: 8.
	Workers int
	// Pace is the time between the starts of two queries of one worker.
	// Default: 20ms.
	Pace time.Duration
	// ConnMaxLifetime of the pool, short so that new connections are dialled
	// throughout. Default: 200ms.
	ConnMaxLifetime time.Duration
	// Quiet is how long the load runs before the first rotation, to measure
	// the latency without rotations. Default: 300ms.
	Quiet time.Duration
	// Hold lengthens each rotation's window (see Rotator.Hold). Default: 50ms.
	Hold time.Duration
	// Gap is the time between two rotations, and the load's run after the
	// last. Default: 100ms.
	Gap time.Duration
	// FailurePause is how long a worker waits after a failed query before
	// its next one, as a caller backing off would; without it a service
	// whose every login fails dials as fast as the database refuses.
	// Default: 50ms.
	FailurePause time.Duration
	// QueryTimeout bounds each query. Default: 30s.
	QueryTimeout time.Duration
	// RefreshInterval and MinRefreshInterval of the store. Defaults: 5
	// minutes (config's default: longer than the run, so only a refresh
	// asked for makes the store see a rotation) and 20ms.
	RefreshInterval, MinRefreshInterval time.Duration
	// Logger of the store. Default: discard.
	Logger *slog.Logger
}

func (p Plan) withDefaults() Plan {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if p.Rotations <= 0 {
		p.Rotations = 20
	}
	if p.Workers <= 0 {
		p.Workers = 8
	}
	def(&p.Pace, 20*time.Millisecond)
	def(&p.ConnMaxLifetime, 200*time.Millisecond)
	def(&p.Quiet, 300*time.Millisecond)
	def(&p.Hold, 50*time.Millisecond)
	def(&p.Gap, 100*time.Millisecond)
	def(&p.FailurePause, 50*time.Millisecond)
	def(&p.QueryTimeout, 30*time.Second)
	def(&p.RefreshInterval, 5*time.Minute)
	def(&p.MinRefreshInterval, 20*time.Millisecond)
	if p.Logger == nil {
		p.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return p
}

// Result is what one run measured.
type Result struct {
	Strategy  Strategy
	Dialer    string
	Rotations int
	Elapsed   time.Duration
	// Queries and Failed count the load's queries during the whole run.
	Queries, Failed int64
	// Errors holds up to three distinct messages of failed queries.
	Errors []string
	// Dials counts the service's connection attempts.
	Dials DialCounts
	// ServerRefused is the logins of the service the database logged as
	// refused (the rotation function's own refusals taken out).
	ServerRefused int
	// Quiet and Rotating are the query latencies before the first rotation
	// and from the first rotation on.
	Quiet, Rotating Latency
	// StoreCalls are the service's Secrets Manager calls (the layer's count),
	// RotationCalls the rotation function's, ProxyCalls every call the proxy
	// received, by operation.
	StoreCalls    map[string]int64
	RotationCalls map[string]int
	ProxyCalls    map[string]int
	// DialerStats are the dialer's own counters, if it has any.
	DialerStats map[string]int64
}

// Latency summarises query latencies.
type Latency struct {
	N             int
	P50, P99, Max time.Duration
}

// AddedLatency is how much slower the slowest query under rotation was than
// the slowest query before the first rotation (0 if it was not slower).
func (r Result) AddedLatency() time.Duration { return max(0, r.Rotating.Max-r.Quiet.Max) }

// String renders the result in one paragraph.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s rotations, %s: %d rotations in %v\n", r.Strategy, r.Dialer, r.Rotations, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "  queries: %d, failed: %d\n", r.Queries, r.Failed)
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "    e.g. %s\n", e)
	}
	fmt.Fprintf(&b, "  connection attempts: %d, refused by the database: %d (server log: %d), other failures: %d, cut short at the end: %d\n",
		r.Dials.Attempts, r.Dials.Refused, r.ServerRefused, r.Dials.Failed, r.Dials.Cancelled)
	fmt.Fprintf(&b, "  latency before rotations: p50 %v, p99 %v, max %v (%d queries)\n", ms(r.Quiet.P50), ms(r.Quiet.P99), ms(r.Quiet.Max), r.Quiet.N)
	fmt.Fprintf(&b, "  latency under rotations:  p50 %v, p99 %v, max %v (%d queries); added to the slowest: %v\n",
		ms(r.Rotating.P50), ms(r.Rotating.P99), ms(r.Rotating.Max), r.Rotating.N, ms(r.AddedLatency()))
	fmt.Fprintf(&b, "  Secrets Manager calls: service %s; rotation function %s; proxy %s\n",
		formatCalls(r.StoreCalls), formatCalls(r.RotationCalls), formatCalls(r.ProxyCalls))
	if len(r.DialerStats) > 0 {
		fmt.Fprintf(&b, "  connector: %s\n", formatCalls(r.DialerStats))
	}
	return b.String()
}

func ms(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }

func formatCalls[N int | int64](m map[string]N) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Run loads a store from env's secret, opens a pool with d, runs the load
// and plan.Rotations rotations, and reports what happened.
func Run(ctx context.Context, env *Env, d Dialer, plan Plan) (Result, error) {
	plan = plan.withDefaults()
	specs := []secretsmanager.Spec{secretsmanager.JSON(env.SecretID, "database", nil)}
	if d.Pending {
		specs = append(specs, secretsmanager.JSON(env.SecretID, "database_pending",
			&secretsmanager.SpecOptions{Stage: secretsmanager.StagePending, Optional: true}))
	}
	layer := secretsmanager.NewWithClient(emu.Client(env.Proxy.URL()), nil, specs...)
	if d.RefreshInterval > 0 {
		plan.RefreshInterval = d.RefreshInterval
	}
	store, err := config.Load[Config](ctx, &config.Options{
		RefreshInterval: plan.RefreshInterval, MinRefreshInterval: plan.MinRefreshInterval, Logger: plan.Logger,
	}, layer)
	if err != nil {
		return Result{}, fmt.Errorf("rehearsal: load: %w", err)
	}
	defer store.Close()
	dials := &Dials{}
	db, err := d.Open(store, dials)
	if err != nil {
		return Result{}, fmt.Errorf("rehearsal: open the pool: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(plan.Workers)
	db.SetMaxIdleConns(plan.Workers)
	db.SetConnMaxLifetime(plan.ConnMaxLifetime)

	rot := &Rotator{Env: env, Hold: plan.Hold}
	serverBefore := env.PG.AuthFailures()
	res := Result{Strategy: env.Strategy, Dialer: d.Name}
	start := time.Now()
	l := startLoad(ctx, db, plan)
	err = rotate(ctx, rot, plan, l, &res)
	l.stop()
	res.Elapsed = time.Since(start)
	l.report(&res)
	res.Dials = dials.Counts()
	res.ServerRefused = env.PG.AuthFailures() - serverBefore - rot.Refused()
	res.StoreCalls = map[string]int64{}
	for op, c := range layer.Calls() {
		res.StoreCalls[op] = c.Total()
	}
	res.RotationCalls = rot.Calls()
	res.ProxyCalls = proxyCalls(env)
	if d.Stats != nil {
		res.DialerStats = d.Stats()
	}
	return res, err
}

func rotate(ctx context.Context, rot *Rotator, plan Plan, l *load, res *Result) error {
	if err := sleep(ctx, plan.Quiet); err != nil {
		return err
	}
	l.rotating.Store(true)
	for i := 0; i < plan.Rotations; i++ {
		if err := rot.Rotate(ctx); err != nil {
			return err
		}
		res.Rotations++
		if err := sleep(ctx, plan.Gap); err != nil {
			return err
		}
	}
	return nil
}

func proxyCalls(env *Env) map[string]int {
	out := map[string]int{}
	for _, op := range []string{"BatchGetSecretValue", "GetSecretValue", "DescribeSecret", "PutSecretValue",
		"UpdateSecretVersionStage", "GetRandomPassword", "ListSecrets"} {
		if n := env.Proxy.Calls(op); n > 0 {
			out[op] = n
		}
	}
	return out
}

// load is the running workers.
type load struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	rotating atomic.Bool

	mu      sync.Mutex
	quiet   []time.Duration
	rot     []time.Duration
	queries int64
	failed  int64
	errs    []string
}

func startLoad(ctx context.Context, db *sql.DB, plan Plan) *load {
	ctx, cancel := context.WithCancel(ctx)
	l := &load{cancel: cancel}
	for range plan.Workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.work(ctx, db, plan)
		}()
	}
	return l
}

func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

func (l *load) work(ctx context.Context, db *sql.DB, plan Plan) {
	tick := time.NewTicker(plan.Pace)
	defer tick.Stop()
	for {
		start := time.Now()
		rotating := l.rotating.Load()
		qctx, cancel := context.WithTimeout(ctx, plan.QueryTimeout)
		var n int
		err := db.QueryRowContext(qctx, Query).Scan(&n)
		cancel()
		if ctx.Err() != nil {
			return // stopped during the query: not counted
		}
		if err == nil && n != 100 {
			err = fmt.Errorf("the query counted %d rows, want 100", n)
		}
		l.record(rotating, time.Since(start), err)
		if err != nil && sleep(ctx, plan.FailurePause) != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (l *load) record(rotating bool, d time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries++
	if err != nil {
		l.failed++
		if msg := err.Error(); len(l.errs) < 3 && !slices.Contains(l.errs, msg) {
			l.errs = append(l.errs, msg)
		}
		return
	}
	if rotating {
		l.rot = append(l.rot, d)
	} else {
		l.quiet = append(l.quiet, d)
	}
}

func (l *load) report(r *Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Queries, r.Failed, r.Errors = l.queries, l.failed, slices.Clone(l.errs)
	r.Quiet, r.Rotating = summarise(l.quiet), summarise(l.rot)
}

func summarise(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return Latency{N: len(s), P50: at(0.50), P99: at(0.99), Max: s[len(s)-1]}
}
