package dotenv

import "github.com/strata-go/strata/config"

// A ref is a message that would name a variable: a *Warning about an
// undefined variable, or the error of a required one. It names none when it
// is made; resolve names the variable once taint has decided that the value
// is not secret.
type ref struct {
	stmt     int    // the statement whose value holds the reference
	variable string // the name after the '$'
	warning  *Warning
	err      *config.SourceError
	line     int  // of err
	colon    bool // of err: ${NAME:?}
}

// taint decides which statements are secret by provenance. Every statement
// that the value of a secret field's name reads, directly or through other
// statements, is secret: its text is part of the secret. Then every
// statement that reads a secret one, or the value of a secret field's name,
// is secret too. A statement reads only earlier ones, so one pass in file
// order finishes the second step.
func (p *parser) taint() {
	var stack []int
	for k := range p.stmts {
		if p.secretName(p.stmts[k].name) {
			stack = append(stack, p.stmts[k].deps...)
		}
	}
	used := make([]bool, len(p.stmts)) // read by a secret field's value
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !used[k] {
			used[k] = true
			p.stmts[k].secret = true
			stack = append(stack, p.stmts[k].deps...)
		}
	}
	for k := range p.stmts {
		st := &p.stmts[k]
		for _, d := range st.deps {
			if st.secret {
				break
			}
			st.secret = p.stmts[d].secret || p.secretName(p.stmts[d].name)
		}
	}
}

// resolve names the variable of each ref whose value is that of a field that
// is not secret, by type or by provenance. Elsewhere the text after a '$' may
// be part of a password rather than a variable the user meant, and a value
// of a name that is no field may be copied into a secret, so it is not shown.
func (p *parser) resolve() {
	for _, r := range p.refs {
		if !p.plain(r.stmt) {
			continue
		}
		if r.warning != nil {
			r.warning.Variable = r.variable
		}
		if r.err != nil {
			r.err.Message = lineProblem(r.line, requiredProblem("${"+r.variable+"}", r.colon))
		}
	}
}

// plain reports whether statement k sets a field that is not secret with a
// value that is not secret either.
func (p *parser) plain(k int) bool {
	if p.schema == nil || p.stmts[k].secret {
		return false
	}
	f := p.schema.FieldByEnv(p.stmts[k].name)
	return f != nil && !f.Secret
}

// grow records n more bytes of a value of which size bytes are computed, on
// line. It reports whether they fit in the limits of a value and of a file,
// and records the problem when not.
func (p *parser) grow(line, size, n int) bool {
	switch {
	case size+n > maxValue:
		p.fail(line, "the value would be longer than "+itoa(maxValue>>20)+" MiB ("+itoa(maxValue)+" bytes), the limit for one value")
	case p.total+n > maxFile:
		p.fail(line, "the values of the file would be longer than "+itoa(maxFile>>20)+" MiB ("+itoa(maxFile)+
			" bytes) in all, the limit for one file")
	default:
		p.total += n
		return true
	}
	return false
}
