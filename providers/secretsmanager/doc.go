// Package secretsmanager is a Strata layer that reads configuration values
// from AWS Secrets Manager.
//
// A *Reader is the layer: it is built from an aws.Config, an *Options (nil
// for the defaults) and a list of specs, each naming a secret and the key its
// values go to, and passed to config.Load after the layers for non-sensitive
// values:
//
//	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
//	if err != nil {
//		return err
//	}
//	sm := secretsmanager.New(awsCfg, nil,
//		secretsmanager.JSON("my-app/production/database", "database", nil),
//		secretsmanager.String("my-app/production/stripe", "payments.stripe_key", nil),
//	)
//	store, err := config.Load[AppConfig](ctx, opts, env.New(nil), sm)
//
// Credentials come from the SDK's default chain (on AWS compute, the IAM role
// of the instance, task or function); the code never holds keys. Setting
// AWS_ENDPOINT_URL_SECRETS_MANAGER points the layer at a local emulator with
// no code change. NewWithClient takes any implementation of API instead, such
// as a wrapped client. Options set the concurrency, the per-call timeout,
// StrictKeys and a logger; the zero Options are the defaults.
//
// Every value this layer sets is recorded with its provenance: the layer
// "secretsmanager", the secret and JSON key ("my-app/production/database#password"),
// the VersionId and the stage. Values themselves never appear in errors or
// logs.
//
// # Specs
//
// A secret is named by its name, its ARN, or its ARN without the six random
// characters at the end (a partial ARN).
//
//   - JSON(id, key, opts) reads a secret holding a JSON object and mounts its keys
//     under key: {"host": ..., "password": ...} under "database" sets
//     database.host and database.password. Nested objects fill nested
//     sections. One API call fills every field.
//   - String(id, key, opts) puts the secret's whole text in one field.
//   - Binary(id, key, opts) puts the secret's bytes (SecretBinary) in a []byte,
//     string or config.Secret field; when key is not a field, the bytes must be
//     a JSON object and are mounted like JSON.
//   - Prefix(prefix, opts) finds secrets by name with ListSecrets: under
//     "my-app/production/", the secret "my-app/production/database/password"
//     sets database.password, and a JSON secret "my-app/production/database"
//     is mounted under database.
//
// Each spec reads AWSCURRENT unless its SpecOptions (nil for the defaults)
// give a Stage (AWSPREVIOUS during a rotation window, to read the old and new
// password side by side) or a VersionID. SpecOptions.Optional makes a spec
// whose secret or version does not exist (AWSPREVIOUS before the first
// rotation) set nothing instead of failing. Later specs override earlier ones
// key by key.
//
// # Errors
//
// Load returns the values it could read and one error joining every problem
// (errors.Join), so a misconfigured environment is fixed in one pass. Each
// failure to read a secret is a *config.SourceError with Layer
// "secretsmanager" and Source the secret id; errors.Is matches its code:
//
//   - config.ErrNotFound: no such secret (or no version with the stage or
//     VersionId asked for) in the client's region and endpoint.
//   - config.ErrAccessDenied: the message names the missing IAM action
//     (secretsmanager:GetSecretValue, secretsmanager:DescribeSecret,
//     secretsmanager:ListSecrets) and the secret's ARN or ARN pattern.
//   - config.ErrCredentials: the client has no AWS credentials that work
//     (the default chain found none, or their retrieval failed: the cause is a
//     *CredentialsError, with WithCredentialsHint), or Secrets Manager refused
//     the ones the call was signed with (expired, not valid for the account,
//     a signature that does not verify). The message says how to fix it.
//   - config.ErrDecryption: Secrets Manager could not decrypt the value, or
//     the secret's KMS key denied the caller: the caller needs kms:Decrypt on
//     that key.
//   - config.ErrDeleted: the secret is scheduled for deletion.
//   - config.ErrMalformed: the value is not valid JSON (the message gives the
//     byte offset of the syntax error, never the content), is not a JSON object
//     where one is needed, or is over the 65,536-byte limit; or the answer
//     has no value (a version with neither SecretString nor SecretBinary, or a
//     client that returned neither an answer nor an error), which is never
//     used as a value.
//   - config.ErrThrottled: calls were throttled; the message says "after N
//     attempts" (or "in 1 attempt", for a refresh, which sends each call once)
//     when the SDK's retryer gave up.
//   - config.ErrTransient: a 5xx answer, a timeout or a broken connection,
//     with the same count of attempts. A timeout says which deadline fired:
//     "no answer within 5s (Options.Timeout, the per-call deadline)", "no
//     answer before the caller's context deadline", or "the caller's context
//     deadline had passed before the call was sent".
//   - config.ErrLayer: the Reader has no API client (NewWithClient was given
//     nil or a typed nil, reported at the first read: "secretsmanager: no API
//     client"), or the client panicked during a call. The panic is recovered
//     in the goroutine of the call and reported as the failure of the secrets
//     it was reading; its value is never shown. Load and Refresh return only
//     once every goroutine they started has ended.
//
// config.IsTransient tells ErrThrottled and ErrTransient from the permanent
// ones. The SDK's error is not kept in the chain, since its message may quote
// the request or a response body: SourceError.Err is a clean cause naming the
// operation, the API error code (its ErrorCode method, as smithy.APIError
// has), the HTTP status and the SDK error's Go type, and it unwraps to
// context.Canceled or context.DeadlineExceeded when the call was cut short.
// The debug lines of Options.Logger give the same clean cause, never the
// SDK's message.
//
// A call is never sent on a done context, even to a client that would answer
// it (a caching wrapper): it fails with the context's error, mapped as above.
// A call cancelled by the caller's context is "interrupted", and the store
// reports the interruption of the layer once. SourceError.Keys names the key
// the spec mounts (a field, a section, or "" for a prefix whose listing
// failed), so the store reports the fields a failed source left unset once,
// with it.
//
// A key of a JSON secret, or the path of a secret found under a Prefix, that
// maps to no field is a *config.UnknownNameError warning with the closest
// known key, or, with Options.StrictKeys, an error matching
// config.ErrMalformed. Such a key is part of the secret's content, so it is
// shown nowhere (see config.Schema.UnknownSecretKey): not in the error, not in
// its Source (whose Location is the secret's name, without "#key"), not in
// logs. The error names the secret. A spec's own key (String's key that is no
// field) is the program's and is named.
//
// # Refresh
//
// The layer is a config.Refresher. Refresh asks DescribeSecret which version
// holds AWSCURRENT (or the spec's stage) and reads the value again only
// when that version is not the one in use; secrets pinned to a VersionId are
// never read again. Prefix specs are listed again, and a secret added or
// removed under the prefix is a change. When nothing changed, Refresh returns
// changed == false and the store skips its rebuild. A secret that cannot be
// checked or fetched, or whose new version does not parse (invalid JSON, over
// the size limit), keeps its last good value and version and is reported in
// the error, without holding back the rotation of the others: Refresh then
// returns the changed values together with that error. Versions reports the
// VersionId in use for each secret.
//
// With Options.ListGate set to ListGateAuto, as it is by default with
// Options.Push, a scheduled refresh (not one
// Store.Refresh asked for, nor one that push events caused) checks the
// secrets read by id with ListSecrets instead when that takes fewer calls:
// their names in name filters of up to 10, one listing per 10 secrets, whose
// entries carry each secret's versions. Only a secret whose listed AWSCURRENT
// version is not the one in use (or that the listing does not show) is then
// checked with DescribeSecret, and read only if DescribeSecret confirms the
// move, so a listing never brings back an older version. ListSecrets may not
// show changes of the last few minutes, so a gated refresh may see a rotation
// one refresh later. A listing that fails leaves its secrets to
// DescribeSecret in that refresh; one refused for good (access denied) turns
// the gate off.
//
// # Push
//
// With Options.Push (a feed of package push) the layer is a config.Watcher:
// its Watch long-polls an SQS queue fed with the Secret Label Updated events
// of EventBridge and tells the store of each move of AWSCURRENT of a secret
// it reads, and the store polls only hourly (config.Options.WatchInterval)
// while the watch is connected. A read those events cause reads only the
// secrets they name, by stage, keeping every other at its version, and never
// goes back to a version a source moved away from: an event for the version
// served, or a late one for a version left since, costs no call, and a read
// lagging behind a move is not taken; a read not yet giving the announced
// version is made again, 4 reads within about 2 seconds. Without Push, Watch
// returns nil at once and the store polls.
//
// # Cost
//
// Secrets Manager bills per API call ($0.05 per 10,000) and limits requests
// per second per account: BatchGetSecretValue 100, GetSecretValue 10,000,
// DescribeSecret 40,000, ListSecrets 100. Load reads each secret once however
// many specs or fields it feeds (a secret named two ways, by name and by
// ARN, is read twice): secrets that read AWSCURRENT go in
// BatchGetSecretValue calls of up to 20, in parallel, so N secrets cost
// ceil(N/20) calls (a lone secret uses GetSecretValue, which costs the same
// and has the larger quota). A secret pinned to a stage or version costs one
// GetSecretValue. When the batch call is refused (the caller lacks
// secretsmanager:BatchGetSecretValue, the endpoint does not offer it, or it
// is throttled) the layer reads each secret with GetSecretValue instead, at
// most Options.Concurrency at a time; a refusal other than throttling is
// remembered, so later loads go straight to GetSecretValue. A Prefix spec
// adds one ListSecrets call per 100 secrets.
//
// A refresh with no change costs one DescribeSecret per secret read by id
// (with ListGateAuto, the default with Push, one ListSecrets page per 10 of
// them instead) and the
// ListSecrets pages of each prefix. Calls reports every API call by
// operation and outcome (a config.CallCount per operation, the same map as
// LayerStatus().Calls), so the cost can be checked in tests and metrics.
//
// # koanf
//
// Reader.Provider returns a koanf.Provider over the specs, for programs that
// use koanf without a schema: Read returns the nested map, ReadBytes the same
// tree as one JSON document, and each read is bounded by
// KoanfOptions.Timeout (30 seconds by default), since koanf passes no
// context.
package secretsmanager
