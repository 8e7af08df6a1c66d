// Package env provides a layer that reads settings from the process
// environment:
//
//	store, err := config.Load[AppConfig](ctx, &config.Options{EnvPrefix: "APP_"},
//		dotenv.File(".env", &dotenv.Options{Optional: true}),
//		env.New(nil), // later layers win, so the environment overrides .env
//	)
//
// # Names
//
// Names are not guessed from the variables found; they come from the
// configuration struct. Each field has one environment name: the prefix
// followed by the key in upper case with "_" between segments
// (APP_SERVER_READ_TIMEOUT for Server.ReadTimeout), or the exact name in an
// env tag (env:"DATABASE_URL", which takes no prefix). Because the struct is
// known, a single "_" is never ambiguous.
//
// A variable whose name belongs to a field sets that field, even to an empty
// value. A variable under the prefix that belongs to no field, such as the
// typo APP_DATABSE_HOST, is reported as a *config.UnknownNameError with the
// closest known name; the store treats it as a warning unless Options.Strict
// is set. Every other variable (PATH, HOME) is ignored. With an empty prefix
// no variable is reported as unknown. Names are case-sensitive. If a name
// appears twice, the first value counts, as with os.Getenv.
//
// Each value's source is the variable's name: "env APP_DATABASE_HOST".
//
// The environment of a process can be read by anyone who may inspect the
// process, so the layer is not sensitive: a secret field set from it breaks
// the store's secret policy.
//
// # Implementation
//
// The layer scans the os.Environ slice once and looks each name up in the
// schema, rather than going through koanf's env provider, because that
// provider builds and unflattens an intermediate map of every variable, which
// costs several times more than the lookups the start-up budget of a store
// allows. Set Options.Environ to load a fixed environment in tests.
package env
