package dotenv

import (
	"strings"
	"unicode"
)

// Quote returns value written for the right-hand side of a NAME=value line,
// such that this package reads it back as exactly value. A value of letters,
// digits and punctuation other than # ' " \ $ is returned as it is; any other
// value, the empty one included, is put in double quotes with \\, \", \$,
// \n, \r and \t escaped, so it stays on one line. value must be valid UTF-8,
// as a .env file must be.
//
// docker compose reads the result as the same value too. Use Quote to write
// .env and .env.example files.
func Quote(value string) string {
	if value != "" && strings.IndexFunc(value, needsQuotes) < 0 {
		return value
	}
	var b strings.Builder
	b.Grow(len(value) + 2)
	b.WriteByte('"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\', '"', '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// needsQuotes reports whether r cannot stand in an unquoted value as it is.
func needsQuotes(r rune) bool {
	switch r {
	case '#', '\'', '"', '\\', '$', '`':
		return true
	}
	return unicode.IsSpace(r) || !unicode.IsPrint(r)
}
