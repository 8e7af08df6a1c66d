package dotenv

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	koanfdotenv "github.com/knadh/koanf/parsers/dotenv"

	"github.com/strata-go/strata/config"
)

// layerName is the Layer of every Source and SourceError of this package.
const layerName = "dotenv"

// An Option configures a layer made by File.
type Option func(*layer)

// Optional makes a missing file count as an empty one, so the same program
// runs with a .env file on a laptop and without one in production. Other read
// errors, such as a file that may not be read, are still reported.
func Optional() Option {
	return func(l *layer) { l.optional = true }
}

// File returns a layer that reads the .env file at path each time it is loaded.
// Sources name the file as path is written here, with the line of the entry:
// ".env:12".
func File(path string, opts ...Option) config.Layer {
	l := &layer{path: path}
	for _, o := range opts {
		o(l)
	}
	return l
}

type layer struct {
	path     string
	optional bool
}

// Name returns "dotenv".
func (l *layer) Name() string { return layerName }

// Sensitive returns false: a .env file is a plain file on disk, so secrets
// set by it break the secret policy.
func (l *layer) Sensitive() bool { return false }

// Load reads and parses the file and maps its names onto schema.
func (l *layer) Load(ctx context.Context, schema *config.Schema) (config.Values, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	content, err := os.ReadFile(l.path)
	if err != nil {
		if l.optional && errors.Is(err, fs.ErrNotExist) {
			return config.Values{}, nil
		}
		return nil, l.readError(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return decode(l.path, content, schema)
}

func (l *layer) readError(err error) error {
	e := &config.SourceError{Layer: layerName, Source: l.path, Err: err}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.Code = config.ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		e.Code = config.ErrAccessDenied
	default:
		e.Code = config.ErrMalformed
		e.Message = "cannot read the file"
	}
	return e
}

// utf8BOM is the byte order mark some editors put at the start of a file.
var utf8BOM = []byte("\uFEFF")

// decode parses content, read from path, and maps its names onto schema. The
// lines come from scan, which follows the parser's statement rules. The values
// come from the dotenv parser, except that a file whose values are all plain
// text (see plainValue) is read straight from the spans scan found: the
// parser's escape and variable handling costs more than the rest of a load,
// and it would return the same strings. No value is ever put in an error.
func decode(path string, content []byte, schema *config.Schema) (config.Values, error) {
	content = bytes.TrimPrefix(content, utf8BOM)
	// The parser reads "\r\n" as "\n"; doing it here too keeps the offsets
	// of scan in step with it. The number of lines does not change.
	if bytes.Contains(content, []byte("\r\n")) {
		content = bytes.ReplaceAll(content, []byte("\r\n"), []byte("\n"))
	}
	text := string(content) // names and plain values are cut from it without copying
	stmts, badLine, problem := scan(content, text)
	if problem != problemNone {
		return nil, malformed(path, badLine, problem)
	}
	var parsed map[string]any
	for _, st := range stmts {
		if _, ok := plainValue(content, st); !ok {
			var err error
			if parsed, err = koanfdotenv.Parser().Unmarshal(content); err != nil {
				// scan rejects whatever the parser rejects, so this is not
				// expected; the parser's message quotes the file, so it is not
				// passed on.
				return nil, malformed(path, 0, problemName)
			}
			break
		}
	}

	// A name set twice takes its last value, as in the parser: walk the
	// statements from the end and keep the first value seen for each field.
	prefix := schema.EnvPrefix()
	out := make(config.Values, len(stmts))
	var unknown []error
	for i := len(stmts) - 1; i >= 0; i-- {
		st := stmts[i]
		f := schema.FieldByEnv(st.name)
		if f == nil {
			if prefix != "" && strings.HasPrefix(st.name, prefix) && !reported(unknown, st.name) {
				unknown = append(unknown, schema.UnknownEnv(st.name, source(path, st.line)))
			}
			continue
		}
		if _, done := out[f.Key]; done {
			continue
		}
		var raw any
		if parsed != nil {
			raw = parsed[st.name]
		} else {
			start, end, _ := plainSpan(content, st)
			raw = text[start:end]
		}
		out[f.Key] = config.Value{Raw: raw, Source: source(path, st.line)}
	}
	slices.Reverse(unknown)
	return out, errors.Join(unknown...)
}

func source(path string, line int) config.Source {
	return config.Source{Layer: layerName, Location: path, Line: line}
}

// reported reports whether errs already holds the unknown name.
func reported(errs []error, name string) bool {
	for _, err := range errs {
		if u, ok := err.(*config.UnknownNameError); ok && u.Name == name {
			return true
		}
	}
	return false
}

// malformed builds the error for a statement that is not NAME=value. It names
// the file and the line, never the line's text, which may hold a secret.
func malformed(path string, line int, problem scanProblem) error {
	var msg strings.Builder
	if line > 0 {
		msg.WriteString("line ")
		msg.WriteString(strconv.Itoa(line))
		msg.WriteString(": ")
	}
	msg.WriteString("expected NAME=value")
	if problem == problemUnclosed {
		msg.WriteString(", the quoted value is not closed")
	}
	return &config.SourceError{Layer: layerName, Source: path, Code: config.ErrMalformed, Message: msg.String()}
}
