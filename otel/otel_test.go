package strataotel_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	strataotel "github.com/strata-go/strata/otel"
)

type appCfg struct {
	Host     string        `validate:"required"`
	Password config.Secret `validate:"required,min=30"`
}

const goodPassword = "correct-horse-battery-staple-42"

// vault is a refreshable, sensitive layer whose next answer the test sets,
// counting its calls as a StatusReporter.
type vault struct {
	name    string
	mu      sync.Mutex
	vals    map[string]string
	version string
	err     error
	calls   map[string]config.CallCount
}

func newVault(name, password string) *vault {
	return &vault{name: name, vals: map[string]string{"host": "db.internal", "password": password}, version: "v1",
		calls: map[string]config.CallCount{"Describe": {}, "Read": {}}}
}

func (v *vault) Name() string  { return v.name }
func (*vault) Sensitive() bool { return true }
func (*vault) Load(context.Context, *config.Schema) (config.Values, error) {
	return nil, errors.New("the store calls Refresh")
}

func (v *vault) Refresh(_ context.Context, req config.RefreshRequest) (config.Update, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	d := v.calls["Describe"]
	defer func() { v.calls["Describe"] = d }()
	if v.err != nil {
		d.Error++
		return config.Update{}, v.err
	}
	d.OK++
	if req.Prev == v.version {
		return config.Update{}, nil
	}
	r := v.calls["Read"]
	r.OK++
	v.calls["Read"] = r
	vals := config.Values{}
	for k, raw := range v.vals {
		vals[k] = config.Value{Raw: raw, Source: config.Source{Layer: v.name, Location: "app/db#" + k, Version: v.version}}
	}
	return config.Update{Changed: true, Values: vals, State: v.version, Versions: map[string]string{"app/db": v.version}}, nil
}

func (v *vault) LayerStatus() config.LayerStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	return config.LayerStatus{Name: v.name, Calls: maps.Clone(v.calls)}
}

func (v *vault) set(password, version string, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.vals["password"], v.version, v.err = password, version, err
}

func load(t *testing.T, opts config.Options, layers ...config.Layer) (*config.Store[appCfg], *configtest.Clock) {
	t.Helper()
	clock := configtest.NewClock(time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC))
	opts.Clock, opts.Logger = clock, slog.New(slog.DiscardHandler)
	opts.RefreshInterval, opts.MinRefreshInterval, opts.RetryBackoff = time.Hour, time.Nanosecond, time.Hour
	s, err := config.Load[appCfg](t.Context(), &opts, layers...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clock
}

func newReader(t *testing.T) (*sdkmetric.ManualReader, *sdkmetric.MeterProvider) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return r, mp
}

func register(t *testing.T, mp *sdkmetric.MeterProvider, name string, s strataotel.StatusSource, opts *strataotel.Options) {
	t.Helper()
	reg, err := strataotel.Register(mp, name, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Unregister() })
}

// point is one data point, flattened for comparison: its instrument, its
// attributes ("k=v,k=v", sorted) and its value.
type point struct {
	metric, attrs string
	value         float64
}

// collected is one collection: the points and, by instrument name, its
// description of itself.
type collected struct {
	points []point
	meta   map[string]string // name -> "unit kind monotonic temporality"
	text   string            // every field of the collection, for searches
}

func collect(t *testing.T, r *sdkmetric.ManualReader) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	c := collected{meta: map[string]string{}, text: fmt.Sprintf("%+v", rm)}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != strataotel.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, strataotel.ScopeName)
		}
		for _, m := range sm.Metrics {
			if m.Description == "" {
				t.Errorf("%s has no description", m.Name)
			}
			c.addMetric(t, m)
		}
	}
	return c
}

func (c *collected) addMetric(t *testing.T, m metricdata.Metrics) {
	t.Helper()
	add := func(kind string, attrs attribute.Set, v float64) {
		c.points = append(c.points, point{m.Name, attrText(attrs), v})
		c.meta[m.Name] = m.Unit + " " + kind
	}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			add(fmt.Sprintf("sum monotonic=%t %s", d.IsMonotonic, d.Temporality), p.Attributes, float64(p.Value))
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			add("gauge", p.Attributes, float64(p.Value))
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			add("gauge", p.Attributes, p.Value)
		}
	default:
		t.Errorf("%s has data of type %T", m.Name, m.Data)
	}
}

func attrText(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.Emit())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// value returns the value of the one point of metric with attrs, failing
// when there is not exactly one.
func (c collected) value(t *testing.T, metric, attrs string) float64 {
	t.Helper()
	var found []float64
	for _, p := range c.points {
		if p.metric == metric && p.attrs == attrs {
			found = append(found, p.value)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s{%s}: %d points, want 1; all points: %v", metric, attrs, len(found), c.points)
	}
	return found[0]
}

func (c collected) has(metric string) bool {
	for _, p := range c.points {
		if p.metric == metric {
			return true
		}
	}
	return false
}

// want checks the values of the store's own instruments.
func (c collected) want(t *testing.T, attrs string, want map[string]float64) {
	t.Helper()
	for metric, v := range want {
		if got := c.value(t, metric, attrs); got != v {
			t.Errorf("%s{%s} = %v, want %v", metric, attrs, got, v)
		}
	}
}

const storeAttr = "strata.store=app"

func callAttr(layer, op, outcome string) string {
	return fmt.Sprintf("strata.layer=%s,strata.operation=%s,strata.outcome=%s,%s", layer, op, outcome, storeAttr)
}

// The library module requires no OpenTelemetry and keeps its Go version:
// only a service that imports this module pulls OpenTelemetry in.
func TestLibraryModuleRequiresNoOpenTelemetry(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod := string(b)
	if !strings.Contains(mod, "module github.com/strata-go/strata\n") {
		t.Fatalf("../go.mod is not the library's:\n%s", mod)
	}
	if strings.Contains(mod, "go.opentelemetry.io") || !strings.Contains(mod, "\ngo 1.24.0\n") {
		t.Errorf("the library's go.mod requires OpenTelemetry or left go 1.24.0:\n%s", mod)
	}
}

// watchingVault is a vault that watches: each call of Watch hands its
// config.Watch to the test and runs until the store closes.
type watchingVault struct {
	*vault
	watches chan config.Watch
}

func (v watchingVault) Watch(ctx context.Context, w config.Watch) error {
	v.watches <- w
	<-ctx.Done()
	return nil
}
