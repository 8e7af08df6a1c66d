package dotenv

import (
	"strconv"
	"strings"
)

// expander computes one unquoted or double-quoted value: its escapes
// (double quotes only) and its substitutions, $NAME, ${NAME} and the
// ${NAME<op>word} forms, from the statements read before it.
type expander struct {
	p      *parser
	name   string // the statement's name
	line   int    // the statement's line
	raw    string
	dq     bool // double-quoted: backslash escapes apply
	secret bool // a secret variable was read
	depth  int  // of the ${...} being expanded
	warned int  // warnings given for this statement
}

// maxDepth bounds the nesting of ${NAME:-${OTHER:-...}}, and maxWarnings the
// warnings of one statement, so that no file costs more than linear time.
const (
	maxDepth    = 16
	maxWarnings = 8
)

// expand computes the value of the statement name on line from raw, and
// whether it holds secret text. It reports ok == false, having recorded the
// problem, when a substitution is invalid or a required variable is unset.
func (p *parser) expand(name string, line int, raw string, dq bool) (value string, secret, ok bool) {
	if strings.IndexByte(raw, '$') < 0 && (!dq || strings.IndexByte(raw, '\\') < 0) {
		return raw, false, true // the common case: nothing to compute, nothing to copy
	}
	e := &expander{p: p, name: name, line: line, raw: raw, dq: dq}
	var b strings.Builder
	b.Grow(len(raw))
	if !e.write(&b, 0, len(raw)) {
		return "", false, false
	}
	return b.String(), e.secret, true
}

// write expands raw[i:end] onto b.
func (e *expander) write(b *strings.Builder, i, end int) bool {
	for i < end {
		switch c := e.raw[i]; {
		case c == '\\' && e.dq && i+1 < end:
			writeEscape(b, e.raw[i+1])
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
			b.WriteString(e.raw[i:j])
			i = j
		}
	}
	return true
}

// writeEscape writes what a backslash and c stand for in double quotes. An
// unknown escape stands for itself, backslash included.
func writeEscape(b *strings.Builder, c byte) {
	switch c {
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'a':
		b.WriteByte('\a')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'v':
		b.WriteByte('\v')
	case '"', '\\', '$':
		b.WriteByte(c)
	default:
		b.WriteByte('\\')
		b.WriteByte(c)
	}
}

// dollar expands the '$' at raw[i] and returns the offset after what it
// consumed. "$$" is one '$'; a '$' that starts no name stands for itself.
func (e *expander) dollar(b *strings.Builder, i, end int) (int, bool) {
	if i+1 >= end {
		b.WriteByte('$')
		return i + 1, true
	}
	switch c := e.raw[i+1]; {
	case c == '$':
		b.WriteByte('$')
		return i + 2, true
	case c == '{':
		return e.braced(b, i, end)
	case isVarStart(c):
		j := i + 2
		for j < end && isVarByte(e.raw[j]) {
			j++
		}
		e.substitute(b, e.raw[i+1:j], i, j)
		return j, true
	}
	b.WriteByte('$')
	return i + 1, true
}

// substitute writes the value of name, or, when no earlier statement set
// it, the reference raw[i:j] as written, with a warning.
func (e *expander) substitute(b *strings.Builder, name string, i, j int) {
	if v, ok := e.lookup(name); ok {
		b.WriteString(v)
		return
	}
	b.WriteString(e.raw[i:j])
	if e.warned++; e.warned > maxWarnings {
		return
	}
	e.p.warns = append(e.p.warns, &Warning{Kind: UndefinedVariable, Source: source(e.p.path, e.lineOf(i)),
		Name: e.name, Variable: e.shown(name)})
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
		e.substitute(b, name, i, k+1)
		return k + 1, true
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
	if closing < 0 || e.depth >= maxDepth {
		return 0, e.invalid(i)
	}
	e.depth++
	defer func() { e.depth-- }()
	v, set := e.lookup(name)
	present := set && (!colon || v != "")
	switch op {
	case '?':
		if !present {
			msg := "the value requires " + e.ref(name) + ", which is not set"
			if colon {
				msg += " or is empty"
			}
			e.p.fail(e.lineOf(i), msg)
			return 0, false
		}
		b.WriteString(v)
	case '-':
		if present {
			b.WriteString(v)
		} else if !e.write(b, word, closing) {
			return 0, false
		}
	case '+':
		if present && !e.write(b, word, closing) {
			return 0, false
		}
	}
	return closing + 1, true
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
// name. Reading a secret variable makes the value secret.
func (e *expander) lookup(name string) (string, bool) {
	if e.p.secretName(name) {
		e.secret = true
	}
	k, ok := e.p.last(name)
	if !ok {
		return "", false
	}
	st := &e.p.stmts[k]
	e.secret = e.secret || st.secret
	return st.value, true
}

func (e *expander) invalid(i int) bool {
	e.p.fail(e.lineOf(i), "a ${ starts no valid substitution such as ${NAME} or ${NAME:-default}; write $$ for a literal $")
	return false
}

// lineOf returns the line of raw[i].
func (e *expander) lineOf(i int) int { return e.line + strings.Count(e.raw[:i], "\n") }

// shown returns name for a message, or "" unless the statement sets a field
// that is not secret: the text after a '$' in a password is no variable the
// user meant, and naming it would show part of the password. Statements of
// other names may be copied into a secret, so they do not name it either.
func (e *expander) shown(name string) string {
	if e.p.schema == nil {
		return ""
	}
	if f := e.p.schema.FieldByEnv(e.name); f == nil || f.Secret {
		return ""
	}
	return name
}

// ref names a variable in a message, as shown allows.
func (e *expander) ref(name string) string {
	if n := e.shown(name); n != "" {
		return "${" + n + "}"
	}
	return "a variable"
}

func isVarStart(c byte) bool { return c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' }
func isVarByte(c byte) bool  { return isVarStart(c) || '0' <= c && c <= '9' }

func itoa(n int) string { return strconv.Itoa(n) }
