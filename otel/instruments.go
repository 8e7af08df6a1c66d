package strataotel

import (
	"errors"

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
	var err error
	in.staleness, err = m.Float64ObservableGauge("strata.config.staleness", metric.WithUnit("s"),
		metric.WithDescription("Time since the store's last successful refresh (or its load)."))
	errs = append(errs, err)
	in.healthy, err = m.Int64ObservableGauge("strata.config.healthy", metric.WithUnit("1"),
		metric.WithDescription("1 while the store is healthy, 0 while a refresh failure, a rejection or staleness makes it unhealthy."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(errors.New("strataotel: the meter refused an instrument"), err)
	}
	return &in, nil
}

func (in *instruments) observables() []metric.Observable {
	return []metric.Observable{in.attempts, in.failures, in.rejections, in.changes, in.calls, in.staleness, in.healthy}
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
// reports of itself: the instruments by layer go here.
func (in *instruments) observeLayer(obs metric.Observer, base attribute.Set, l config.LayerStatus) {
	for op, c := range l.Calls {
		for _, o := range [...]struct {
			outcome string
			n       int64
		}{{"ok", c.OK}, {"error", c.Error}} {
			obs.ObserveInt64(in.calls, o.n, metric.WithAttributeSet(with(base,
				LayerKey.String(l.Name), OperationKey.String(op), OutcomeKey.String(o.outcome))))
		}
	}
}

// byName merges the layers that share a name, summing their calls, so that
// no attribute set is observed twice in one collection. The order is that
// of each name's first layer.
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
	}
	return out
}

// with returns base with kvs added.
func with(base attribute.Set, kvs ...attribute.KeyValue) attribute.Set {
	return attribute.NewSet(append(base.ToSlice(), kvs...)...)
}
