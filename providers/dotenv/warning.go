package dotenv

import (
	"strconv"
	"strings"

	"github.com/strata-go/strata/config"
)

// WarningKind says what a Warning is about.
type WarningKind int

const (
	// UndefinedVariable is a $NAME or ${NAME} that no earlier statement of
	// the file sets. The reference is kept in the value as written.
	UndefinedVariable WarningKind = iota + 1
	// UnclosedQuote is a quoted value that spans lines, one of which looks
	// like a NAME=value statement: the sign of a closing quote left out,
	// which makes the value swallow the statements up to the next quote.
	UnclosedQuote
)

// A Warning is a problem of a .env file that does not stop it from loading.
// It never holds any text of a value. It matches config.ErrWarning with
// errors.Is, which the store reports as a warning (logged, and returned by
// Store.Warnings) or, with Options.Strict, as an error.
type Warning struct {
	Kind WarningKind
	// Source is the file and the line of the reference (UndefinedVariable)
	// or of the opening quote (UnclosedQuote).
	Source config.Source
	// Name is the name of the statement whose value has the problem.
	Name string
	// Variable is the name of the undefined variable, given only when Name
	// is the name of a field that is not secret and the value is not secret
	// by provenance either (it reads no secret, and no secret field's value
	// reads it; see the package documentation). In other values the text
	// after a '$' may be part of a password rather than a variable (and a
	// value of another name may be copied into a secret), so it is not shown.
	Variable string
	// Line is, for UnclosedQuote, the first line of the value that looks like
	// a statement.
	Line int
}

func (w *Warning) Error() string {
	var b strings.Builder
	b.WriteString(w.Source.String())
	b.WriteString(": ")
	switch w.Kind {
	case UndefinedVariable:
		b.WriteString("the value of ")
		b.WriteString(w.Name)
		b.WriteString(" refers to ")
		if w.Variable != "" {
			b.WriteString("${" + w.Variable + "}")
		} else {
			b.WriteString("a variable")
		}
		b.WriteString(", which no earlier line of the file sets; it is kept as written (write $$ for a literal $)")
	case UnclosedQuote:
		b.WriteString("the quoted value of ")
		b.WriteString(w.Name)
		b.WriteString(" opens here and runs over line ")
		b.WriteString(strconv.Itoa(w.Line))
		b.WriteString(", which looks like NAME=value; is a closing quote missing?")
	default:
		b.WriteString("warning")
	}
	return b.String()
}

// Unwrap returns config.ErrWarning.
func (w *Warning) Unwrap() error { return config.ErrWarning }
