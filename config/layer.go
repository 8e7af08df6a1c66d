package config

import (
	"context"
	"time"
)

// A Layer supplies values for some of the fields of a schema. Layers are applied
// in the order given to Load after the defaults from struct tags; a later layer
// overrides an earlier one key by key.
//
// Load must return promptly when ctx is done. It returns every value it could
// read together with an error that joins every problem it found (see
// errors.Join); problems of type *UnknownNameError are warnings unless
// Options.Strict is set, so a layer should keep reading after one. Load must not
// put secret values in errors or logs.
//
// Load may be called more than once (on refresh) and from a goroutine other than
// the one that called config.Load, but never concurrently with itself for one
// store.
type Layer interface {
	// Name is the layer's kind, used in sources and messages: "env", "dotenv",
	// "secretsmanager".
	Name() string
	// Sensitive reports whether the layer is a proper home for secrets. A secret
	// field set by a layer that is not sensitive breaks the secret policy.
	Sensitive() bool
	// Load reads the layer's values for schema.
	Load(ctx context.Context, schema *Schema) (Values, error)
}

// A Refresher is a Layer whose values can change while the process runs, such
// as a Secrets Manager layer. It is stateless: what it read last (the versions
// in use, the values they gave) is a State that the store keeps, one per layer
// per store, and hands back on the next call. So one Refresher value can serve
// any number of stores, and a version the store rejected is never taken for
// one in use.
//
// The store never calls Load of a Refresher. It calls Refresh with a nil
// req.Prev once, when the store is built, and that call reads every source
// like Load would. After that it calls Refresh on its refresh schedule with
// req.Prev set to the State of the values it serves; it commits the State of
// an Update only once the snapshot rebuilt from its Values is accepted, and
// otherwise passes the old State again next time.
//
// Refresh must:
//   - return promptly when ctx is done;
//   - be cheap when nothing changed since req.Prev: return an Update with
//     Changed false, no Values, and a nil error;
//   - when something changed, return Changed true, the complete set of the
//     layer's values (as Load would) and the State they were read with;
//   - keep a source that cannot be read (a failed call, a malformed answer)
//     at its value and version in req.Prev, and report it in the error: so a
//     refresh where some sources changed and others failed returns the
//     changed set, with the failed ones at their previous values, and an
//     error naming the failures; and a malformed answer is never a value
//     (an Update with Changed and no Values that comes with a failure is
//     taken as no change);
//   - use the sentinels of this package (ErrTransient, ErrThrottled,
//     ErrNotFound, ...) in every error, so the store can tell transient
//     failures from permanent ones and decide when to try again;
//   - never put secret values in errors or logs, and never modify req.Prev.
//     (The store replaces an error whose text holds the value of a secret
//     field, one it serves or one the Update brings, by one naming the
//     layer and the error's type; a layer must not count on it.)
//
// Refresh may be called from any goroutine, concurrently for different
// stores; the store never calls it concurrently with itself for one store.
// A call that has not returned shortly after its ctx ended is abandoned: the
// store reports the layer as failing, and calls it again only once that call
// has returned.
type Refresher interface {
	Layer
	Refresh(ctx context.Context, req RefreshRequest) (Update, error)
}

// State is a Refresher's record of what it read, such as the version of each
// secret and the values it gave. It is opaque to the store, which keeps it and
// passes it back; the layer must never modify a State it returned.
type State any

// RefreshRequest is what the store gives a Refresher. Fields may be added.
type RefreshRequest struct {
	// Schema is the store's schema.
	Schema *Schema
	// Prev is the State of the values the store serves from this layer, or
	// nil on the first call.
	Prev State
	// Events lists what the layer's Watch notified, on a read the watch
	// caused; nil on every other read (the schedule's, Store.Refresh's, the
	// first), which must read every source. The layer may read just the
	// sources the events name, keeping every other source at its value and
	// version in Prev.
	Events []Event
	// OnDemand is true when Store.Refresh asked for this read (the caller has
	// a reason to believe a source changed, such as a login that failed) and
	// on the read after a watch connected again after it was away (it may
	// have missed events):
	// the layer should not trust a cheap check that may lag behind the
	// source, such as a listing that is eventually consistent.
	OnDemand bool
}

// Update is what a Refresher read.
type Update struct {
	// Changed is false when nothing changed since the request's Prev; the
	// other fields are then ignored and the store keeps Prev.
	Changed bool
	// Values is the complete set of the layer's values when Changed.
	Values Values
	// State is the State Values were read with, to pass as Prev once they
	// are accepted.
	State State
	// Versions maps each versioned source to the version Values hold, for
	// Status (Status.Layers[i].Versions). Nil for unversioned layers.
	Versions map[string]string
}

// A Watcher is a Refresher that learns of changes as they happen, such as the
// Secrets Manager layer fed by an SQS queue, so the store need not poll often.
//
// The store calls Watch on a goroutine of its own once it is built (not in
// Options.Lazy mode), with a context that ends when the store closes, and
// Watch runs until then. Watch returning nil before that means the layer has
// nothing to watch (push is not configured): the store just polls. Watch
// returning an error means the watch broke: the store polls at
// Options.RefreshInterval and calls Watch again after a backoff
// (Options.RetryBackoff doubled up to RefreshInterval, ±10 %; the doubling
// starts again only after a watch that stayed connected for RefreshInterval,
// so a watch that connects and fails at once keeps backing off). While every
// watch reports itself connected the store polls at Options.WatchInterval
// instead, a safety net behind the events. As with Refresh, Watch is called
// once per store, so one layer value may watch for any number of stores, and
// must return promptly once its context ends.
type Watcher interface {
	Refresher
	Watch(ctx context.Context, w Watch) error
}

// Watch is what the store gives a Watcher.
type Watch struct {
	// Schema is the store's schema.
	Schema *Schema
	// Notify tells the store that a source changed. The store reads the
	// layers notified alone, at once, with the events in
	// RefreshRequest.Events: notifications that arrive within 20 ms, or while
	// a read is in flight, share one read. Such reads are held back by
	// neither RefreshInterval nor MinRefreshInterval, but start at least a
	// second apart (a flood of events costs one read a second), and leave
	// the schedule of complete reads as it was. Notify never blocks and is
	// safe for concurrent use.
	Notify func(Event)
	// Report records the watch's health, shown in Status; call it whenever
	// the health changes. Safe for concurrent use. A report made after this
	// call of Watch returned is ignored: the store records the error Watch
	// returned, and the next call reports afresh.
	Report func(WatchReport)
}

// Event is a change a watch learned of.
type Event struct {
	// Source names the changed source as the layer's Update.Versions do
	// (a secret's id); "" means any source of the layer may have changed.
	Source string
	// Version is the version the event announces, if it names one.
	Version string
	// At is when the change happened at the source (the event's time), or
	// zero if unknown; the store measures push lag from it.
	At time.Time
}

// WatchReport is a watch's health as the watch sees it.
type WatchReport struct {
	// Connected is true while the watch receives events.
	Connected bool
	// Err says why the watch is not connected; nil when it is. It never
	// contains a secret value.
	Err error
	// LastEvent is when the watch last received an event.
	LastEvent time.Time
	// Handled, Ignored and Malformed count the messages the watch received
	// since it started: those it notified, those about sources the store
	// does not use, and those it could not parse.
	Handled, Ignored, Malformed int
}
