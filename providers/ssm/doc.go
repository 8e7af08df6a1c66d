// Package ssm is a layer that reads AWS Systems Manager Parameter Store
// parameters: String, StringList and SecureString, by path or by name.
//
//	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
//	...
//	store, err := config.Load[Config](ctx, &config.Options{EnvPrefix: "APP_"},
//		env.New(nil),
//		ssm.New(awsCfg, nil,
//			ssm.Path("/my-app/production", "", nil),
//			ssm.Parameter("/shared/payments/stripe-key", "payments.stripe_key", nil)),
//	)
//
// # Specs and names
//
// Path reads every parameter under a path, recursively (GetParametersByPath,
// ten a page, at most Options.MaxPages pages). Names reads named parameters
// and Parameter one parameter (GetParameters, ten names a call, the calls in
// parallel, at most Options.Concurrency at once). Path and Names map the rest
// of a parameter's name, under their root, to a key one segment at a time,
// under the key they are given: /my-app/production/server/read_timeout is
// server.read_timeout. A segment that is not a key as written is read the way
// keys are derived from Go field names (config.SnakeCase) after hyphens
// become underscores: read-timeout, ReadTimeout and READ_TIMEOUT are all
// read_timeout. A parameter that maps to no field is a
// *config.UnknownNameError naming the parameter, with the closest parameter
// name that would map to one ("did you mean /my-app/production/server/addr?"),
// a warning unless config.Options.Strict or Options.StrictKeys. Two
// parameters of one spec that map to one key are an error naming both, and
// neither sets it. Parameter names are not secret; values are never shown.
//
// # Types and sensitivity
//
// A String is its text. A StringList is its items (split at the commas
// Parameter Store separates them with) for a list field, and its text for
// any other. A SecureString is read decrypted (WithDecryption) and its value
// is marked config.Value.Sensitive and config.Value.Secret: it may set a
// secret field, and it is never shown, not even in a field that is not
// secret (explain shows [REDACTED]; its JSON form gives the fingerprint).
// The layer itself is not Sensitive,
// so a String or StringList parameter that sets a secret field breaks the
// secret policy: a warning, or an error with config.Options.Production.
//
// # Provenance
//
// Each value's Source is Layer "ssm", Location the parameter's name and
// Version its version: "ssm /my-app/production/server/read_timeout
// (version 7)". Status reports the version of each parameter read, by name.
//
// # Refresh
//
// A Reader is a config.Refresher and keeps no state: what it read is the
// config.State the store keeps. A refresh asks for versions only:
// DescribeParameters with a Path filter for each Path (50 parameters a page)
// and with a Name filter for the named parameters (50 a call); it reads values
// (GetParameters) only of parameters whose version changed or that are new
// under a path. A refresh with nothing changed reads no value and rebuilds
// nothing. DescribeParameters is preferred to the versions in
// GetParametersByPath because it costs one call per 50 parameters instead of
// one per 10, and decrypts nothing.
//
// # Errors
//
// Every error is a *config.SourceError naming the parameter or path with one
// of the config sentinels: ErrNotFound (a missing parameter, or a path with
// nothing under it, unless SpecOptions.Optional), ErrAccessDenied (naming the
// missing IAM action and resource), ErrDecryption (a KMS key the caller may
// not use, or one that is disabled), ErrThrottled, ErrTransient (5xx,
// timeouts, broken connections, an expired page token), ErrCredentials,
// ErrLayer (a spec Parameter Store refuses: a name it would not store,
// before any call; ValidationException and the like from the call), and
// ErrMalformed for an answer that cannot be used: a parameter without a
// value, a version or a known type, a value over 8 KB, a name Parameter
// Store would not store (a control character, a space, over 1011
// characters; quoted escaped and cut to 64 bytes in the message, and never
// a parameter, a warning or a version in Status), a listing whose NextToken
// comes back to one given before (its pages would repeat), more pages than
// Options.MaxPages. A malformed answer is never a value: the parameter keeps
// the value it had, and a path whose listing failed keeps every parameter it
// had. An AWS error code the layer does not know keeps its code in the
// message and has no sentinel; the store treats it as permanent.
// The SDK's error text is never kept, as it may quote a response.
//
// # configcheck
//
// A Reader is a configcheck Permissioner (ssm:GetParameters,
// ssm:GetParametersByPath and ssm:DescribeParameters on the parameters it
// reads, kms:Decrypt on given keys), CostModeler (standard or higher
// throughput, Options.Throughput) and Locator. See docs/ssm.md.
package ssm
