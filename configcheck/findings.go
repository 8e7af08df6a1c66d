package configcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/strata-go/strata/config"
)

// Severities of a finding.
const (
	severityError   = "error"
	severityWarning = "warning"
)

// Kinds of finding.
const (
	kindInvalidValue   = "invalid_value"    // a value that does not decode into its field's type
	kindValidation     = "validation"       // a validate rule that fails
	kindUnknownName    = "unknown_name"     // a name under the prefix that maps to no field
	kindSecretPolicy   = "secret_policy"    // a secret set by a layer that is not sensitive
	kindSource         = "source"           // a file or secret that could not be read or parsed
	kindSchema         = "schema"           // the configuration type itself is wrong
	kindEnvFileMode    = "env_file_mode"    // a .env file readable by group or others
	kindEnvFileTracked = "env_file_tracked" // a .env file tracked by git
	kindInvalidDefault = "invalid_default"  // a default that fails validation
	kindOther          = "other"
)

// finding is one problem, ready to print in any format. It holds no value of
// a secret field: messages come from the config package's errors, which never
// include one.
type finding struct {
	Severity   string `json:"severity"`
	Kind       string `json:"kind"`
	Key        string `json:"key,omitempty"`
	Env        string `json:"env,omitempty"`
	Source     string `json:"source,omitempty"`
	Rule       string `json:"rule,omitempty"`
	Suggestion string `json:"suggestion,omitempty"`
	Message    string `json:"message"`

	// file and line place a GitHub annotation, when the finding is about a
	// line of a .env file.
	file string
	line int
	// unreadable marks a source that could not be read: it ends the command
	// with ExitUsage rather than ExitProblems.
	unreadable bool
}

// policy says which warnings count as errors.
type policy struct {
	strict     bool // every warning is an error
	production bool // secret-policy findings are errors
	// known tells environment names from keys and files from other
	// sources; see known.go.
	known known
}

// classify turns one problem of a load into a finding.
func classify(err error, p policy) finding {
	f := finding{Severity: severityError, Kind: kindOther, Message: err.Error()}
	var (
		unknown *config.UnknownNameError
		field   *config.FieldError
		source  *config.SourceError
	)
	switch {
	case errors.As(err, &unknown):
		f.Kind = kindUnknownName
		f.Suggestion = unknown.Suggestion
		switch {
		case unknown.Name == "":
			// A key of a secret's content: never shown, so the finding
			// has neither key nor env; its source names where it is.
		case p.known.isEnvName(unknown):
			f.Env = unknown.Name
		default:
			f.Key = unknown.Name
		}
		f.Source = unknown.Source.String()
		f.file, f.line = fileLine(unknown.Source)
		if !p.strict {
			f.Severity = severityWarning
		}
	case errors.As(err, &field):
		f.Key, f.Env, f.Rule = field.Key, field.Env, field.Rule
		if field.Source.Layer != "" {
			f.Source = field.Source.String()
		}
		f.file, f.line = fileLine(field.Source)
		switch {
		case errors.Is(err, config.ErrSecretPolicy):
			f.Kind = kindSecretPolicy
			if !p.strict && !p.production {
				f.Severity = severityWarning
			}
		case errors.Is(err, config.ErrInvalidValue):
			f.Kind = kindInvalidValue
		case errors.Is(err, config.ErrValidation):
			f.Kind = kindValidation
		}
	case errors.As(err, &source):
		f.Kind = kindSource
		f.Source = strings.TrimSpace(source.Layer + " " + source.Source)
		if p.known.files[source.Source] {
			f.file = source.Source
		}
		// Content that does not parse, and a secret that is missing, denied or
		// cannot be decrypted, are problems of the environment being checked
		// (exit 1). A file that cannot be read, or a call that failed on the way
		// (timeouts, throttling, 5xx) or had no credentials that work, is not
		// an answer about the environment at all (exit 2).
		switch {
		case errors.Is(err, config.ErrMalformed):
			f.unreadable = source.Err != nil
		case p.known.files[source.Source]:
			f.unreadable = true
		default:
			f.unreadable = config.IsTransient(err) || source.Code == nil || errors.Is(err, config.ErrCredentials)
		}
	case errors.Is(err, config.ErrUnknownName), errors.Is(err, config.ErrWarning):
		// A layer's own warning, such as a .env reference to a variable the
		// file does not set: a warning, as the store treats it.
		f.Kind = kindUnknownName
		if !p.strict {
			f.Severity = severityWarning
		}
	case errors.Is(err, config.ErrSchema):
		f.Kind = kindSchema
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		f.Kind = kindSource
		f.unreadable = true
	}
	return f
}

// fileLine returns the file and line of a source in a file, such as a .env
// file: a Source with a Line names a file by its Location.
func fileLine(s config.Source) (string, int) {
	if s.Line <= 0 {
		return "", 0
	}
	return s.Location, s.Line
}

// report is the findings of one command.
type report struct {
	findings []finding
}

func (rep *report) add(f finding) { rep.findings = append(rep.findings, f) }

func (rep *report) count() (errs, warns int) {
	for _, f := range rep.findings {
		if f.Severity == severityError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

// exitCode is ExitUsage when a source could not be read, ExitProblems when
// there is an error, and ExitOK otherwise.
func (rep *report) exitCode() int {
	code := ExitOK
	for _, f := range rep.findings {
		switch {
		case f.unreadable:
			return ExitUsage
		case f.Severity == severityError:
			code = ExitProblems
		}
	}
	return code
}

// summary is the last line of the text output.
func (rep *report) summary(what string) string {
	errs, warns := rep.count()
	if errs == 0 && warns == 0 {
		return "ok: " + what
	}
	switch {
	case errs == 0:
		return "ok: " + what + ", " + plural(warns, "warning")
	case warns == 0:
		return plural(errs, "error")
	}
	return plural(errs, "error") + ", " + plural(warns, "warning")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// write prints the findings in format: "text", "json" or "github". what
// describes what was checked, for the summary.
func (rep *report) write(w io.Writer, format, what string) error {
	switch format {
	case "json":
		errs, warns := rep.count()
		out := struct {
			OK       bool      `json:"ok"`
			Errors   int       `json:"errors"`
			Warnings int       `json:"warnings"`
			Findings []finding `json:"findings"`
		}{rep.exitCode() == ExitOK, errs, warns, rep.findings}
		if out.Findings == nil {
			out.Findings = []finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "github":
		for _, f := range rep.findings {
			if _, err := io.WriteString(w, f.annotation()); err != nil {
				return err
			}
		}
		_, err := fmt.Fprintln(w, rep.summary(what))
		return err
	}
	for _, f := range rep.findings {
		if _, err := fmt.Fprintf(w, "%s: %s\n", f.Severity, f.Message); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, rep.summary(what))
	return err
}

// annotation renders the finding as a GitHub Actions workflow command:
// "::error file=.env,line=3,title=...::message".
func (f finding) annotation() string {
	var props []string
	if f.file != "" {
		props = append(props, "file="+escapeProperty(f.file))
		if f.line > 0 {
			props = append(props, "line="+strconv.Itoa(f.line))
		}
	}
	title := "configcheck"
	switch {
	case f.Key != "":
		title = f.Key
	case f.Env != "":
		title = f.Env
	case f.Source != "":
		title = f.Source
	case f.Kind == kindUnknownName:
		title = "unknown name"
	}
	props = append(props, "title="+escapeProperty(title))
	return "::" + f.Severity + " " + strings.Join(props, ",") + "::" + escapeData(f.Message) + "\n"
}

// escapeData escapes the message of a workflow command.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property value of a workflow command.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
