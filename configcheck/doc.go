// Package configcheck is the logic of the configcheck command: it checks the
// configuration of a service built on the config package before a deploy, with
// exit codes and output formats made for CI.
//
// A service embeds it for its own configuration type in a few lines, so that
// `myservice configcheck validate` checks exactly the struct and the layers
// the service uses. Give it the function the service's main loads with (a
// Setup: from an environment name to the *config.Options and the layers
// passed to config.Load), so the two cannot drift apart:
//
//	func setup(ctx context.Context, environment string) (*config.Options, []config.Layer, error) {
//		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
//		if err != nil {
//			return nil, nil, err
//		}
//		return &config.Options{EnvPrefix: "APP_", Production: configcheck.IsProduction(environment)},
//			[]config.Layer{
//				dotenv.File(".env", &dotenv.Options{Optional: true}),
//				env.New(nil),
//				secretsmanager.New(awsCfg, nil, secretsmanager.JSON("my-app/"+environment+"/database", "database", nil)),
//			}, nil
//	}
//
//	func main() {
//		if len(os.Args) > 1 && os.Args[1] == "configcheck" {
//			os.Exit(configcheck.Main[AppConfig](context.Background(), os.Args[2:], configcheck.Options{
//				Name:  "myservice configcheck",
//				Setup: setup,
//			}))
//		}
//		// opts, layers, err := setup(ctx, environment)
//		// store, err := config.Load[AppConfig](ctx, opts, layers...)
//	}
//
// # Subcommands
//
//   - validate (the default): load every layer as the service would and report
//     every problem at once.
//   - explain [key...]: each key with its value (secrets masked, with a
//     fingerprint), and the layer and place that set it.
//   - env: a Markdown reference of every setting, or a .env.example.
//   - lint: unknown names, secrets in layers that are not sensitive, a file
//     a layer reads that others may read or git tracks, defaults that fail
//     validation.
//   - diff a.json b.json: two environments compared, from the JSON output of
//     explain; secrets by fingerprint only.
//   - cost: API calls and dollars a month for a fleet, and polling,
//     listing-gated polling and push compared, with the pickup latency each
//     gives.
//   - iam: the least-privilege IAM policy for the layers (--push adds the
//     SQS and SNS actions of push refresh).
//   - infra: the EventBridge rule, topic and queue that push refresh needs,
//     as CloudFormation and Terraform.
//
// Every subcommand accepts --help. Flags may come before the subcommand
// ("--environment prod validate"), between and after its arguments.
//
// # Layers
//
// The layers are the service's own: Setup is called with --environment
// (default Options.Environment), and validate, explain and lint load what it
// returns after the defaults from struct tags, in its order. From the options
// it returns, configcheck uses EnvPrefix, Strict (or --strict), Production (or
// --production, --production=false), Validator, FingerprintKey (unless
// STRATA_FINGERPRINT_KEY is set) and RefreshInterval (the default of cost
// --ttl). env, cost, iam and infra call Setup but load no layer.
//
// configcheck knows no concrete layer and switches on no layer name. Any
// config.Layer (koanf.New, config.Static, a custom one) is loaded,
// merged, explained with the Source of each value, validated, linted and
// diffed. What only a layer knows it tells through optional one-method
// interfaces declared here, whose signatures use only the standard library
// and the config package, so a provider implements them without importing
// configcheck:
//
//   - Permissioner (iam): the IAM statements the layer needs;
//     secretsmanager.Reader implements it.
//   - CostModeler (cost): the calls it makes at start and per refresh, with
//     prices, quotas and batch sizes; secretsmanager.Reader.
//   - FileLister (lint): the files it reads, checked for their mode and for
//     git; dotenv.File. A SharedFiler (file.New) shares its files, which
//     lint does not check so.
//   - Locator (env): where it would read a key; secretsmanager.Reader and
//     env.New.
//   - SecretHolder (env, with Locator): a layer that is not sensitive as a
//     whole but marks its sensitive values, as ssm.Reader does for
//     SecureStrings, so that env names it as a secret's source.
//   - EventPatterner (infra, cost): the EventBridge event pattern of the
//     changes it follows; secretsmanager.Reader.
//
// A layer that implements none of them is left out only of iam, cost and
// infra, which end with ExitUsage when no layer implements theirs, and of
// the expected sources of env.
//
// A misspelt subcommand is answered with the closest one ("did you mean
// validate?") and ExitUsage.
//
// # Exit codes
//
//	0  no problem found
//	1  problems found (for diff: the environments differ)
//	2  usage error, a Setup that failed, or a source that gave no answer
//	   (a file that cannot be read, a remote store not answering)
//
// explain prints its table in every case and exits with 1 or 2, as validate
// does, when a source failed (its table is then not what the service would
// run with), and with 1 when a value does not decode into its setting's type
// (the table shows it as [REDACTED]); values that fail their rules are left
// to validate. A source
// error about a file a FileLister lists is exit 2 unless the file does not
// parse; any other source error is exit 1 when its Code says what the
// environment lacks (config.ErrNotFound, ErrAccessDenied, ErrDecryption, ...),
// and 2 when it is transient or has no Code. cost warns from 80 % of a request
// quota on.
//
// # Secrets
//
// No output of any subcommand contains the value of a secret field. Where a
// comparison is needed, a short fingerprint (config.Fingerprint) stands in.
package configcheck
