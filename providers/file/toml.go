package file

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// parseTOML parses a TOML document into a node tree, with the line of each
// key. The tree is built from go-toml's parser, which gives positions; the
// document is then checked by go-toml's decoder for the rules of tables that
// the tree does not enforce. Neither's error text is kept: it quotes input.
func parseTOML(content []byte) (root *node, probs []*problem) {
	defer func() {
		if r := recover(); r != nil {
			root, probs = nil, []*problem{{msg: fmt.Sprintf("invalid TOML: the parser failed (a panic of type %T)", r)}}
		}
	}()
	data := content[:len(content):len(content)] // so that an error's offset is cap(data) - cap(highlight)
	b := &tomlBuilder{data: data, lines: newLineIndex(data), meta: map[*node]*tmeta{}}
	b.root = b.newTable("", 0, originHeader)
	b.cur = b.root
	b.p.Reset(data)
	for b.p.NextExpression() && len(b.probs) == 0 {
		b.expression(b.p.Expression())
	}
	if err := b.p.Error(); err != nil {
		return nil, []*problem{b.parserProblem(err)}
	}
	if len(b.probs) > 0 {
		return nil, b.probs
	}
	if err := toml.Unmarshal(data, &map[string]any{}); err != nil {
		p := &problem{msg: "invalid TOML: a table or key breaks the rules of TOML tables (such as a table defined twice)"}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			p.line, p.col = de.Position()
		}
		return nil, []*problem{p}
	}
	return b.root, nil
}

// origin is how a TOML table came to be, which decides what may extend it.
type origin uint8

const (
	originImplicit origin = iota // by a header of a table under it: [a.b] makes a
	originHeader                 // by its own header, [a]
	originDotted                 // by a dotted key, a.b = 1
	originInline                 // an inline table, a = {b = 1}: closed
	originArray                  // an array of tables, [[a]]
)

// tmeta is what the builder knows of a table (or an array of tables).
type tmeta struct {
	path  string
	depth int // the tables above it: 0 for the root
	how   origin
	ix    tableIndex
	sub   map[string]*node
}

type tomlBuilder struct {
	p      unstable.Parser
	data   []byte
	lines  lineIndex
	root   *node
	cur    *node
	meta   map[*node]*tmeta
	budget budget
	probs  []*problem
}

func (b *tomlBuilder) newTable(path string, depth int, how origin) *node {
	n := &node{kind: table}
	b.meta[n] = &tmeta{path: path, depth: depth, how: how, ix: tableIndex{}, sub: map[string]*node{}}
	return n
}

// deeper reports, on line, a table to be made under t past maxDepth, as a
// key of many parts (a.a.a...) or a header ([a.a.a...]) would make: each
// table holds its whole path, so without the bound a key of n parts would
// cost memory and time of the order of n squared.
func (b *tomlBuilder) deeper(t *node, line int) bool {
	if b.meta[t].depth < maxDepth {
		return false
	}
	b.fail(line, fmt.Sprintf("tables and arrays are nested deeper than %d levels", maxDepth))
	return true
}

func (b *tomlBuilder) fail(line int, msg string) {
	b.probs = append(b.probs, &problem{line: line, msg: msg})
}

func (b *tomlBuilder) lineOf(n *unstable.Node) int { return b.lines.line(int(n.Raw.Offset)) }

// keyParts returns the parts of a key and the line of its first.
func (b *tomlBuilder) keyParts(n *unstable.Node) ([]string, int) {
	var parts []string
	line := 0
	for it := n.Key(); it.Next(); {
		k := it.Node()
		if line == 0 {
			line = b.lineOf(k)
		}
		parts = append(parts, string(k.Data))
	}
	return parts, line
}

func (b *tomlBuilder) expression(e *unstable.Node) {
	switch e.Kind {
	case unstable.KeyValue:
		b.keyValue(b.cur, e)
	case unstable.Table, unstable.ArrayTable:
		parts, line := b.keyParts(e)
		t := b.root
		for _, part := range parts[:len(parts)-1] {
			if t = b.descend(t, part, line, originImplicit); t == nil {
				return
			}
		}
		if e.Kind == unstable.Table {
			b.cur = b.header(t, parts[len(parts)-1], line)
		} else {
			b.cur = b.arrayHeader(t, parts[len(parts)-1], line)
		}
		if b.cur == nil {
			b.cur = b.newTable("", 0, originHeader) // the problem is recorded; read on into a scratch table
		}
	}
}

// child returns the path of key under t.
func (b *tomlBuilder) child(t *node, key string) string { return join(b.meta[t].path, key) }

// add adds key to t on line, with val, or records that it is set twice.
func (b *tomlBuilder) add(t *node, key string, line int, val *node) bool {
	m := b.meta[t]
	if first, dup := m.ix.add(key, line); dup {
		b.probs = append(b.probs, duplicate(b.child(t, key), line, first))
		return false
	}
	if !b.budget.spend(len(key)) {
		b.probs = b.budget.over(b.probs, line)
		return false
	}
	t.keys = append(t.keys, entry{key: key, line: line, val: val})
	if val.kind == table || val.kind == list && b.meta[val] != nil {
		m.sub[key] = val
	}
	return true
}

// descend returns the table key of t, made with how when it is new: the
// last table of an array of tables, or nil when key holds a value.
func (b *tomlBuilder) descend(t *node, key string, line int, how origin) *node {
	if sub, ok := b.meta[t].sub[key]; ok {
		if sub.kind == list {
			return sub.items[len(sub.items)-1]
		}
		if b.meta[sub].how == originInline {
			b.fail(line, fmt.Sprintf("the key %s extends an inline table, which is closed", b.child(t, key)))
			return nil
		}
		return sub
	}
	if b.deeper(t, line) {
		return nil
	}
	n := b.newTable(b.child(t, key), b.meta[t].depth+1, how)
	if !b.add(t, key, line, n) {
		return nil
	}
	return n
}

// header opens the table [.. key] under t.
func (b *tomlBuilder) header(t *node, key string, line int) *node {
	if sub, ok := b.meta[t].sub[key]; ok && sub.kind == table && b.meta[sub].how == originImplicit {
		b.meta[sub].how = originHeader
		return sub
	}
	if b.deeper(t, line) {
		return nil
	}
	n := b.newTable(b.child(t, key), b.meta[t].depth+1, originHeader)
	if !b.add(t, key, line, n) {
		return nil
	}
	return n
}

// arrayHeader adds a table to the array of tables [[.. key]] under t.
func (b *tomlBuilder) arrayHeader(t *node, key string, line int) *node {
	arr, ok := b.meta[t].sub[key]
	if !ok {
		if b.deeper(t, line) {
			return nil
		}
		arr = &node{kind: list}
		b.meta[arr] = &tmeta{path: b.child(t, key), depth: b.meta[t].depth + 1, how: originArray}
		if !b.add(t, key, line, arr) {
			return nil
		}
	} else if arr.kind != list {
		b.probs = append(b.probs, duplicate(b.child(t, key), line, b.meta[t].ix[key]))
		return nil
	}
	if !b.budget.spend(0) {
		b.probs = b.budget.over(b.probs, line)
		return nil
	}
	n := b.newTable(b.meta[arr].path, b.meta[arr].depth, originHeader)
	arr.items = append(arr.items, n)
	return n
}

// keyValue adds the key/value e to t.
func (b *tomlBuilder) keyValue(t *node, e *unstable.Node) {
	parts, line := b.keyParts(e)
	for _, part := range parts[:len(parts)-1] {
		if t = b.descend(t, part, line, originDotted); t == nil {
			return
		}
	}
	b.add(t, parts[len(parts)-1], line, b.value(e.Value(), line, b.child(t, parts[len(parts)-1]), b.meta[t].depth+1))
}

// value converts a value node; line is its key's line and path its key.
func (b *tomlBuilder) value(v *unstable.Node, line int, path string, depth int) *node {
	if depth > maxDepth {
		b.fail(line, fmt.Sprintf("tables and arrays are nested deeper than %d levels", maxDepth))
		return &node{}
	}
	if len(v.Data) > maxValue {
		b.fail(line, fmt.Sprintf("a value is longer than %d bytes (1 MiB)", maxValue))
		return &node{}
	}
	if !b.budget.spend(len(v.Data)) {
		b.probs = b.budget.over(b.probs, line)
		return &node{}
	}
	switch v.Kind {
	case unstable.Array:
		out := &node{kind: list}
		for it := v.Children(); it.Next() && len(b.probs) == 0; {
			out.items = append(out.items, b.value(it.Node(), line, path, depth+1))
		}
		return out
	case unstable.InlineTable:
		t := b.newTable(path, depth, originInline)
		for it := v.Children(); it.Next() && len(b.probs) == 0; {
			b.keyValue(t, it.Node())
		}
		return t
	}
	raw, ok := tomlScalar(v)
	if !ok {
		b.fail(line, "an integer is out of the range of 64 bits")
		return &node{}
	}
	return &node{kind: scalar, raw: raw}
}

// tomlScalar converts a scalar: a string as it decodes, an integer as its
// decimal json.Number (0x1F is 31), a finite float as a json.Number, an
// infinity or NaN as text ParseFloat reads, a boolean, and a date or time as
// its text, with an offset date-time in RFC 3339 form (a 'T' between date
// and time).
func tomlScalar(v *unstable.Node) (any, bool) {
	s := string(v.Data)
	switch v.Kind {
	case unstable.String:
		return s, true
	case unstable.Bool:
		return s == "true", true
	case unstable.Integer:
		s = strings.ReplaceAll(s, "_", "")
		base := 10
		if len(s) > 2 && s[0] == '0' {
			switch s[1] {
			case 'x':
				base = 16
			case 'o':
				base = 8
			case 'b':
				base = 2
			}
		}
		if base != 10 {
			s = s[2:]
		}
		n, err := strconv.ParseInt(s, base, 64)
		if err != nil {
			return nil, false
		}
		return json.Number(strconv.FormatInt(n, 10)), true
	case unstable.Float:
		s = strings.ReplaceAll(s, "_", "")
		if t := strings.TrimLeft(s, "+-"); t == "inf" || t == "nan" {
			return s, true
		}
		return json.Number(strings.TrimPrefix(s, "+")), true
	case unstable.DateTime:
		if len(s) > 10 {
			s = s[:10] + "T" + strings.ToUpper(s[11:])
		}
		return s, true
	}
	return s, true // a local date, time or date-time, as written
}

// parserProblem is the problem of a parser error: its position only, as
// its text quotes the input.
func (b *tomlBuilder) parserProblem(err error) *problem {
	p := &problem{msg: "invalid TOML syntax"}
	var perr *unstable.ParserError
	if errors.As(err, &perr) {
		off := cap(b.data) - cap(perr.Highlight)
		if perr.Highlight == nil || off < 0 || off > len(b.data) {
			off = len(b.data)
		}
		p.line, p.col = position(b.data, off)
		p.msg = "invalid TOML syntax" + tomlWords(perr.Message)
	}
	return p
}

// tomlWords returns ": " and the words of a parser message that quotes no
// input: one of tomlMessages, or the words before the quoted character of
// one of tomlPrefixes; "" for any other.
func tomlWords(msg string) string {
	if tomlMessages[msg] {
		return ": " + msg
	}
	for prefix, words := range tomlPrefixes {
		if strings.HasPrefix(msg, prefix) {
			return ": " + words
		}
	}
	return ""
}

// tomlMessages are the parser's messages made of fixed words.
var tomlMessages = map[string]bool{}

func init() {
	for _, m := range []string{
		"array is incomplete", "basic strings cannot have control characters", "basic strings cannot have new lines",
		"carriage returns are not allowed in comments", "carriage returns must be followed by a newline character",
		"control characters are not allowed in comments", "decimal point must be followed by a digit",
		"escape sequence is not a valid unicode code point", "expected ',' or ']' after array value",
		"expected ',' or '}' after inline table key-value", "expected '=' after key", "expected ']' to close table name",
		"expected ']]' to close array table name", "expected key but reached end of input", "expected number after sign",
		"expected value, not end of input", "exponent must contain at least one digit", "inline table is incomplete",
		"integers cannot have leading zeroes", "invalid hexadecimal digit in unicode escape sequence",
		"literal strings cannot have control characters", "literal strings cannot have new lines",
		"multiline basic strings cannot have control characters", "multiline literal string not terminated by '''",
		"multiline literal strings cannot have control characters", "number must have at least one digit between underscores",
		"radix prefix must be followed by at least one digit", "sign is not allowed on numbers with a radix prefix",
		"strings must be quoted", "too many quotes at the end of a multiline basic string",
		"too many quotes at the end of a multiline literal string", "unexpected comma in inline table",
		"unicode escape sequence is too short", "unterminated basic string", "unterminated literal string",
	} {
		tomlMessages[m] = true
	}
}

// tomlPrefixes maps the fixed start of a parser message that goes on to
// quote a character of the input to the words shown instead.
var tomlPrefixes = map[string]string{
	"expected newline but got ":           "expected a line break",
	"expected value but got ":             "expected a value",
	"invalid character at start of key: ": "a character that cannot start a key",
	"unexpected character ":               "a character that cannot start a value",
	"invalid escape character ":           "an invalid escape sequence",
	"expected digit but got ":             "expected a digit",
	"arrays and inline tables are nested": "arrays and inline tables are nested too deep",
}
