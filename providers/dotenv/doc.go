// Package dotenv provides a layer that reads settings from a .env file, the
// file of NAME=value lines many teams keep next to a service for local
// development:
//
//	store, err := config.Load[AppConfig](ctx, &config.Options{EnvPrefix: "APP_"},
//		dotenv.File(".env", dotenv.Optional()), // absent in production: fine
//		env.New(),                              // the real environment wins
//	)
//
// # Names
//
// A .env file uses the same names as the environment, which come from the
// configuration struct: the prefix followed by the key in upper case with
// "_" between segments (APP_DATABASE_HOST for Database.Host), or the name in
// an env tag. A name that belongs to a field sets that field. A name under the
// prefix that belongs to no field, such as the typo APP_DATABSE_HOST, is
// reported as a *config.UnknownNameError with the closest known name; the
// store treats it as a warning unless Options.Strict is set. Other names (PATH,
// EDITOR) are ignored, so one file can serve several tools. With an empty
// prefix no name is reported as unknown.
//
// # Syntax
//
// Values are read as koanf's dotenv parser (joho/godotenv) reads them, and
// the parser itself computes any value with escapes or variables. The common
// .env conventions apply:
//
//	# a comment line
//	APP_SERVER_ADDR=:8080          # a comment after blank space
//	export APP_DATABASE_HOST=db    # "export " is allowed and ignored
//	APP_DATABASE_USER: app         # ':' works like '='
//	APP_SERVER_BANNER='literal $text, \n not expanded'
//	APP_DATABASE_PASSWORD="escapes \n and \" work, and ${DOMAIN} expands"
//	APP_TLS_CERT="a quoted value
//	may span lines"
//
// Unquoted values are trimmed and end at the end of the line, or at the last
// '#' that follows blank space. Single-quoted values are taken as written. In
// double-quoted values \n and \r are line breaks and a backslash escapes the
// next character. In unquoted and double-quoted values $NAME or ${NAME} is
// replaced by the value of a name set earlier in the same file (not by the
// process environment; an unset name gives ""). A name set twice takes its
// last value. Windows line endings and a leading byte order mark are accepted.
//
// # Sources and errors
//
// Every value records the file, as the path was given to File, and the line
// of its name: ".env:12". A missing file is a *config.SourceError with Code
// config.ErrNotFound, unless the layer is Optional. A line that is not
// NAME=value (no '=', an empty name, a name with a space or a character such as
// '-', a quote that is never closed) makes the whole file fail with a
// *config.SourceError whose Code is config.ErrMalformed and whose message gives
// the line number, never the line's text, since that text may be a password.
//
// A .env file is not a safe home for secrets, so the layer is not sensitive:
// a secret field set from it breaks the store's secret policy.
package dotenv
