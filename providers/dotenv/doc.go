// Package dotenv provides a layer that reads settings from a .env file, the
// file of NAME=value lines many teams keep next to a service for local
// development:
//
//	store, err := config.Load[AppConfig](ctx, &config.Options{EnvPrefix: "APP_"},
//		dotenv.File(".env", &dotenv.Options{Optional: true}), // absent in production: fine
//		env.New(nil),                                         // the real environment wins
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
// Files are read as docker compose reads its .env files, the dialect most
// teams already write (see "Differences from docker compose" below):
//
//	# a comment line
//	APP_SERVER_ADDR=:8080          # a comment after blank space
//	export APP_DATABASE_HOST=db    # "export " is allowed and ignored
//	APP_DATABASE_USER: app         # ':' works like '='
//	APP_SERVER_BANNER='literal $text and \n, only \' is an escape'
//	APP_DATABASE_URL="postgres://${DB_USER}@db:5432/app?sslmode=${SSL:-require}"
//	APP_TLS_CERT="a quoted value
//	may span lines"
//
// A name is made of letters, digits and _ . - [ ] and is followed, after
// optional blank space, by '=' or ':'. Blank lines and lines whose first
// non-blank character is '#' are skipped.
//
// Unquoted values end at the end of the line, or at the first '#' that
// follows a space or a tab, and are trimmed of blank space. Backslashes are
// not escapes in them.
//
// Single-quoted values are taken as written, up to the next single quote
// that a backslash does not escape; \' stands for ' and every other
// character, backslashes and '$' included, for itself (so '\\' is two
// backslashes).
//
// In double-quoted values \" stands for ", \\ for \, \$ for $, \n for a
// line break, \r for a carriage return, \t for a tab, and \a \b \f \v for
// those control characters; any other backslash stands for itself. Quoted
// values may span lines; only blank space and a # comment may follow the
// closing quote on its line. Use Quote to write any value so that it reads
// back exactly.
//
// In unquoted and double-quoted values, $NAME and ${NAME} are replaced by the
// value NAME has on the lines above (a name set twice takes its last value
// there), and $$ stands for $. The braced forms of docker compose work too:
// ${NAME:-default} and ${NAME-default} give default when NAME is unset (with
// ':', also when it is empty), ${NAME:+alt} and ${NAME+alt} give alt when NAME
// is set (with ':', and not empty) and "" otherwise, and ${NAME:?message} and
// ${NAME?message} make the file malformed when NAME is unset (with ':', or
// empty); default and alt may themselves hold substitutions. A '$' before
// anything but a name, '{' or '$' stands for itself; a "${" that starts none
// of these forms makes the file malformed. Substituted text is not expanded
// again.
//
// Expansion is bounded, so that a small file cannot cost much time or memory
// by copying a value many times over (A1=$A0$A0..., A2=$A1$A1..., ...): a
// value may be at most 1 MiB (1048576 bytes) long, and the values of one file
// at most 16 MiB (16777216 bytes) together, counted after escapes and
// substitutions whatever the quoting; the ${NAME<op>word} forms may nest at
// most 16 deep. A statement beyond a limit is malformed, and its error names the line
// and the limit.
//
// Line breaks may be "\n", "\r\n" or a lone "\r", and are counted alike;
// inside a quoted value each is read as "\n". A leading byte order mark is
// skipped. Values must be valid UTF-8.
//
// # Differences from docker compose
//
//   - Variables come only from the lines above in the same file. Compose also
//     reads the process environment, which there even overrides the file; here
//     the environment layer does that, for the names it maps.
//   - A reference to a variable that no line above sets is kept as written
//     ("$UNSET" stays "$UNSET", so a password with a '$' in it survives) and
//     reported as a *Warning. Compose replaces it with "" and warns.
//   - A line with a name and no '=' or ':' is malformed. Compose reads it as
//     "take this variable from the environment", which the environment layer
//     does here.
//   - Text after a closing quote other than a comment makes the file
//     malformed. Compose starts a new statement there.
//   - A '#' after a tab starts a comment as after a space, and "NAME= # note"
//     is empty. Compose needs a space and keeps "# note" in the latter.
//   - Unquoted values are trimmed of any Unicode blank space on both sides;
//     compose trims only a few kinds of it on the left.
//   - A value that is not valid UTF-8 makes the file malformed. Compose keeps
//     the bytes.
//   - Octal escapes (\0123) are kept as written.
//   - A lone "\r" ends a line, and a line break inside a quoted value is
//     always "\n". Compose ends lines at "\n" only and keeps a carriage
//     return inside quotes.
//   - The message of ${NAME:?message} is not shown, since it is text of a
//     value.
//   - Every problem of the file is reported, not only the first.
//
// # Sources, errors and warnings
//
// Every value records the file, as the path was given to File, and the line
// of its name: ".env:12". A missing file is a *config.SourceError with Code
// config.ErrNotFound, unless Options.Optional is set.
//
// Each malformed statement (a name with a character a name cannot hold, no
// '=' or ':', a quote that is never closed, text after a closing quote,
// invalid UTF-8, a "${" that starts no substitution, substitutions nested
// deeper than 16, a required variable that is unset, a value longer than
// 1 MiB, a value that takes the file's values past 16 MiB) is a
// *config.SourceError whose Code is config.ErrMalformed and
// whose message gives its line number, and parsing goes on with the next
// line: the errors of every malformed statement are joined, and the file
// gives no values.
//
// Two problems are warnings, of type *Warning: a reference to a variable that
// no line above sets (Kind UndefinedVariable), and a quoted value that spans
// lines one of which looks like an upper-case NAME=value statement
// (UnclosedQuote), the sign of a closing quote left out; it names the line of
// the opening quote. Warnings match config.ErrWarning, so the store logs
// them and returns them from Store.Warnings, or fails the load under
// Options.Strict.
//
// No error or warning of this package, nor any error reachable from one
// through Unwrap, holds text of a value: they name files, lines, limits and
// names only.
//
// A value is secret by provenance, and marked config.Value.Secret so that the
// store masks it as it masks a secret field (in messages, Explain and
// Masked), when its text may hold a secret:
//
//   - a statement that the value of a secret field reads, directly or through
//     other statements, is secret: with PW=hunter2 and APP_PASSWORD=${PW}, PW
//     is, and so is every statement that PW itself reads;
//   - a statement that reads a secret statement, or refers to the name of a
//     secret field (set or not), is secret: APP_URL=https://u:${PW}@db and
//     APP_URL=postgres://app:${APP_PASSWORD}@db are, wherever they stand in
//     the file, and so is APP_PORT=${PW}, whose decode error then does not
//     quote it.
//
// A statement reads a variable when it substitutes it or tests it (${X:+alt}
// reads X); it reads the last statement above it that set the name, so an
// earlier, different value of the same name is not affected. The value of a
// secret field may itself be marked; being secret by type, it is masked
// anyway. A helper such as PW, which is no field, sets nothing; if it is under
// the prefix (APP_PW) it is reported as an unknown name, which names it but
// never shows its value.
//
// A warning or error about an unset variable names the variable (in
// Warning.Variable and in its text) only when the statement sets a field that
// is not secret and its value is not secret by provenance, as decided from
// the whole file. Elsewhere the text after a '$' may be part of a password
// (APP_URL=https://u:${APP_PASSWORD}$x@db), so it says "a variable". Of the
// unset required variables of one value, only the first is reported.
//
// A .env file is not a safe home for secrets, so the layer is not sensitive:
// a secret field set from it breaks the store's secret policy.
package dotenv
