// Package strataotel exports a configuration store's Status as OpenTelemetry
// metrics. It is a module of its own (github.com/strata-go/strata/otel), so
// the config package and every service that does not want OpenTelemetry
// import none of it.
//
//	reg, err := strataotel.Register(otel.GetMeterProvider(), "app", store, nil)
//	if err != nil {
//		return err
//	}
//	defer reg.Unregister()
//
// Register creates observable instruments on the meter ScopeName of the
// provider and one callback that reads the store's Status once per
// collection: nothing is recorded between collections, and the store runs no
// code for metrics unless a reader collects. Every observation carries the
// attribute strata.store with the name given (plus Options.Attributes); the
// calls of a layer also carry strata.layer, strata.operation and
// strata.outcome, the watch of a layer strata.layer (and strata.outcome for
// its messages).
//
// # Instruments
//
//	strata.config.refresh.attempts    counter {attempt}    refreshes started (Status.Refreshes; the load at start-up is not one)
//	strata.config.refresh.failures    counter {attempt}    refreshes that failed to read a layer (Status.Failures)
//	strata.config.refresh.rejections  counter {rejection}  refreshes whose rebuilt config failed decoding or validation (Status.Rejected)
//	strata.config.refresh.changes     counter {change}     refreshes that published a snapshot with a changed value (Status.Changes)
//	strata.config.layer.calls         counter {call}       API calls of each layer (Status.Layers[i].Calls), by layer, operation and outcome (ok, error)
//	strata.config.staleness           gauge   s            time since the last successful refresh or the load (Status.Staleness)
//	strata.config.healthy             gauge   1            1 while Status.Healthy, 0 otherwise
//
// For each layer that watches (a config.Watcher, Status.Layers[i].Watch set),
// by layer:
//
//	strata.config.watch.connected     gauge   1            1 while the watch receives events (WatchStatus.Connected)
//	strata.config.watch.events        counter {event}      change notifications the store received from it (WatchStatus.Events)
//	strata.config.watch.messages      counter {message}    messages it received, by outcome: handled, ignored, malformed
//	strata.config.watch.lag           gauge   s            from the last change it announced to the publication serving it (WatchStatus.Lag)
//
// The lag is observed once a change announced with a time has been published;
// it is the last such change's, not a distribution. The messages are counted
// by the watch since it last started: a watch that broke and was started
// again may start them from 0, which a backend reads as a counter reset.
//
// The counters are cumulative from the store's Load and monotonic. A layer
// shared by several stores counts its calls once for all of them, so each
// store reports the same calls for it; layers of one store that share a name
// are merged into one series (counts summed; a watch connected only if every
// one is, the longest lag). Both outcomes of every operation a layer
// reports are observed, at 0 if need be, so a rate over them exists from the
// first collection. No observation carries a value of the configuration or
// the text of an error, only names and counts.
//
// Give each store registered on one MeterProvider its own name: two
// registrations of one name make duplicate observations, which OpenTelemetry
// leaves undefined.
package strataotel

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/strata-go/strata/config"
)

// ScopeName is the name of the meter (the instrumentation scope) the
// instruments are created on.
const ScopeName = "github.com/strata-go/strata/otel"

// The attributes of the observations.
const (
	// StoreKey names the store, as given to Register. It is on every observation.
	StoreKey = attribute.Key("strata.store")
	// LayerKey is a layer's Name ("secretsmanager"), on strata.config.layer.calls
	// and strata.config.watch.*.
	LayerKey = attribute.Key("strata.layer")
	// OperationKey is the operation of a layer's calls ("DescribeSecret").
	OperationKey = attribute.Key("strata.operation")
	// OutcomeKey is "ok" for calls that returned a response, "error" for the
	// others; for a watch's messages "handled", "ignored" or "malformed".
	OutcomeKey = attribute.Key("strata.outcome")
)

// A StatusSource reports a store's status; every *config.Store[T] is one.
// Status must be safe for concurrent use: it is called once per collection,
// from the goroutine of the reader that collects.
type StatusSource interface {
	Status() config.Status
}

// Options tunes Register. The zero value (or nil) is valid.
type Options struct {
	// Attributes are added to every observation (a deployment, a tenant).
	// They may not use the keys Register sets (StoreKey, LayerKey,
	// OperationKey, OutcomeKey); of a key given twice, the last value counts.
	// Default: none.
	Attributes []attribute.KeyValue
}

// Register creates the instruments on mp's meter ScopeName and registers a
// callback that observes s.Status() under the name store. Unregister the
// returned registration to stop (a Close of the store does not: a closed
// store is observed with its last status). It fails, registering no
// callback, when mp or s is nil, when store is empty, when Options.Attributes
// sets a key of Register's own, and when the meter refuses an instrument or
// the callback. A collection at which s.Status panics observes nothing for
// s and returns an error naming store and the panic's type (never its text).
func Register(mp metric.MeterProvider, store string, s StatusSource, opts *Options) (metric.Registration, error) {
	switch {
	case isNil(mp):
		return nil, errors.New("strataotel: Register was given no MeterProvider")
	case isNil(s):
		return nil, errors.New("strataotel: Register was given no store (a nil StatusSource)")
	case store == "":
		return nil, errors.New("strataotel: Register was given an empty store name; name each store registered on one MeterProvider differently")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	for _, kv := range o.Attributes {
		switch kv.Key {
		case StoreKey, LayerKey, OperationKey, OutcomeKey:
			return nil, fmt.Errorf("strataotel: Options.Attributes sets %s, which Register sets itself", kv.Key)
		}
	}
	meter := mp.Meter(ScopeName)
	inst, err := newInstruments(meter)
	if err != nil {
		return nil, err
	}
	base := attribute.NewSet(append(slices.Clone(o.Attributes), StoreKey.String(store))...)
	reg, err := meter.RegisterCallback(func(_ context.Context, obs metric.Observer) (err error) {
		// The SDK does not recover a callback's panic, which would end the
		// process on the reader's goroutine: a source whose Status panics
		// fails the collection instead, named by its type only.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("strataotel: the Status of store %q panicked (a panic of type %T); nothing was observed for it", store, r)
			}
		}()
		inst.observe(obs, base, s.Status())
		return nil
	}, inst.observables()...)
	if err != nil {
		return nil, fmt.Errorf("strataotel: the meter refused the callback: %w", err)
	}
	return reg, nil
}

// isNil reports whether v is nil or holds a nil pointer, map, func or
// channel, on which a method call would panic.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Interface, reflect.Slice:
		return rv.IsNil()
	}
	return false
}
