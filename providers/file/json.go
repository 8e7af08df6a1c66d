package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// parseJSON parses one JSON object into a node tree, with the line of each
// key. Numbers keep their text exactly (json.Number).
func parseJSON(content []byte) (*node, []*problem) {
	if len(bytes.TrimSpace(content)) == 0 {
		return nil, nil
	}
	p := &jsonParser{content: content, lines: newLineIndex(content), dec: json.NewDecoder(bytes.NewReader(content))}
	p.dec.UseNumber()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, []*problem{p.syntax(err)}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		line, col := p.at()
		return nil, []*problem{{line: line, col: col, msg: "the document is not a JSON object of keys to values"}}
	}
	root := p.object(0, "")
	if p.prob != nil {
		return nil, []*problem{p.prob}
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		line, col := p.at()
		return nil, []*problem{{line: line, col: col, msg: "invalid JSON: text follows the object"}}
	}
	return root, nil
}

type jsonParser struct {
	content []byte
	lines   lineIndex
	dec     *json.Decoder
	budget  budget
	prob    *problem
}

// at returns the position of the last token read: the token ends at the
// decoder's offset, and no token of JSON spans lines.
func (p *jsonParser) at() (line, col int) {
	return position(p.content, int(p.dec.InputOffset())-1)
}

// line returns the line of the last token read, quickly.
func (p *jsonParser) line() int { return p.lines.line(int(p.dec.InputOffset()) - 1) }

func (p *jsonParser) fail(msg string) *node {
	if p.prob == nil {
		line, col := p.at()
		p.prob = &problem{line: line, col: col, msg: msg}
	}
	return &node{}
}

// syntax is the problem of a decoder error. The decoder's offsets are
// relative to the value it was reading, so the document is scanned again
// whole for the offset of the first error. Only the position and the
// scanner's fixed words are kept: its text quotes the input.
func (p *jsonParser) syntax(err error) *problem {
	var whole any
	if uerr := json.Unmarshal(p.content, &whole); uerr != nil {
		err = uerr
	}
	var syn *json.SyntaxError
	off := len(p.content)
	if errors.As(err, &syn) {
		off = int(syn.Offset)
	}
	line, col := position(p.content, max(off-1, 0))
	pr := &problem{line: line, col: col, msg: "invalid JSON syntax"}
	msg := err.Error()
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || msg == "unexpected end of JSON input":
		pr.msg = "invalid JSON syntax: the file ends inside a value"
	case strings.HasPrefix(msg, "invalid character "):
		for _, ctx := range jsonContexts {
			if strings.HasSuffix(msg, " "+ctx) {
				pr.msg = "invalid JSON syntax: an unexpected character " + ctx
				break
			}
		}
	}
	return pr
}

// jsonContexts are the fixed words of the JSON scanner's errors, which name
// no text of the input.
var jsonContexts = []string{
	"after array element", "after decimal point in numeric literal", "after object key:value pair", "after object key",
	"after top-level value", `in \u hexadecimal character escape`, "in exponent of numeric literal",
	"in numeric literal", "in string escape code", "in string literal", "looking for beginning of object key string",
	"looking for beginning of value", "in literal true (expecting 'r')", "in literal true (expecting 'u')",
	"in literal true (expecting 'e')", "in literal false (expecting 'a')", "in literal false (expecting 'l')",
	"in literal false (expecting 's')", "in literal false (expecting 'e')", "in literal null (expecting 'u')",
	"in literal null (expecting 'l')",
}

// object reads the entries of an object whose '{' was read.
func (p *jsonParser) object(depth int, path string) *node {
	out := &node{kind: table}
	ix := tableIndex{}
	for p.prob == nil {
		tok, err := p.dec.Token()
		if err != nil {
			p.prob = p.syntax(err)
			break
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			break
		}
		key, _ := tok.(string) // the decoder gives a string or a '}' here
		line := p.line()
		if len(key) > maxValue || !p.budget.spend(len(key)) {
			return p.fail(fmt.Sprintf("a key is longer than %d bytes, or the document holds too many", maxValue))
		}
		val := p.value(depth+1, join(path, key))
		if first, dup := ix.add(key, line); dup && p.prob == nil {
			p.prob = duplicate(join(path, key), line, first)
		}
		out.keys = append(out.keys, entry{key: key, line: line, val: val})
	}
	return out
}

// value reads one value.
func (p *jsonParser) value(depth int, path string) *node {
	if depth > maxDepth {
		return p.fail(fmt.Sprintf("objects and arrays are nested deeper than %d levels", maxDepth))
	}
	tok, err := p.dec.Token()
	if err != nil {
		p.prob = p.syntax(err)
		return &node{}
	}
	size := 0
	switch v := tok.(type) {
	case string:
		size = len(v)
	case json.Number:
		size = len(v)
	}
	if size > maxValue {
		return p.fail(fmt.Sprintf("a value is longer than %d bytes (1 MiB)", maxValue))
	}
	if !p.budget.spend(size) {
		p.prob = p.budget.exceeded(p.line())
		return &node{}
	}
	switch v := tok.(type) {
	case nil:
		return &node{kind: null}
	case json.Delim:
		if v == '{' {
			return p.object(depth, path)
		}
		return p.array(depth, path)
	}
	return &node{kind: scalar, raw: tok}
}

// array reads the items of an array whose '[' was read.
func (p *jsonParser) array(depth int, path string) *node {
	out := &node{kind: list}
	for p.prob == nil && p.dec.More() {
		out.items = append(out.items, p.value(depth+1, path))
	}
	if p.prob == nil {
		if _, err := p.dec.Token(); err != nil { // the closing ']'
			p.prob = p.syntax(err)
		}
	}
	return out
}
