// Package configcheck is the logic of the configcheck command: it checks the
// configuration of a service built on the config package before a deploy, with
// exit codes and output formats made for CI.
//
// A service embeds it for its own configuration type in a few lines, so that
// `myservice configcheck validate` checks exactly the struct, prefix and secret
// sources the service uses. Share the sources with the code that loads the
// configuration, so the two cannot drift apart:
//
//	var secretSources = []secretsmanager.Source{
//		secretsmanager.JSON("my-app/production/database", "database"),
//		secretsmanager.String("my-app/production/api-key", "api.key"),
//	}
//
//	func main() {
//		if len(os.Args) > 1 && os.Args[1] == "configcheck" {
//			os.Exit(configcheck.Main[AppConfig](context.Background(), os.Args[2:], configcheck.Options{
//				Name:          "myservice configcheck",
//				EnvPrefix:     "APP_",
//				EnvFiles:      []string{".env"},
//				SecretSources: secretSources,
//			}))
//		}
//		// ... config.Load[AppConfig](ctx, opts, ..., secretsmanager.New(awsCfg, secretSources...))
//	}
//
// # Subcommands
//
//   - validate (the default): load every layer as the service would and report
//     every problem at once.
//   - explain [key...]: each key with its value (secrets masked, with a
//     fingerprint), and the layer and place that set it.
//   - env: a Markdown reference of every setting, or a .env.example.
//   - lint: unknown names, secrets in plain layers, a .env file readable by
//     others or tracked by git, defaults that fail validation.
//   - diff a.json b.json: two environments compared, from the JSON output of
//     explain; secrets by fingerprint only.
//   - cost: Secrets Manager API calls and dollars a month for a fleet.
//   - iam: the least-privilege IAM policy for the configured secret sources.
//
// Every subcommand accepts --help.
//
// # Layers
//
// The layers are read in the order the service reads them: the defaults from
// struct tags, the .env files (--env-file, repeatable; Options.EnvFiles when
// none is given), the process environment as it is, then Secrets Manager
// (--secret, repeatable; when none is given, the service's own sources:
// Options.SecretsFor of --environment when it is set, otherwise
// Options.SecretSources). --environment defaults to Options.Environment. In
// a production environment secret-policy findings are errors: --production
// says so for one run, otherwise Options.Production of the --environment name
// decides (default IsProduction: prod, prd or production as the first or last
// word of the name, such as prod-eu or eu-prod, whatever the case).
//
// A misspelt subcommand is answered with the closest one ("did you mean
// validate?") and ExitUsage.
//
// # Exit codes
//
//	0  no problem found
//	1  problems found (for diff: the environments differ)
//	2  usage error, or a file or secret source could not be read
//
// explain prints its table in every case and exits with 1 or 2, as validate
// does, when a source failed (its table is then not what the service would
// run with); values that fail their rules are left to validate. cost warns
// from 80 % of a request quota on.
//
// # Secrets
//
// No output of any subcommand contains the value of a secret field. Where a
// comparison is needed, a short fingerprint (config.Fingerprint) stands in.
package configcheck
