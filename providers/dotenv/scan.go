package dotenv

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// statement is one NAME=value statement of a .env file.
type statement struct {
	name string
	line int // the line, counted from 1, on which the statement starts
	// start and end delimit the value's text: inside the quotes for a quoted
	// value, up to the end of the line otherwise.
	start, end int
	quote      byte // '"', '\'' or 0 for an unquoted value
}

// scanProblem says why a statement is not NAME=value.
type scanProblem int

const (
	problemNone     scanProblem = iota
	problemName                 // no name, or a name with a character a name cannot hold
	problemUnclosed             // a quoted value without its closing quote
)

// scan walks the statements of src the way the dotenv parser does, but keeps
// positions instead of values: the parser returns a map with no line numbers,
// and its errors quote the text they reject. scan reports every statement, or
// the line of the first statement the parser would reject (or that has an
// empty name or a name with blank space in it, which the parser lets through).
// src must already have "\r\n" replaced by "\n". Names are cut from text, which
// must hold the same bytes as src, so that they cost no allocation.
//
// The rules followed are the parser's:
//   - blank space (any Unicode space, including line breaks) between
//     statements is skipped, and a '#' where a statement would start
//     comments out the rest of the line;
//   - a statement may start with "export" and blank space;
//   - a name is made of letters, digits, '_' and '.', and ends at '=' or ':';
//   - a value starting with ' or " ends at the next quote of the same kind
//     not preceded by a backslash, on this line or a later one; any other
//     value ends at the end of the line ('\n' or '\r').
func scan(src []byte, text string) (stmts []statement, badLine int, problem scanProblem) {
	lines := lineCounter{src: src, line: 1}
	stmts = make([]statement, 0, bytes.Count(src, []byte{'='})+1)
	i := 0
	for {
		i = nextStatement(src, i)
		if i >= len(src) {
			return stmts, 0, problemNone
		}
		line := lines.at(i)
		nameStart, nameEnd, valueStart, ok := scanName(src, i)
		name := text[nameStart:nameEnd]
		if !ok || !validName(name) {
			return stmts, line, problemName
		}
		st, next, ok := scanValue(src, valueStart)
		if !ok {
			return stmts, line, problemUnclosed
		}
		st.name, st.line = name, line
		stmts = append(stmts, st)
		i = next
	}
}

// nextStatement returns the offset of the first statement at or after i, or
// len(src) when only blank space and comments remain.
func nextStatement(src []byte, i int) int {
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			i++
			continue
		case c == '#':
			nl := bytes.IndexByte(src[i:], '\n')
			if nl < 0 {
				return len(src)
			}
			i += nl + 1
			continue
		case c < utf8.RuneSelf:
			return i
		}
		r, size := utf8.DecodeRune(src[i:])
		if !unicode.IsSpace(r) {
			return i
		}
		i += size
	}
	return len(src)
}

// scanName reads the name of the statement at i. It returns the span of the
// name and the offset of the value, or ok == false when the parser rejects
// the name.
func scanName(src []byte, i int) (nameStart, nameEnd, valueStart int, ok bool) {
	s := src[i:]
	if rest, found := bytes.CutPrefix(s, []byte("export")); found && bytes.IndexFunc(rest, inlineSpace) == 0 {
		s = bytes.TrimLeftFunc(rest, inlineSpace)
	}
	if len(s) == 0 {
		return 0, 0, 0, false
	}
	base := len(src) - len(s)
	end, sep := -1, 0
loop:
	for j, c := range s {
		switch {
		case c == '=' || c == ':':
			end, sep = j, j+1
			break loop
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_', c == '.':
		case inlineSpace(rune(c)):
		case c >= utf8.RuneSelf && (unicode.IsLetter(rune(c)) || unicode.IsNumber(rune(c))):
			// The parser looks at bytes, not runes, here.
		default:
			return 0, 0, 0, false
		}
	}
	if end < 0 {
		// The statement runs to the end of the input with no '=' or ':'. The
		// parser then takes an empty name and the text as its value.
		end, sep = 0, 0
	}
	name := bytes.TrimRightFunc(s[:end], unicode.IsSpace)
	rest := bytes.TrimLeftFunc(s[sep:], inlineSpace)
	return base, base + len(name), base + len(s) - len(rest), true
}

// scanValue reads the value starting at i. It returns its span and the offset
// just after it, or ok == false for a quoted value that is never closed.
func scanValue(src []byte, i int) (st statement, next int, ok bool) {
	s := src[i:]
	if len(s) > 0 && (s[0] == '"' || s[0] == '\'') {
		q := s[0]
		for j := 1; j < len(s); j++ {
			if s[j] == q && s[j-1] != '\\' {
				return statement{start: i + 1, end: i + j, quote: q}, i + j + 1, true
			}
		}
		return statement{}, 0, false
	}
	end := bytes.IndexAny(s, "\r\n")
	if end < 0 {
		end = len(s)
	}
	return statement{start: i, end: i + end}, i + end, true
}

// plainValue returns the value of st when the parser would return its text
// as it stands, give or take blank space and a trailing comment: no escapes,
// no variables, no quote characters inside quotes, only ASCII in an unquoted
// value (the parser rewrites invalid UTF-8 there). Otherwise it returns
// ok == false and the parser must compute the value.
func plainValue(src []byte, st statement) (value []byte, ok bool) {
	start, end, ok := plainSpan(src, st)
	if !ok {
		return nil, false
	}
	return src[start:end], true
}

// plainSpan is plainValue as offsets into src.
func plainSpan(src []byte, st statement) (start, end int, ok bool) {
	text := src[st.start:st.end]
	switch st.quote {
	case '\'':
		if bytes.IndexByte(text, '\'') >= 0 {
			return 0, 0, false
		}
		return st.start, st.end, true
	case '"':
		if bytes.IndexAny(text, "\"\\$") >= 0 {
			return 0, 0, false
		}
		return st.start, st.end, true
	}
	cut := len(text)
	for j, c := range text {
		switch {
		case c >= utf8.RuneSelf || c == '$':
			return 0, 0, false
		case c == '#' && j > 0 && inlineSpace(rune(text[j-1])):
			// The parser ends the value at the last " #" of the line.
			cut = j
		}
	}
	trimmed := bytes.TrimRightFunc(text[:cut], inlineSpace)
	lead := len(trimmed) - len(bytes.TrimLeftFunc(trimmed, inlineSpace))
	return st.start + lead, st.start + len(trimmed), true
}

// validName reports whether a name the parser accepted is one this package
// accepts too: it must not be empty or hold blank space ("MY NAME=x").
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case ' ', '\t', '\v', '\f', '\r':
			return false
		}
	}
	return true
}

// inlineSpace reports whether r is blank space within a line: the parser's
// notion of space, which leaves out line breaks.
func inlineSpace(r rune) bool {
	switch r {
	case '\t', '\v', '\f', '\r', ' ', 0x85, 0xA0:
		return true
	}
	return false
}

// lineCounter turns increasing offsets into line numbers without rescanning
// the input from the start each time.
type lineCounter struct {
	src  []byte
	off  int
	line int
}

func (c *lineCounter) at(off int) int {
	c.line += bytes.Count(c.src[c.off:off], []byte{'\n'})
	c.off = off
	return c.line
}
