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

// A Refresher is a Layer whose values can change while the process runs, such as
// a Secrets Manager layer. The store calls Refresh on its refresh schedule; other
// layers are read once and cached.
//
// Refresh must be cheap when nothing changed: it reports changed == false and
// returns no values, and the store then skips the rebuild. When changed is true
// it returns the complete set of the layer's values, as Load would. An error
// means the refresh failed; the store keeps serving the last good snapshot. Use
// the sentinels of this package (ErrTransient, ErrThrottled, ErrNotFound, ...)
// in the error chain so the store can tell transient failures from permanent
// ones.
type Refresher interface {
	Layer
	Refresh(ctx context.Context, schema *Schema) (values Values, changed bool, err error)
}
