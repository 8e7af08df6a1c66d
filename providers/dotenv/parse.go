package dotenv

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/strata-go/strata/config"
)

// statement is one NAME=value statement of a .env file, with its value
// computed.
type statement struct {
	name  string
	line  int // the line, counted from 1, on which the name stands
	value string
	// deps are the statements, all earlier, whose values this one read.
	deps []int
	// secret is set when the value is secret by provenance (see taint): it
	// read a secret field's name or a secret statement, or a secret field's
	// value read it.
	secret bool
	// failed marks a malformed statement, which sets nothing.
	failed bool
}

// parser reads the statements of a .env file. It never stops at a problem:
// each malformed statement is recorded in errs (by line, never with its
// text) and parsing goes on with the next line, so that one load reports
// every problem of the file.
type parser struct {
	path   string
	schema *config.Schema
	src    string // BOM removed, every line break "\n"
	pos    int
	line   int // the line of src[pos]
	stmts  []statement
	index  map[string]int // the last statement of each name, once there are many
	errs   []error        // *config.SourceError, at least one per malformed statement
	warns  []error        // *Warning
	// refs are the messages that may name a variable, which resolve names
	// once taint has decided which values are secret.
	refs []ref
	// total is the size of every value computed so far, bounded by maxFile.
	total int
}

// parse reads src, which normalize prepared. schema tells which names are
// secret; it may be nil.
func parse(path, src string, schema *config.Schema) *parser {
	p := &parser{path: path, schema: schema, src: src, line: 1,
		stmts: make([]statement, 0, strings.Count(src, "=")+1)}
	for p.skipBlank() {
		p.statement()
	}
	p.taint()
	p.resolve()
	return p
}

// normalize removes a leading byte order mark and turns "\r\n" and a lone
// "\r" into "\n", so that lines are counted the same whatever the file's
// line endings.
func normalize(content []byte) string {
	s := string(content)
	s = strings.TrimPrefix(s, "\uFEFF")
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}

// skipBlank skips blank space, line breaks and comment lines. It reports
// whether a statement follows.
func (p *parser) skipBlank() bool {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
			p.pos++
		case c == '#':
			p.skipLine()
		case c < utf8.RuneSelf:
			return true
		default:
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			if !unicode.IsSpace(r) {
				return true
			}
			p.pos += size
		}
	}
	return false
}

// skipLine moves to the start of the next line.
func (p *parser) skipLine() {
	nl := strings.IndexByte(p.src[p.pos:], '\n')
	if nl < 0 {
		p.pos = len(p.src)
		return
	}
	p.pos += nl + 1
	p.line++
}

// skipInline skips blank space within a line.
func (p *parser) skipInline() {
	for p.pos < len(p.src) && isBlank(p.src[p.pos]) {
		p.pos++
	}
}

// advance moves to end, counting the line breaks on the way.
func (p *parser) advance(end int) {
	p.line += strings.Count(p.src[p.pos:end], "\n")
	p.pos = end
}

// statement reads one statement, which starts at p.pos.
func (p *parser) statement() {
	line := p.line
	name, ok := p.readName()
	if !ok {
		p.fail(line, "expected NAME=value")
		p.skipLine()
		return
	}
	p.stmts = append(p.stmts, statement{name: name, line: line, failed: true}) // no value until computed
	k := len(p.stmts) - 1
	sep := p.pos
	p.skipInline()
	if p.pos < len(p.src) && (p.src[p.pos] == '"' || p.src[p.pos] == '\'') {
		ok = p.quoted(k)
	} else {
		ok = p.unquoted(k, sep)
	}
	p.stmts[k].failed = !ok
	if ok && p.index != nil {
		p.index[name] = k
	}
}

// last returns the index of the last statement that set name.
func (p *parser) last(name string) (int, bool) {
	if p.index == nil && len(p.stmts) > 32 {
		p.index = make(map[string]int, len(p.stmts))
		for k, st := range p.stmts {
			if !st.failed {
				p.index[st.name] = k
			}
		}
	}
	if p.index != nil {
		k, ok := p.index[name]
		return k, ok
	}
	for k := len(p.stmts) - 1; k >= 0; k-- {
		if p.stmts[k].name == name && !p.stmts[k].failed {
			return k, true
		}
	}
	return 0, false
}

// readName reads an optional "export " and the name of a statement up to and
// including its '=' or ':'. A name is made of letters, digits and the
// characters _ . - [ ].
func (p *parser) readName() (string, bool) {
	if rest, ok := strings.CutPrefix(p.src[p.pos:], "export"); ok && rest != "" && isBlank(rest[0]) {
		p.pos += len("export")
		p.skipInline()
	}
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c < utf8.RuneSelf {
			if !isNameByte(c) {
				break
			}
			p.pos++
			continue
		}
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsNumber(r)) {
			break
		}
		p.pos += size
	}
	name := p.src[start:p.pos]
	p.skipInline()
	if name == "" || p.pos >= len(p.src) || (p.src[p.pos] != '=' && p.src[p.pos] != ':') {
		return "", false
	}
	p.pos++
	return name, true
}

// unquoted reads a value that is not quoted: the rest of the line after the
// separator at sep, up to a '#' that follows blank space, trimmed.
func (p *parser) unquoted(k, sep int) bool {
	end := len(p.src)
	if nl := strings.IndexByte(p.src[sep:], '\n'); nl >= 0 {
		end = sep + nl
	}
	raw := p.src[sep:end]
	for i := 1; i < len(raw); i++ {
		if raw[i] == '#' && isBlank(raw[i-1]) {
			raw = raw[:i]
			break
		}
	}
	raw = strings.TrimFunc(raw, unicode.IsSpace)
	p.pos = end
	if !utf8.ValidString(raw) {
		p.fail(p.stmts[k].line, "the value is not valid UTF-8; save the file as UTF-8")
		return false
	}
	return p.expand(k, raw, false)
}

// quoted reads a value in single or double quotes, which may span lines. A
// backslash escapes the character after it, so \" or \' does not close the
// value.
func (p *parser) quoted(k int) bool {
	st := &p.stmts[k]
	q := p.src[p.pos]
	i := p.pos + 1
	for ; i < len(p.src); i++ {
		if c := p.src[i]; c == '\\' {
			i++
		} else if c == q {
			break
		}
	}
	if i >= len(p.src) {
		p.fail(st.line, "expected NAME=value, the quoted value is not closed")
		p.skipLine()
		return false
	}
	raw := p.src[p.pos+1 : i]
	p.advance(i + 1)
	p.checkLines(st.name, st.line, raw)
	p.skipInline()
	if p.pos < len(p.src) && p.src[p.pos] != '\n' && p.src[p.pos] != '#' {
		p.fail(p.line, "expected NAME=value, only a # comment may follow the closing quote")
		p.skipLine()
		return false
	}
	if !utf8.ValidString(raw) {
		p.fail(st.line, "the value is not valid UTF-8; save the file as UTF-8")
		return false
	}
	if q == '\'' {
		st.value = unescapeSingle(raw)
		return p.grow(st.line, 0, len(st.value))
	}
	return p.expand(k, raw, true)
}

// checkLines warns about a quoted value whose later lines look like
// statements: the sign of a closing quote left out, which makes the value
// swallow the statements up to the next quote.
func (p *parser) checkLines(name string, open int, raw string) {
	nl := strings.IndexByte(raw, '\n')
	if nl < 0 {
		return
	}
	line := open
	for rest := raw[nl:]; rest != ""; {
		rest = rest[1:]
		line++
		text := rest
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			text, rest = rest[:nl], rest[nl:]
		} else {
			rest = ""
		}
		if looksLikeStatement(text) {
			p.warns = append(p.warns, &Warning{Kind: UnclosedQuote, Source: source(p.path, open), Name: name, Line: line})
			return
		}
	}
}

// looksLikeStatement reports whether a line of a quoted value reads like
// NAME=value with an upper-case name. Base64 lines, which end in "=" or "==",
// mix cases and so do not count.
func looksLikeStatement(line string) bool {
	line = strings.TrimLeft(line, " \t")
	if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && isBlank(rest[0]) {
		line = strings.TrimLeft(rest, " \t")
	}
	i := 0
	for i < len(line) && (line[i] == '_' || 'A' <= line[i] && line[i] <= 'Z' || i > 0 && '0' <= line[i] && line[i] <= '9') {
		i++
	}
	if i == 0 {
		return false
	}
	rest := strings.TrimLeft(line[i:], " \t")
	return strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, "==")
}

// unescapeSingle computes a single-quoted value: \' is a quote, and every
// other character, backslashes included, stands for itself.
func unescapeSingle(raw string) string {
	if !strings.Contains(raw, `\'`) {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) {
			if raw[i+1] != '\'' {
				b.WriteByte(c)
			}
			i++
			c = raw[i]
		}
		b.WriteByte(c)
	}
	return b.String()
}

// fail records a malformed statement. The message names the line, never its
// text, which may hold a secret.
func (p *parser) fail(line int, problem string) *config.SourceError {
	err := &config.SourceError{Layer: layerName, Source: p.path, Code: config.ErrMalformed, Message: lineProblem(line, problem)}
	p.errs = append(p.errs, err)
	return err
}

func lineProblem(line int, problem string) string { return "line " + itoa(line) + ": " + problem }

// secretName reports whether name is the environment name of a secret field.
func (p *parser) secretName(name string) bool {
	if p.schema == nil {
		return false
	}
	f := p.schema.FieldByEnv(name)
	return f != nil && f.Secret
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' }

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '[' || c == ']'
}
