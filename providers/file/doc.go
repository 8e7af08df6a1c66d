// Package file is a layer that reads a configuration file: YAML, JSON or
// TOML, with the line of each value in its source.
//
//	store, err := config.Load[Config](ctx, &config.Options{EnvPrefix: "APP_", RefreshInterval: time.Minute},
//		file.New("config.yaml", nil), // settings shared by every environment
//		env.New(nil),                 // the environment overrides them
//	)
//
// The package is named file, like its directory, so that it is imported
// without an alias and reads as file.New; the layer's name in sources and
// messages is "file".
//
// # Formats
//
// The format is given by Options.Format or, by default, by the extension of
// the path: .yaml and .yml are YAML, .json is JSON, .toml is TOML, in any
// letter case. Another extension without Options.Format is an error
// matching config.ErrLayer. Parsers: go.yaml.in/yaml/v3 (YAML 1.2; one
// document per file), encoding/json, and github.com/pelletier/go-toml/v2
// (TOML 1.0). A leading UTF-8 byte order mark is skipped; the file must be
// valid UTF-8. An empty file, or one of only comments (YAML, TOML) or blank
// space, has no values.
//
// # Keys
//
// A nested mapping (a YAML mapping, a JSON object, a TOML table) maps to
// the keys of the schema: server: {read_timeout: 5s} sets
// server.read_timeout. A key may also be written dotted at any level
// (server.read_timeout: 5s, or TOML's dotted keys), and the two forms mix.
// Keys are matched exactly, as the schema writes them (snake_case, or the
// config tag). A value at the key of a field is taken whole, so a list fills
// a list field and a mapping a map field; a mapping under a section is
// walked. A key that is no field is a *config.UnknownNameError naming the
// key, the file and the line, with the closest known key ("did you mean
// server.read_timeout?"), or for a mapping under a misspelt section, the
// closest section; it is a warning unless Options.Strict, and the other
// values are read. A key longer than 200 bytes or with a character that is
// not printable (a line break) is shown quoted with Go escapes and cut, so
// that it cannot forge a line of a log. A key below a secret field
// (database.password.x) is part of that field's value as written: it is not
// shown, and the field is the suggestion. Past 100 unknown keys, one more
// warning (matching config.ErrUnknownName) counts the rest. A section
// written as one value (server: 5) makes the file malformed.
//
// A key set twice is an error that names both lines, whether in one mapping
// (YAML and JSON parsers would otherwise keep the last silently) or once
// nested and once dotted; the error names the key when it is one of the
// schema's keys or sections, and otherwise says "a key", since text the
// program does not know may be a value pasted on the wrong line.
//
// YAML merge keys (<<: *defaults) are applied: the mapping's own keys win
// over merged ones, and a merged value's line is where the anchor writes it.
//
// # Values
//
// Values are passed to the store, which decodes them into each field's type
// as it decodes an environment variable; the file's own types are not
// applied on top of that:
//
//   - YAML: a scalar is its text, as written (after YAML's quoting and
//     escapes), whatever YAML's implicit types would make of it. So
//     version: 1.10 into a string field is "1.10", not 1.1; yes, no, on and
//     off are not booleans (a bool field takes true, false, 1 and 0, as
//     from the environment, and rejects yes with an error naming the line);
//     0x1F, 0o17 and 1_000 are not integers; 2026-01-02 is text, and a
//     time.Time field takes RFC 3339 (2026-01-02T15:04:05Z). A !!binary
//     scalar is its bytes, decoded from base64. Other tags than !!str,
//     !!int, !!float, !!bool, !!null, !!timestamp and !!binary make the file
//     malformed. This keeps one rule for every layer and makes the YAML 1.1
//     surprises (the country code NO read as false) impossible.
//   - JSON: a string is its text, a number its exact text (a json.Number,
//     so an int64 keeps every digit), true and false booleans.
//   - TOML: a string is its text; an integer is its decimal value (0x1F is
//     31, 1_000 is 1000), a float its text without underscores, inf and
//     nan as ParseFloat reads them, a boolean a boolean; an offset
//     date-time is RFC 3339 text (a space between date and time becomes
//     'T'), local dates and times are their text.
//
// A null (YAML null, ~ or nothing after the colon; JSON null) sets nothing:
// the field keeps the value of the layers before, or its default. An empty
// section (database: with every key commented out) is no error. Write ""
// for an empty string.
//
// # Sources
//
// Each value's Source is {Layer: "file", Location: path as given to New,
// Line: the line of its key}, which prints as "config.yaml:12". For a list
// or a mapping written over several lines, the line is that of its key; for
// a TOML table filling a map field, that of its [header]; for a YAML value
// merged from an anchor, the line in the anchor.
//
// # Errors and limits
//
// Malformed content gives no values at all (so a bad edit never half
// applies) and an error that joins a *config.SourceError with Code
// config.ErrMalformed for each problem found, each naming the file and the
// line, and the column where the parser gives one: "file config.yaml:
// malformed source: line 3, column 7: invalid YAML syntax: mapping values
// are not allowed in this context". The errors of the third-party parsers
// are never wrapped or kept, as their text quotes the input: only their
// position is taken, and their words when they are fixed words known to
// quote nothing. No error of this package, nor any error reachable from one
// through Unwrap, holds text of a value.
//
// Limits, each an error naming the line where it applies: the file at most
// 16 MiB; a value at most 1 MiB; mappings and lists nested at most 256
// deep (in TOML each part of a dotted key or a header is a level, so a key
// of many parts fails fast too); a document at most 262144 keys, values and list items and 16 MiB of
// them together, counted after YAML aliases expand, so that aliases that
// repeat aliases (a "billion laughs") fail fast instead of using memory. An
// alias inside the node it refers to, more than one YAML document, a
// document that is not a mapping (an object in JSON), and text after a
// JSON object are malformed too.
//
// A missing file is a *config.SourceError matching config.ErrNotFound, or
// no values with Options.Optional; a file that may not be read matches
// config.ErrAccessDenied; a directory or another path that is not a regular
// file is config.ErrMalformed.
//
// The layer is not sensitive: a secret field the file sets breaks the
// store's secret policy (an error in production), and configcheck lint
// reports it with the file and line.
//
// # Refresh
//
// The layer is a stateless config.Refresher, refreshed on the store's
// schedule (Options.RefreshInterval). Each refresh stats the file: one
// system call. Only when its device and inode (on Unix), size or
// modification time differ from the State does it read and parse the file.
// Content that hashes as before (a file touched, or rewritten as it was)
// gives the same values with the new State, so that the next refresh
// trusts the stat again; the store publishes no change for it. So a file
// replaced by a rename (editors, configuration management, the atomic
// symlink swap of a Kubernetes ConfigMap volume) and one written in place
// are both seen. The State holds the stat and a SHA-256 of the content,
// never a value, and prints as its version; Update.Versions maps the path
// to the first 16 hex digits of that hash (Status().Layers[i].Versions).
//
// A file modified less than 2 seconds before it was read may change again
// within the same tick of the file system's clock, keeping its size and
// modification time (as git's "racy" entries): such a State makes the next
// refresh read the file again and compare hashes, and once the file is
// older its State is renewed with the same values, after which the stat is
// trusted. A change that keeps the inode, the size and the modification
// time of a file older than that (a tool that restores the time after
// writing in place) is not seen.
//
// The store rather than the layer owns the schedule, so the layer starts
// no goroutine and holds no watch: fsnotify was not chosen because it needs
// one per layer and store and a way to stop it, misses the rename of a
// ConfigMap's ..data unless it watches the directory, loses events on
// network and overlay file systems, and would pick changes at moments the
// store did not choose; a stat per refresh costs next to nothing and works
// on every file system.
//
// A refresh that cannot read or parse the file returns the error with
// Changed false: the store keeps serving the last good values, reports the
// layer unhealthy, and reads the file again at the next refresh. An Optional
// file that appears is read then; one that goes leaves its fields to the
// layers before.
//
// # configcheck
//
// The layer is a configcheck FileLister (a problem with the file is placed
// on it in GitHub annotations), a SharedFiler (lint does not flag the mode
// of a settings file, or that git tracks it, as it does a .env file), and a
// Locator (configcheck env lists the file where a key can be set, for every
// key but the secret ones: a shared file is no place for a secret, not even
// for local development).
package file
