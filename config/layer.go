package config

import "context"

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
//     error naming the failures; and a malformed answer is never a value;
//   - use the sentinels of this package (ErrTransient, ErrThrottled,
//     ErrNotFound, ...) in every error, so the store can tell transient
//     failures from permanent ones and decide when to try again;
//   - never put secret values in errors or logs, and never modify req.Prev.
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
