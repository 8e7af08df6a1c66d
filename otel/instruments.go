package strataotel

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/strata-go/strata/config"
)

// instruments are the observable instruments of one registration; see the
// package doc for what each reports.
type instruments struct {
	attempts, failures, rejections, changes metric.Int64ObservableCounter
	calls                                   metric.Int64ObservableCounter
	staleness                               metric.Float64ObservableGauge
	healthy                                 metric.Int64ObservableGauge
	// the watches of layers that push changes (config.Watcher)
	watchEvents, watchMessages metric.Int64ObservableCounter
	watchConnected             metric.Int64ObservableGauge
	watchLag                   metric.Float64ObservableGauge
}

func newInstruments(m metric.Meter) (*instruments, error) {
	var in instruments
	var errs []error
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	in.attempts = counter("strata.config.refresh.attempts", "{attempt}",
		"Refreshes of the store's refreshable layers started since it was loaded.")
	in.failures = counter("strata.config.refresh.failures", "{attempt}",
		"Refreshes that failed to read a layer; the store kept serving its last good configuration.")
	in.rejections = counter("strata.config.refresh.rejections", "{rejection}",
		"Refreshes whose rebuilt configuration failed decoding or validation and was not published.")
	in.changes = counter("strata.config.refresh.changes", "{change}",
		"Refreshes that published a configuration in which a value changed.")
	in.calls = counter("strata.config.layer.calls", "{call}",
		"API calls of each layer, by operation and outcome.")
	in.watchEvents = counter("strata.config.watch.events", "{event}",
		"Change notifications the store received from a layer's watch.")
	in.watchMessages = counter("strata.config.watch.messages", "{message}",
		"Messages a layer's watch received, by outcome: handled, ignored (about a source the store does not use), malformed.")
	fgauge := func(name, unit, desc string) metric.Float64ObservableGauge {
		g, err := m.Float64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	igauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		g, err := m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	in.staleness = fgauge("strata.config.staleness", "s",
		"Time since the store's last successful refresh (or its load).")
	in.healthy = igauge("strata.config.healthy", "1",
		"1 while the store is healthy, 0 while a refresh failure, a rejection or staleness makes it unhealthy.")
	in.watchConnected = igauge("strata.config.watch.connected", "1",
		"1 while a layer's watch receives events, 0 while it is broken or not connected.")
	in.watchLag = fgauge("strata.config.watch.lag", "s",
		"Time from the last change a watch announced to the publication of the configuration serving it.")
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("strataotel: the meter refused an instrument: %w", err)
	}
	return &in, nil
}

func (in *instruments) observables() []metric.Observable {
	return []metric.Observable{in.attempts, in.failures, in.rejections, in.changes, in.calls, in.staleness, in.healthy,
		in.watchEvents, in.watchMessages, in.watchConnected, in.watchLag}
}

// observe records one Status under the store's attributes base.
func (in *instruments) observe(obs metric.Observer, base attribute.Set, st config.Status) {
	store := metric.WithAttributeSet(base)
	obs.ObserveInt64(in.attempts, int64(st.Refreshes), store)
	obs.ObserveInt64(in.failures, int64(st.Failures), store)
	obs.ObserveInt64(in.rejections, int64(st.Rejected), store)
	obs.ObserveInt64(in.changes, int64(st.Changes), store)
	obs.ObserveFloat64(in.staleness, st.Staleness.Seconds(), store)
	healthy := int64(0)
	if st.Healthy {
		healthy = 1
	}
	obs.ObserveInt64(in.healthy, healthy, store)
	for _, l := range byName(st.Layers) {
		in.observeLayer(obs, base, l)
	}
}

// observeLayer records what one layer (the layers of one name, merged)
// reports of itself: its calls and its watch.
func (in *instruments) observeLayer(obs metric.Observer, base attribute.Set, l config.LayerStatus) {
	layer := LayerKey.String(l.Name)
	for op, c := range l.Calls {
		for _, o := range [...]outcome{{"ok", c.OK}, {"error", c.Error}} {
			obs.ObserveInt64(in.calls, o.n, metric.WithAttributeSet(with(base,
				layer, OperationKey.String(op), OutcomeKey.String(o.name))))
		}
	}
	w := l.Watch
	if w == nil {
		return
	}
	attrs := metric.WithAttributeSet(with(base, layer))
	connected := int64(0)
	if w.Connected {
		connected = 1
	}
	obs.ObserveInt64(in.watchConnected, connected, attrs)
	obs.ObserveInt64(in.watchEvents, int64(w.Events), attrs)
	for _, o := range [...]outcome{{"handled", int64(w.Handled)}, {"ignored", int64(w.Ignored)}, {"malformed", int64(w.Malformed)}} {
		obs.ObserveInt64(in.watchMessages, o.n, metric.WithAttributeSet(with(base, layer, OutcomeKey.String(o.name))))
	}
	if w.Lag != 0 { // measured once a change announced with a time is served
		obs.ObserveFloat64(in.watchLag, w.Lag.Seconds(), attrs)
	}
}

type outcome struct {
	name string
	n    int64
}

// byName merges the layers that share a name (summing their calls, see
// mergeWatch), so that no attribute set is observed twice in one
// collection. The order is that of each name's first layer.
func byName(layers []config.LayerStatus) []config.LayerStatus {
	var out []config.LayerStatus
	index := map[string]int{}
	for _, l := range layers {
		i, seen := index[l.Name]
		if !seen {
			index[l.Name] = len(out)
			out = append(out, config.LayerStatus{Name: l.Name, Calls: map[string]config.CallCount{}})
			i = len(out) - 1
		}
		for op, c := range l.Calls {
			sum := out[i].Calls[op]
			sum.OK += c.OK
			sum.Error += c.Error
			out[i].Calls[op] = sum
		}
		out[i].Watch = mergeWatch(out[i].Watch, l.Watch)
	}
	return out
}

// mergeWatch merges the watches of two layers of one name: connected only if
// both are, counts summed, the longer lag. It never modifies a or b.
func mergeWatch(a, b *config.WatchStatus) *config.WatchStatus {
	switch {
	case b == nil:
		return a
	case a == nil:
		c := *b
		return &c
	}
	m := *a
	m.Connected = a.Connected && b.Connected
	m.Events += b.Events
	m.Handled += b.Handled
	m.Ignored += b.Ignored
	m.Malformed += b.Malformed
	m.Lag = max(a.Lag, b.Lag)
	if b.LastEvent.After(a.LastEvent) {
		m.LastEvent = b.LastEvent
	}
	if m.Err == nil {
		m.Err = b.Err
	}
	return &m
}

// with returns base with kvs added.
func with(base attribute.Set, kvs ...attribute.KeyValue) attribute.Set {
	return attribute.NewSet(append(base.ToSlice(), kvs...)...)
}
