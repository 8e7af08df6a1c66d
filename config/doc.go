// Package config loads a service's configuration into one typed struct from
// ordered layers (defaults from struct tags, .env files, the environment, a
// secret store such as AWS Secrets Manager), validates it, and keeps it up to
// date while the service runs, without ever printing a secret value.
//
// A service declares its configuration once, as a struct with tags, and loads
// it at start-up:
//
//	type Config struct {
//		Server struct {
//			Addr        string        `default:":8080" validate:"required"`
//			ReadTimeout time.Duration `default:"5s"`
//		}
//		Database struct {
//			Host     string        `validate:"required,hostname"`
//			Password config.Secret `validate:"required,min=12"`
//		}
//	}
//
//	store, err := config.Load[Config](ctx, &config.Options{EnvPrefix: "APP_"},
//		dotenv.File(".env", &dotenv.Options{Optional: true}),
//		env.New(nil),
//		secretsmanager.New(awsCfg, nil, secretsmanager.JSON("my-app/production/database", "database", nil)),
//	)
//	if err != nil {
//		return err // every problem at once, never a secret value
//	}
//	defer store.Close()
//	cfg := store.Get() // one atomic load, never nil
//
// Get returns the current snapshot, which is never modified: call it each
// time a value is needed rather than keeping the pointer, to see refreshes.
//
// # Layers
//
// A Layer supplies values keyed by field key, each with its Source. Load
// starts from the default tags and applies the layers in the order given; a
// later layer overrides an earlier one key by key. The merged values are then
// decoded strictly into a new T and checked with the validate tags
// (go-playground/validator; for custom rules register them on NewValidator and pass it as Options.Validator). The
// providers packages hold the .env, environment and Secrets Manager layers;
// Static and StaticSecrets are layers of fixed values, and providers/koanf
// wraps any koanf provider (config itself does not import koanf). Store.Explain, Store.Keys and Store.Masked tell which layer
// set each value and where (".env:12", "env APP_DATABASE_HOST", a secret and
// JSON key with its version).
//
// # Naming
//
// Every name comes from the struct. A field's key is its path of snake_case
// segments, "server.read_timeout" (a config:"name" tag renames a segment,
// config:"-" skips the field, embedded structs are flattened into their
// parent). Its environment name is Options.EnvPrefix followed by the key in
// upper case with "_" for ".", APP_SERVER_READ_TIMEOUT, or exactly the name in
// an env:"NAME" tag. Of two fields with one key, the one promoted through
// fewer embedded structs wins, and at equal depth the one named by a config
// tag, as in encoding/json; two fields the rule does not separate, and two
// fields with one environment name, are an ErrSchema error. A name under the prefix that maps to no field (a typo such as
// APP_DATABSE_HOST) is an *UnknownNameError naming the closest known name: a
// warning, returned by Store.Warnings and logged, or an error with
// Options.Strict. See SchemaFor, SnakeCase and EnvName.
//
// # Secrets
//
// A field is secret when its type can hold a Secret anywhere (*Secret,
// []Secret, map[string]Secret, a struct embedding Secret, a type with
// UnmarshalText holding one) or when it, or a struct holding it, is tagged
// secret:"true". A type defined from Secret (type P config.Secret) has none of
// its methods and is an ErrSchema error; embed Secret instead. A Secret
// prints [REDACTED] in every fmt verb, JSON, text and slog; Reveal returns the
// value. No error (nor any error in its Unwrap chain), warning, log line,
// KeyInfo or MaskedConfig of this package contains the value of a secret
// field or any part of it (a map key, an item), and a decode error never
// quotes a value that came from a sensitive layer or that its layer marked
// secret or sensitive (Value.Secret, Value.Sensitive). Nor do they name a key that a sensitive layer gave
// and that maps to no field (see Schema.UnknownSecretKey), or the key of a
// map entry from a sensitive layer. Explain shows a value that does not
// decode as [REDACTED]. Every exported type that holds values or reaches
// them (Store, Change, Status, KeyInfo, MaskedConfig, Options, Value, Values,
// Update, RefreshRequest, Schema, Field and the error types) implements
// fmt.Formatter for every verb, slog.LogValuer and json.Marshaler in a
// redacted form; Fingerprint gives a short keyed hash
// to compare values instead (it can confirm a guess of a weak secret, so it is
// for comparison only). Each layer says whether it is Sensitive, and a layer
// that is not may mark single values Sensitive (an SSM SecureString among
// String parameters): a secret field set by a value that is neither (from
// defaults, .env, the plain environment) is an ErrSecretPolicy warning, or an
// error with Options.Production.
//
// # Errors
//
// Load reports every problem at once in an *AggregateError: values that do
// not decode and rules that fail (*FieldError, naming the key, the environment
// name and the source, such as
// "database.port must be at most 65535 (APP_DATABASE_PORT from .env:4)" or
// "(env APP_DATABASE_PORT)"), unknown names with Options.Strict,
// secret-policy findings with Options.Production, sources that could not be
// read (*SourceError, once for the fields it left unset), and layers that are
// nil, panicked or returned an error that panics when printed (ErrLayer, by
// position and name, never the panic's text).
// Warnings follow the errors in AggregateError.Warnings. Each wraps a
// sentinel for errors.Is: ErrInvalidValue, ErrValidation, ErrUnknownName,
// ErrSecretPolicy, ErrSchema, ErrLayer, and for sources ErrNotFound,
// ErrAccessDenied, ErrCredentials, ErrDecryption, ErrDeleted, ErrMalformed, ErrThrottled and
// ErrTransient. IsTransient tells the failures worth retrying soon.
//
// # Refresh
//
// When a layer is a Refresher (the Secrets Manager layer is), the store asks
// it every Options.RefreshInterval (default 5 minutes, jittered by ±10 %)
// whether anything changed. Only then does it rebuild from the cached values
// of the other layers plus the new ones, decode and validate, and publish the
// result with one atomic store, so a reader sees the old configuration or the
// new one, never a mix. A result that does not decode or validate is rejected:
// the store keeps serving the last good snapshot, keeps the layer that brought
// it on its last good values, and reports the rejection in Store.Status (and
// from Store.Refresh) until that layer changes again. A change from one source is
// published even when another source fails in the same refresh; the failing
// source keeps its last good value. One schedule decides every read, whoever
// asks: transient failures are retried after Options.RetryBackoff, doubling
// until it reaches the interval, then at the interval; permanent ones at the
// next interval; and no two reads start within Options.MinRefreshInterval.
// Store.Refresh waits for a read that starts after it was called,
// Store.Subscribe reports changes and failures (merged while a subscriber is
// busy), and Options.Lazy refreshes from Get without a background goroutine,
// for AWS Lambda. A layer that is a Watcher pushes changes as they happen
// (the Secrets Manager layer fed by an SQS queue): the store reads that layer
// alone at once, and polls only every Options.WatchInterval (default 1 hour)
// while the watch is connected. Close stops everything the store started. See
// docs/refresh.md.
package config
