package strataotel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	strataotel "github.com/strata-go/strata/otel"
)

// Each instrument has its documented name, unit and kind, and follows the
// store's Status through a change, a failure and a rejection.
func TestInstrumentsFollowStatus(t *testing.T) {
	t.Parallel()
	v := newVault("vault", goodPassword)
	s, clock := load(t, config.Options{}, v)
	r, mp := newReader(t)
	register(t, mp, "app", s, nil)

	c := collect(t, r)
	wantMeta := map[string]string{
		"strata.config.refresh.attempts":   "{attempt} sum monotonic=true CumulativeTemporality",
		"strata.config.refresh.failures":   "{attempt} sum monotonic=true CumulativeTemporality",
		"strata.config.refresh.rejections": "{rejection} sum monotonic=true CumulativeTemporality",
		"strata.config.refresh.changes":    "{change} sum monotonic=true CumulativeTemporality",
		"strata.config.layer.calls":        "{call} sum monotonic=true CumulativeTemporality",
		"strata.config.staleness":          "s gauge",
		"strata.config.healthy":            "1 gauge",
	}
	for name, want := range wantMeta {
		if got := c.meta[name]; got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if len(c.meta) != len(wantMeta) {
		t.Errorf("instruments %v, want exactly %d", c.meta, len(wantMeta))
	}
	c.want(t, storeAttr, map[string]float64{"strata.config.refresh.attempts": 0, "strata.config.refresh.failures": 0,
		"strata.config.refresh.rejections": 0, "strata.config.refresh.changes": 0, "strata.config.staleness": 0,
		"strata.config.healthy": 1})
	c.want(t, callAttr("vault", "Read", "ok"), map[string]float64{"strata.config.layer.calls": 1})
	c.want(t, callAttr("vault", "Read", "error"), map[string]float64{"strata.config.layer.calls": 0})
	c.want(t, callAttr("vault", "Describe", "error"), map[string]float64{"strata.config.layer.calls": 0})

	// A change, then a permanent failure 90 s later.
	v.set(goodPassword+"-2", "v2", nil)
	clock.Advance(time.Second)
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	v.set(goodPassword+"-2", "v2", fmt.Errorf("vault app/db: %w", config.ErrAccessDenied))
	clock.Advance(90 * time.Second)
	_ = s.Refresh(t.Context())
	clock.Advance(500 * time.Millisecond)
	c = collect(t, r)
	c.want(t, storeAttr, map[string]float64{"strata.config.refresh.attempts": 2, "strata.config.refresh.failures": 1,
		"strata.config.refresh.rejections": 0, "strata.config.refresh.changes": 1, "strata.config.staleness": 90.5,
		"strata.config.healthy": 0})
	c.want(t, callAttr("vault", "Describe", "ok"), map[string]float64{"strata.config.layer.calls": 2})
	c.want(t, callAttr("vault", "Describe", "error"), map[string]float64{"strata.config.layer.calls": 1})
	c.want(t, callAttr("vault", "Read", "ok"), map[string]float64{"strata.config.layer.calls": 2})

	// A rejected change, the canary in it: counted, and never in any point.
	const canary = "CANARY-otel-91c2d7"
	v.set(canary, "v3", nil)
	clock.Advance(time.Second)
	_ = s.Refresh(t.Context())
	c = collect(t, r)
	c.want(t, storeAttr, map[string]float64{"strata.config.refresh.attempts": 3, "strata.config.refresh.rejections": 1,
		"strata.config.refresh.changes": 1, "strata.config.healthy": 0, "strata.config.staleness": 0})
	for _, form := range configtest.LeakForms(canary) {
		if strings.Contains(c.text, form) {
			t.Fatalf("the collection shows the canary (%q):\n%s", form, c.text)
		}
	}
}

// Two stores on one provider are told apart by strata.store; layers of one
// store that share a name are summed into one series; Options.Attributes
// are added to every point.
func TestStoresAndLayersAreToldApart(t *testing.T) {
	t.Parallel()
	a1, a2 := newVault("vault", goodPassword), newVault("vault", goodPassword)
	a, _ := load(t, config.Options{}, a1, a2)
	b, _ := load(t, config.Options{}, newVault("other", goodPassword))
	r, mp := newReader(t)
	register(t, mp, "app", a, nil)
	register(t, mp, "billing", b, &strataotel.Options{Attributes: []attribute.KeyValue{
		attribute.String("deployment", "green"), attribute.String("deployment", "blue")}})

	c := collect(t, r)
	c.want(t, callAttr("vault", "Read", "ok"), map[string]float64{"strata.config.layer.calls": 2})
	c.want(t, "deployment=blue,strata.store=billing", map[string]float64{"strata.config.healthy": 1})
	c.want(t, "deployment=blue,strata.layer=other,strata.operation=Read,strata.outcome=ok,strata.store=billing",
		map[string]float64{"strata.config.layer.calls": 1})
	for _, p := range c.points {
		if strings.Contains(p.attrs, "billing") != strings.Contains(p.attrs, "deployment=blue") {
			t.Errorf("%s{%s}: Options.Attributes not on exactly the points of its store", p.metric, p.attrs)
		}
	}
}

// A closed store is observed with its last status; after Unregister the
// store is observed no more.
func TestUnregisterStopsObserving(t *testing.T) {
	t.Parallel()
	s, _ := load(t, config.Options{}, newVault("vault", goodPassword))
	r, mp := newReader(t)
	reg, err := strataotel.Register(mp, "app", s, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	collect(t, r).want(t, storeAttr, map[string]float64{"strata.config.healthy": 1, "strata.config.refresh.attempts": 0})
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	if c := collect(t, r); len(c.points) != 0 {
		t.Errorf("points after Unregister: %v", c.points)
	}
}

// Register refuses what it cannot observe, with a message saying what is
// missing, instead of panicking at the first collection.
func TestRegisterRefusesBadArguments(t *testing.T) {
	t.Parallel()
	s, _ := load(t, config.Options{}, newVault("vault", goodPassword))
	var nilStore *config.Store[appCfg]
	var nilProvider *noopProvider
	cases := []struct {
		name  string
		mp    metric.MeterProvider
		store string
		src   strataotel.StatusSource
		opts  *strataotel.Options
		want  string
	}{
		{"nil provider", nil, "app", s, nil, "no MeterProvider"},
		{"nil provider pointer", nilProvider, "app", s, nil, "no MeterProvider"},
		{"nil source", noop.NewMeterProvider(), "app", nil, nil, "no store"},
		{"nil store", noop.NewMeterProvider(), "app", nilStore, nil, "no store"},
		{"empty name", noop.NewMeterProvider(), "", s, nil, "empty store name"},
		{"reserved attribute", noop.NewMeterProvider(), "app", s,
			&strataotel.Options{Attributes: []attribute.KeyValue{strataotel.LayerKey.String("spoof")}}, "Options.Attributes sets strata.layer"},
	}
	for _, tc := range cases {
		reg, err := strataotel.Register(tc.mp, tc.store, tc.src, tc.opts)
		if err == nil || reg != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Register = %v, %v; want an error saying %q", tc.name, reg, err, tc.want)
		}
	}
}

type noopProvider struct{ noop.MeterProvider }

// A layer that watches has its watch observed: connected, events, messages
// by outcome and the lag of the last change it announced.
func TestWatchIsObserved(t *testing.T) {
	t.Parallel()
	v := watchingVault{newVault("vault", goodPassword), make(chan config.Watch, 1)}
	s, clock := load(t, config.Options{}, v)
	r, mp := newReader(t)
	register(t, mp, "app", s, nil)
	w := <-v.watches
	layerAttr := "strata.layer=vault," + storeAttr

	c := collect(t, r)
	c.want(t, layerAttr, map[string]float64{"strata.config.watch.connected": 0, "strata.config.watch.events": 0})
	if c.has("strata.config.watch.lag") {
		t.Error("a lag is observed before any event")
	}

	changes := make(chan config.Change[appCfg], 4)
	defer s.Subscribe(func(c config.Change[appCfg]) { changes <- c })()
	v.set(goodPassword+"-2", "v2", nil)
	w.Notify(config.Event{Source: "app/db", Version: "v2", At: clock.Now().Add(-400 * time.Millisecond)})
	clock.Advance(20 * time.Millisecond) // the store's wait for more events to share the read
	if ch := <-changes; ch.Err != nil || len(ch.Keys) != 1 {
		t.Fatalf("change = %v, want the password", ch)
	}
	w.Report(config.WatchReport{Connected: true, Handled: 3, Ignored: 1, Malformed: 2})
	c = collect(t, r)
	c.want(t, layerAttr, map[string]float64{"strata.config.watch.connected": 1, "strata.config.watch.events": 1,
		"strata.config.watch.lag": 0.42})
	for outcome, n := range map[string]float64{"handled": 3, "ignored": 1, "malformed": 2} {
		c.want(t, "strata.layer=vault,strata.outcome="+outcome+","+storeAttr, map[string]float64{"strata.config.watch.messages": n})
	}
	if got := c.meta["strata.config.watch.lag"]; got != "s gauge" {
		t.Errorf("strata.config.watch.lag: %q", got)
	}
	if got := c.meta["strata.config.watch.messages"]; got != "{message} sum monotonic=true CumulativeTemporality" {
		t.Errorf("strata.config.watch.messages: %q", got)
	}

	w.Report(config.WatchReport{Err: fmt.Errorf("queue: %w", config.ErrAccessDenied), Handled: 3, Ignored: 1, Malformed: 2})
	collect(t, r).want(t, layerAttr, map[string]float64{"strata.config.watch.connected": 0})
}

// panickingSource is a StatusSource whose Status panics.
type panickingSource struct{}

func (panickingSource) Status() config.Status { panic("CANARY-otel-status") }

// A source whose Status panics fails that collection with an error naming
// the store and the panic's type, instead of ending the process on the
// reader's goroutine; other registrations are still observed.
func TestStatusThatPanics(t *testing.T) {
	t.Parallel()
	s, _ := load(t, config.Options{}, newVault("vault", goodPassword))
	r, mp := newReader(t)
	if _, err := strataotel.Register(mp, "bad", panickingSource{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := strataotel.Register(mp, "app", s, nil); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	err := r.Collect(context.Background(), &rm)
	if err == nil || !strings.Contains(err.Error(), `the Status of store "bad" panicked (a panic of type string)`) ||
		strings.Contains(err.Error(), "CANARY") {
		t.Errorf("Collect: %v", err)
	}
	if text := fmt.Sprintf("%+v", rm); !strings.Contains(text, "strata.config.healthy") {
		t.Errorf("the other store is not observed: %s", text)
	}
}
