package file

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseYAML parses one YAML document into a node tree. Scalars keep their
// text: no YAML type is applied (see the package doc, "Values").
func parseYAML(content []byte) (root *node, probs []*problem) {
	defer func() {
		if r := recover(); r != nil {
			// The parser panicked on this input: its message may quote it.
			root, probs = nil, []*problem{{msg: fmt.Sprintf("invalid YAML: the parser failed (a panic of type %T)", r)}}
		}
	}()
	if n := yamlIndicators(content); n > maxNodes {
		// The parser builds every node before the budget can count them:
		// refuse a document that may hold too many, at a cost of one scan.
		return nil, []*problem{{line: 1, msg: fmt.Sprintf("the document has %d line breaks and YAML indicators (- : , [ { ?), "+
			"more than the %d this layer parses", n, maxNodes)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, []*problem{yamlProblem(err, content)}
	}
	var second yaml.Node
	switch err := dec.Decode(&second); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, []*problem{yamlProblem(err, content)}
	default:
		return nil, []*problem{{line: second.Line, msg: "a second YAML document starts here; the file must hold one"}}
	}
	top := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		top = doc.Content[0]
	}
	c := yamlConverter{active: map[*yaml.Node]bool{}}
	n := c.convert(top, 0, "")
	switch {
	case len(c.probs) > 0:
		return nil, c.probs
	case n.kind == null:
		return nil, nil
	case n.kind != table:
		return nil, []*problem{{line: top.Line, col: top.Column, msg: "the document is not a mapping of keys to values"}}
	}
	return n, nil
}

// yamlIndicators counts the bytes that can start a YAML node: each node but
// the first follows a line break or one of - : , [ { ?, and no more than
// two nodes follow one, so twice the count bounds the nodes the parser
// builds.
func yamlIndicators(b []byte) int {
	n := 0
	for _, c := range b {
		switch c {
		case '\n', '-', ':', ',', '[', '{', '?':
			n++
		}
	}
	return n
}

// yamlConverter converts yaml.Nodes, expanding aliases within a budget.
type yamlConverter struct {
	budget budget
	active map[*yaml.Node]bool // the anchored nodes being converted, to find an alias inside its own anchor
	probs  []*problem
}

func (c *yamlConverter) fail(n *yaml.Node, msg string) *node {
	c.probs = append(c.probs, &problem{line: n.Line, col: n.Column, msg: msg})
	return &node{}
}

// convert converts n, found at the key path.
func (c *yamlConverter) convert(n *yaml.Node, depth int, path string) *node {
	if len(c.probs) > 0 {
		return &node{}
	}
	if depth > maxDepth {
		return c.fail(n, fmt.Sprintf("mappings and lists are nested deeper than %d levels", maxDepth))
	}
	if !c.budget.spend(len(n.Value)) {
		c.probs = c.budget.over(c.probs, n.Line)
		return &node{}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil || c.active[n.Alias] {
			return c.fail(n, "an alias refers to the node that contains it")
		}
		c.active[n.Alias] = true
		defer delete(c.active, n.Alias)
		return c.convert(n.Alias, depth+1, path)
	case yaml.ScalarNode:
		return c.scalar(n)
	case yaml.SequenceNode:
		out := &node{kind: list, items: make([]*node, 0, len(n.Content))}
		for _, it := range n.Content {
			out.items = append(out.items, c.convert(it, depth+1, path))
		}
		return out
	case yaml.MappingNode:
		return c.mapping(n, depth, path)
	}
	return c.fail(n, "invalid YAML: a node of an unknown kind")
}

// scalar converts a scalar: null, bytes for !!binary, its text otherwise.
func (c *yamlConverter) scalar(n *yaml.Node) *node {
	if len(n.Value) > maxValue {
		return c.fail(n, fmt.Sprintf("a value is longer than %d bytes (1 MiB)", maxValue))
	}
	switch n.ShortTag() {
	case "!!null":
		return &node{kind: null}
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp", "!!merge":
		return &node{kind: scalar, raw: n.Value}
	case "!!binary":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), ""))
		if err != nil {
			return c.fail(n, "a !!binary value is not valid base64")
		}
		return &node{kind: scalar, raw: b}
	}
	return c.fail(n, "a value has a tag this layer does not read; use no tag, !!str or !!binary")
}

// mapping converts a mapping, applying merge keys (<<: *defaults): keys
// written in the mapping win over merged ones, and earlier merged mappings
// over later ones.
func (c *yamlConverter) mapping(n *yaml.Node, depth int, path string) *node {
	out := &node{kind: table}
	ix := tableIndex{}
	var merged []*node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return c.fail(k, "a key is not a plain string (a list, a mapping or an alias as a key)")
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, c.mergeSources(v, depth, path)...)
			continue
		}
		if !c.budget.spend(len(k.Value)) {
			c.probs = c.budget.over(c.probs, k.Line)
			return &node{}
		}
		if first, dup := ix.add(k.Value, k.Line); dup {
			c.probs = append(c.probs, duplicate(join(path, k.Value), k.Line, first))
			continue
		}
		out.keys = append(out.keys, entry{key: k.Value, line: k.Line, val: c.convert(v, depth+1, join(path, k.Value))})
	}
	for _, m := range merged {
		for _, e := range m.keys {
			if _, dup := ix.add(e.key, e.line); !dup {
				out.keys = append(out.keys, e)
			}
		}
	}
	return out
}

// mergeSources returns the mappings a merge key's value names: one mapping
// (or an alias of one), or a list of them.
func (c *yamlConverter) mergeSources(v *yaml.Node, depth int, path string) []*node {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	var out []*node
	for _, it := range items {
		m := c.convert(it, depth+1, path)
		if m.kind != table {
			c.fail(it, "a merge key (<<) takes a mapping, an alias of one, or a list of them")
			return nil
		}
		out = append(out, m)
	}
	return out
}

// yamlProblems are the problems the YAML parser reports in fixed words,
// which name no text of the input, so they can be shown.
var yamlProblems = map[string]bool{}

func init() {
	for _, p := range []string{
		"block sequence entries are not allowed in this context", "control characters are not allowed",
		"could not find expected ':'", "could not find expected directive name", "did not find URI escaped octet",
		"did not find expected '!'", "did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"did not find expected '-' indicator", "did not find expected <document start>",
		"did not find expected alphabetic or numeric character", "did not find expected comment or line break",
		"did not find expected digit or '.' character", "did not find expected hexdecimal number",
		"did not find expected key", "did not find expected node content", "did not find expected tag URI",
		"did not find expected version number", "did not find expected whitespace or line break",
		"did not find expected whitespace", "did not find the expected '>'", "expected low surrogate area",
		"found a tab character that violates indentation", "found a tab character where an indentation space is expected",
		"found an incorrect leading UTF-8 octet", "found an incorrect trailing UTF-8 octet",
		"found an indentation indicator equal to 0", "found character that cannot start any token",
		"found extremely long version number", "found incompatible YAML document", "found invalid Unicode character escape code",
		"found undefined tag handle", "found unexpected document indicator", "found unexpected end of stream",
		"found unexpected non-alphabetical character", "found unknown directive name", "found unknown escape character",
		"incomplete UTF-8 octet sequence", "invalid Unicode character", "invalid leading UTF-8 octet",
		"invalid length of a UTF-8 sequence", "invalid trailing UTF-8 octet", "mapping keys are not allowed in this context",
		"mapping values are not allowed in this context", "unexpected low surrogate area", "exceeded max depth of 10000",
	} {
		yamlProblems[p] = true
	}
}

// yamlParserProblems are those of yamlProblems that the parser (rather than
// the scanner) reports: the parser gives their line counted from 0, and no
// line when it is the first.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'": true, "did not find expected ',' or '}'": true,
	"did not find expected '-' indicator": true, "did not find expected <document start>": true,
	"did not find expected key": true, "did not find expected node content": true,
	"found incompatible YAML document": true, "found undefined tag handle": true,
}

// yamlProblem turns an error of the YAML parser into a problem: its line,
// and its words only when they are one of yamlProblems. The parser's text
// may quote the input (an anchor's name, a value), so it is never kept.
func yamlProblem(err error, content []byte) *problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := &problem{msg: "invalid YAML syntax"}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, words, _ := strings.Cut(rest, ": ")
		if n, err := strconv.Atoi(num); err == nil && n > 0 {
			p.line, msg = n, words
		}
	}
	switch {
	case msg == "control characters are not allowed":
		// The reader says no line: find the character.
		p.line, p.col = yamlControl(content)
		p.msg = "invalid YAML: a control character, which YAML does not allow (write it escaped in a double-quoted string)"
	case yamlParserProblems[msg]:
		p.line++
		p.msg = "invalid YAML syntax: " + msg
	case yamlProblems[msg]:
		p.line = max(p.line, 1)
		p.msg = "invalid YAML syntax: " + msg
	case strings.HasPrefix(msg, "unknown anchor"):
		p.msg = "invalid YAML: an alias refers to an anchor that no node above defines"
	}
	return p
}

// yamlControl returns the position of the first character YAML does not
// allow in a document (outside c-printable), or 0, 0.
func yamlControl(b []byte) (line, col int) {
	line, col = 1, 1
	for _, r := range string(b) {
		switch {
		case r == '\n':
			line, col = line+1, 1
			continue
		case r == '\t' || r == '\r' || r == 0x85 || r >= 0x20 && r <= 0x7e || r >= 0xa0 && r <= 0xfffd || r > 0xffff:
		default:
			return line, col
		}
		col++
	}
	return 0, 0
}
