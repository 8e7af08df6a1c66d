package dotenv

import (
	"strconv"
	"strings"
)

// expander computes one unquoted or double-quoted value: its escapes
// (double quotes only) and its substitutions, $NAME, ${NAME} and the
// ${NAME<op>word} forms, from the statements read before it.
type expander struct {
	p        *parser
	k        int    // the statement's index in p.stmts
	name     string // the statement's name
	line     int    // the statement's line
	raw      string
	dq       bool  // double-quoted: backslash escapes apply
	secret   bool  // the name of a secret field was read
	deps     []int // the statements whose values were read
	refs     []ref // the messages that may name a variable
	size     int   // of the value so far
	depth    int   // of the ${...} being expanded
	warned   int   // warnings given for this statement
	required bool  // a ${NAME:?} or ${NAME?} failed
}

// maxDepth bounds the nesting of ${NAME:-${OTHER:-...}}, and maxWarnings the
// warnings of one statement, so that no file costs more than linear time.
// maxValue bounds the size of a value and maxFile that of all the values of
// a file together, so that substitutions that copy a value many times over
// cannot make a small file cost much memory.
const (
	maxDepth    = 16
	maxWarnings = 8
	maxValue    = 1 << 20
	maxFile     = 16 << 20
)

// expand computes the value of statement k from raw, and the statements it
// reads. It reports false, having recorded the problem, when a substitution
// is invalid, a required variable is unset or the value is too long.
func (p *parser) expand(k int, raw string, dq bool) bool {
	st := &p.stmts[k]
	if strings.IndexByte(raw, '$') < 0 && (!dq || strings.IndexByte(raw, '\\') < 0) {
		st.value = raw // the common case: nothing to compute, nothing to copy
		return p.grow(st.line, 0, len(raw))
	}
	e := &expander{p: p, k: k, name: st.name, line: st.line, raw: raw, dq: dq}
	var b strings.Builder
	b.Grow(min(len(raw), maxValue))
	complete := e.write(&b, 0, len(raw))
	st.deps, st.secret = e.deps, e.secret
	if !complete || e.required {
		if complete {
			p.refs = append(p.refs, e.refs...)
		}
		return false
	}
	p.refs = append(p.refs, e.refs...)
	st.value = b.String()
	return true
}

// write expands raw[i:end] onto b.
func (e *expander) write(b *strings.Builder, i, end int) bool {
	for i < end {
		switch c := e.raw[i]; {
		case c == '\\' && e.dq && i+1 < end:
			if !e.put(b, e.escape(i)) {
				return false
			}
			i += 2
		case c == '$':
			next, ok := e.dollar(b, i, end)
			if !ok {
				return false
			}
			i = next
		default:
			j := i + 1
			for j < end && e.raw[j] != '$' && (!e.dq || e.raw[j] != '\\') {
				j++
			}
			if !e.put(b, e.raw[i:j]) {
				return false
			}
			i = j
		}
	}
	return true
}

// put writes s onto b if the value and the file have room for it.
func (e *expander) put(b *strings.Builder, s string) bool {
	if !e.p.grow(e.line, e.size, len(s)) {
		return false
	}
	e.size += len(s)
	b.WriteString(s)
	return true
}

// escape returns what the backslash at raw[i] and the character after it
// stand for in double quotes. An unknown escape stands for itself, backslash
// included.
func (e *expander) escape(i int) string {
	switch e.raw[i+1] {
	case 'n':
		return "\n"
	case 'r':
		return "\r"
	case 't':
		return "\t"
	case 'a':
		return "\a"
	case 'b':
		return "\b"
	case 'f':
		return "\f"
	case 'v':
		return "\v"
	case '"', '\\', '$':
		return e.raw[i+1 : i+2]
	}
	return e.raw[i : i+2]
}

// dollar expands the '$' at raw[i] and returns the offset after what it
// consumed. "$$" is one '$'; a '$' that starts no name stands for itself.
func (e *expander) dollar(b *strings.Builder, i, end int) (int, bool) {
	if i+1 >= end {
		return i + 1, e.put(b, "$")
	}
	switch c := e.raw[i+1]; {
	case c == '$':
		return i + 2, e.put(b, "$")
	case c == '{':
		return e.braced(b, i, end)
	case isVarStart(c):
		j := i + 2
		for j < end && isVarByte(e.raw[j]) {
			j++
		}
		return j, e.substitute(b, e.raw[i+1:j], i, j)
	}
	return i + 1, e.put(b, "$")
}

// substitute writes the value of name, or, when no earlier statement set
// it, the reference raw[i:j] as written, with a warning.
func (e *expander) substitute(b *strings.Builder, name string, i, j int) bool {
	if v, ok := e.lookup(name); ok {
		return e.put(b, v)
	}
	if !e.put(b, e.raw[i:j]) {
		return false
	}
	if e.warned++; e.warned > maxWarnings {
		return true
	}
	// The warning names no variable until resolve knows the value is plain.
	w := &Warning{Kind: UndefinedVariable, Source: source(e.p.path, e.lineOf(i)), Name: e.name}
	e.p.warns = append(e.p.warns, w)
	e.refs = append(e.refs, ref{stmt: e.k, variable: name, warning: w})
	return true
}

// braced expands the ${...} at raw[i].
func (e *expander) braced(b *strings.Builder, i, end int) (int, bool) {
	j := i + 2
	if j >= end || !isVarStart(e.raw[j]) {
		return 0, e.invalid(i)
	}
	k := j + 1
	for k < end && isVarByte(e.raw[k]) {
		k++
	}
	name := e.raw[j:k]
	if k < end && e.raw[k] == '}' {
		return k + 1, e.substitute(b, name, i, k+1)
	}
	colon := k < end && e.raw[k] == ':'
	if colon {
		k++
	}
	if k >= end || (e.raw[k] != '-' && e.raw[k] != '?' && e.raw[k] != '+') {
		return 0, e.invalid(i)
	}
	op := e.raw[k]
	word := k + 1
	closing := e.closing(word, end)
	if closing < 0 {
		return 0, e.invalid(i)
	}
	if e.depth >= maxDepth {
		e.p.fail(e.lineOf(i), "the substitutions are nested deeper than "+itoa(maxDepth)+
			" levels, the limit; set a variable on a line above and substitute that instead")
		return 0, false
	}
	e.depth++
	defer func() { e.depth-- }()
	v, set := e.lookup(name)
	present := set && (!colon || v != "")
	ok := true
	switch {
	case op == '?' && !present:
		e.require(i, name, colon)
	case op == '?', op == '-' && present:
		ok = e.put(b, v)
	case op == '-', op == '+' && present:
		ok = e.write(b, word, closing)
	}
	return closing + 1, ok
}

// require records that the ${NAME?} or ${NAME:?} at raw[i] found name unset
// (or, with colon, empty). Expansion goes on, so that every variable the
// value reads is known when resolve decides whether the error may name it;
// only the first such problem of a value is reported.
func (e *expander) require(i int, name string, colon bool) {
	if e.required {
		return
	}
	e.required = true
	line := e.lineOf(i)
	err := e.p.fail(line, requiredProblem("a variable", colon))
	e.refs = append(e.refs, ref{stmt: e.k, variable: name, err: err, line: line, colon: colon})
}

// requiredProblem describes a required variable, named by what, that is unset.
func requiredProblem(what string, colon bool) string {
	msg := "the value requires " + what + ", which is not set"
	if colon {
		msg += " or is empty"
	}
	return msg
}

// closing returns the offset of the '}' that closes a ${ whose word starts
// at i, skipping nested ${...} and escapes, or -1.
func (e *expander) closing(i, end int) int {
	depth := 0
	for ; i < end; i++ {
		switch e.raw[i] {
		case '\\':
			if e.dq {
				i++
			}
		case '$':
			if i+1 < end && e.raw[i+1] == '{' {
				depth++
			}
			if i+1 < end && (e.raw[i+1] == '{' || e.raw[i+1] == '$') {
				i++
			}
		case '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// lookup returns the value of the last statement before this one that set
// name, and records that the value read it.
func (e *expander) lookup(name string) (string, bool) {
	if e.p.secretName(name) {
		e.secret = true
	}
	k, ok := e.p.last(name)
	if !ok {
		return "", false
	}
	if n := len(e.deps); n == 0 || e.deps[n-1] != k {
		e.deps = append(e.deps, k)
	}
	return e.p.stmts[k].value, true
}

func (e *expander) invalid(i int) bool {
	e.p.fail(e.lineOf(i), "a ${ starts no valid substitution such as ${NAME} or ${NAME:-default}; write $$ for a literal $")
	return false
}

// lineOf returns the line of raw[i].
func (e *expander) lineOf(i int) int { return e.line + strings.Count(e.raw[:i], "\n") }

func isVarStart(c byte) bool { return c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' }
func isVarByte(c byte) bool  { return isVarStart(c) || '0' <= c && c <= '9' }

func itoa(n int) string { return strconv.Itoa(n) }
