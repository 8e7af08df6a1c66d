package file

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/strata-go/strata/config"
)

// Limits of one document, so that a small file cannot cost much time or
// memory (a YAML alias repeated in aliases, a deep nesting).
const (
	// maxValue is the longest scalar, in bytes: 1 MiB.
	maxValue = 1 << 20
	// maxTotal is the most bytes of scalars and keys in one document,
	// counted after YAML aliases expand: 16 MiB.
	maxTotal = 16 << 20
	// maxNodes is the most keys, values and items in one document, counted
	// after YAML aliases expand.
	maxNodes = 1 << 18
	// maxDepth is the deepest nesting of mappings and lists.
	maxDepth = 256
)

// kind is the kind of a node of a parsed document.
type kind uint8

const (
	null kind = iota
	scalar
	list
	table
)

// node is one value of a parsed document, whatever its format.
type node struct {
	kind  kind
	raw   any // for a scalar: string, json.Number, bool or []byte
	items []*node
	keys  []entry // for a table, in the order written
}

// entry is one key of a table, with the line it is written on.
type entry struct {
	key  string
	line int
	val  *node
}

// budget counts what a document holds against the limits.
type budget struct {
	nodes, bytes int
	reported     bool // the problem of a document past a limit is made once
}

// nodeLimit is maxNodes; a test lowers it to reach it fast.
var nodeLimit = maxNodes

// spend counts one node of n bytes; it reports false past a limit.
func (b *budget) spend(n int) bool {
	b.nodes++
	b.bytes += n
	return b.nodes <= nodeLimit && b.bytes <= maxTotal
}

// over appends to probs the problem of a document past a limit, at line,
// the first time only: a document far past it (a list of millions of items)
// is one problem, not one for each node past the limit.
func (b *budget) over(probs []*problem, line int) []*problem {
	if b.reported {
		return probs
	}
	b.reported = true
	return append(probs, b.exceeded(line))
}

func (b *budget) exceeded(line int) *problem {
	return &problem{line: line, msg: fmt.Sprintf("the document holds more than %d keys and values or %d bytes (16 MiB) of them, "+
		"counted after aliases expand", nodeLimit, maxTotal)}
}

// problem is one malformed place of a document. Its message is this
// package's own text: never a parser's, never text of the input.
type problem struct {
	line, col int // col 0 when unknown
	msg       string
	// dupKey is the full key of a key set twice, first the line it was
	// set on first. The message names the key only when the schema does:
	// a key the program does not know is input text, maybe a value pasted
	// on the wrong line.
	dupKey string
	first  int
}

func (p *problem) where() string {
	switch {
	case p.line <= 0:
		return "at a line the parser does not say"
	case p.col > 0:
		return fmt.Sprintf("line %d, column %d", p.line, p.col)
	default:
		return fmt.Sprintf("line %d", p.line)
	}
}

// rawValue is n as a config.Value's Raw: a scalar as it is, a list as []any,
// a table as map[string]any; nil for null.
func (n *node) rawValue() any {
	switch n.kind {
	case scalar:
		return n.raw
	case list:
		out := make([]any, len(n.items))
		for i, it := range n.items {
			out[i] = it.rawValue()
		}
		return out
	case table:
		out := make(map[string]any, len(n.keys))
		for _, e := range n.keys {
			out[e.key] = e.val.rawValue()
		}
		return out
	}
	return nil
}

// tableIndex finds duplicate keys while a table is built.
type tableIndex map[string]int

// add records key on line, or returns the line it was first written on.
func (ix tableIndex) add(key string, line int) (first int, dup bool) {
	if l, ok := ix[key]; ok {
		return l, true
	}
	ix[key] = line
	return 0, false
}

func duplicate(key string, line, first int) *problem {
	return &problem{line: line, dupKey: key, first: first}
}

// join returns key under prefix.
func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// decode parses content, read from path, in format and maps it onto schema.
// Malformed content gives no values and an error naming each problem's line;
// unknown keys are *config.UnknownNameError warnings beside the values.
func decode(path string, format Format, content []byte, schema *config.Schema) (config.Values, error) {
	content = bytes.TrimPrefix(content, []byte("\xef\xbb\xbf"))
	var root *node
	var probs []*problem
	if p := checkUTF8(content); p != nil {
		probs = []*problem{p}
	} else {
		switch format {
		case YAML:
			root, probs = parseYAML(content)
		case JSON:
			root, probs = parseJSON(content)
		case TOML:
			root, probs = parseTOML(content)
		}
	}
	if len(probs) == 0 && root != nil {
		m := mapper{path: path, schema: schema, out: config.Values{}, seen: map[string]int{}}
		m.walk("", root)
		probs = m.probs
		if len(probs) == 0 {
			return m.out, errors.Join(m.unknownErrors()...)
		}
	}
	if len(probs) == 0 {
		return config.Values{}, nil // an empty document
	}
	return nil, malformed(path, schema, probs)
}

// malformed joins the problems of a document, in line order.
func malformed(path string, schema *config.Schema, probs []*problem) error {
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].line < probs[j].line })
	errs := make([]error, len(probs))
	for i, p := range probs {
		if p.first > 0 {
			if schema.Field(p.dupKey) != nil || schema.IsSection(p.dupKey) {
				p.msg = fmt.Sprintf("the key %s is set twice, here and on line %d; keep one", p.dupKey, p.first)
			} else {
				p.msg = fmt.Sprintf("a key is set twice, here and on line %d; keep one", p.first)
			}
		}
		errs[i] = &config.SourceError{Layer: layerName, Source: path, Code: config.ErrMalformed, Keys: []string{""},
			Message: p.where() + ": " + p.msg}
	}
	return errors.Join(errs...)
}

// checkUTF8 reports the place of the first byte that is not UTF-8.
func checkUTF8(b []byte) *problem {
	if utf8.Valid(b) {
		return nil
	}
	line, col := 1, 1
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return &problem{line: line, col: col, msg: "the file is not valid UTF-8 text"}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		b = b[n:]
	}
	return nil
}

// position returns the line and column (in characters, both from 1) of
// byte offset off in b.
func position(b []byte, off int) (line, col int) {
	off = max(0, min(off, len(b)))
	before := b[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	if i := bytes.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return line, 1 + utf8.RuneCount(before)
}

// maxShownKey is the longest key an error shows whole.
const maxShownKey = 200

// printable returns key as an error shows it: as written when it is short
// and holds only printable characters, otherwise quoted with Go escapes and
// cut to maxShownKey bytes, so that a key cannot forge lines of a log or
// fill it.
func printable(key string) string {
	plain := len(key) <= maxShownKey
	for _, r := range key {
		if !unicode.IsPrint(r) {
			plain = false
			break
		}
	}
	if plain {
		return key
	}
	if len(key) > maxShownKey {
		cut := maxShownKey
		for cut > 0 && !utf8.RuneStart(key[cut]) {
			cut--
		}
		return strconv.Quote(key[:cut]) + "…"
	}
	return strconv.Quote(key)
}

// lineIndex finds the line of a byte offset in O(log n): the offsets of the
// line breaks of a document.
type lineIndex []int

func newLineIndex(b []byte) lineIndex {
	var ix lineIndex
	for i, c := range b {
		if c == '\n' {
			ix = append(ix, i)
		}
	}
	return ix
}

// line returns the line (from 1) of byte offset off.
func (ix lineIndex) line(off int) int { return 1 + sort.SearchInts(ix, off) }

// mapper maps a document's keys onto a schema's fields.
type mapper struct {
	path    string
	schema  *config.Schema
	out     config.Values
	seen    map[string]int // the line of each field key set, to find one set twice
	unknown []error
	probs   []*problem
}

// walk maps the entries of t under prefix ("" for the root). A key may
// be dotted ("server.read_timeout"): its segments are read as nested keys.
func (m *mapper) walk(prefix string, t *node) {
	for _, e := range t.keys {
		key := join(prefix, e.key)
		src := config.Source{Layer: layerName, Location: m.path, Line: e.line}
		switch {
		case m.schema.Field(key) != nil:
			if first, dup := m.seen[key]; dup {
				m.probs = append(m.probs, duplicate(key, e.line, first))
				continue
			}
			m.seen[key] = e.line
			if e.val.kind != null {
				m.out[key] = config.Value{Raw: e.val.rawValue(), Source: src}
			}
		case m.schema.IsSection(key) && e.val.kind == table:
			m.walk(key, e.val)
		case m.schema.IsSection(key) && e.val.kind == null:
			// An empty section, such as "database:" with every key commented out.
		case m.schema.IsSection(key):
			m.probs = append(m.probs, &problem{line: e.line,
				msg: fmt.Sprintf("%s is a section of settings, not one value; write its keys under it", key)})
		default:
			m.unknown = append(m.unknown, m.unknownKey(key, src, e.val))
		}
	}
}

// maxUnknown is the most unknown keys reported one by one; the others are
// counted in one more warning, so that a file of many stray keys does not
// flood the log.
const maxUnknown = 100

func (m *mapper) unknownErrors() []error {
	if len(m.unknown) <= maxUnknown {
		return m.unknown
	}
	return append(m.unknown[:maxUnknown:maxUnknown], fmt.Errorf("file %s: %d more keys map to no field (the first %d are listed): %w",
		m.path, len(m.unknown)-maxUnknown, maxUnknown, config.ErrUnknownName))
}

// unknownKey is the error of a key that is no field. For a table under a
// misspelt section (databse: {host: h}), whose own name is near no field
// key, the suggestion is the section of the key nearest to a key inside it
// (database).
//
// A key below a secret field (database.password.x) is part of that field's
// value as written, so it is not shown: the error names the field as the
// suggestion.
func (m *mapper) unknownKey(key string, src config.Source, val *node) *config.UnknownNameError {
	if f := m.fieldAbove(key); f != nil && f.Secret {
		u := m.schema.UnknownSecretKey(key, src)
		u.Suggestion = f.Key
		return u
	}
	u := m.schema.UnknownKey(key, src)
	u.Name = printable(key)
	if u.Suggestion != "" || val.kind != table {
		return u
	}
	depth := strings.Count(key, ".") + 1
	for _, e := range val.keys {
		s := m.schema.UnknownKey(join(key, e.key), src).Suggestion
		if parts := strings.Split(s, "."); len(parts) > depth {
			if sec := strings.Join(parts[:depth], "."); m.schema.IsSection(sec) {
				u.Suggestion = sec
				return u
			}
		}
	}
	return u
}

// fieldAbove returns the field whose key is a proper prefix of key, a
// segment at a time, or nil.
func (m *mapper) fieldAbove(key string) *config.Field {
	for i := range len(key) {
		if key[i] == '.' {
			if f := m.schema.Field(key[:i]); f != nil {
				return f
			}
		}
	}
	return nil
}
