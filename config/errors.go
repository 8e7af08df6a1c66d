package config

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Sentinels for errors.Is. Errors returned by Load, Refresh and the layers wrap
// one of these, so callers can branch without parsing messages or importing a
// provider's SDK.
var (
	// ErrClosed is returned by methods of a store after Close.
	ErrClosed = errors.New("config: store closed")
	// ErrInvalidValue means a value could not be decoded into its field's type.
	ErrInvalidValue = errors.New("invalid value")
	// ErrValidation means a decoded value broke a validate rule.
	ErrValidation = errors.New("validation failed")
	// ErrUnknownName means a layer saw a name under the prefix (or a key in a
	// structured source) that maps to no field.
	ErrUnknownName = errors.New("unknown name")
	// ErrWarning marks any other problem a layer found that does not stop the
	// load, such as a .env reference to a variable the file does not set. The
	// store treats it as it treats unknown names: logged and returned by
	// Store.Warnings, or an error under Options.Strict.
	ErrWarning = errors.New("warning")
	// ErrSecretPolicy means a secret field was set by a layer that is not
	// sensitive (defaults, .env, plain environment).
	ErrSecretPolicy = errors.New("secret set by a non-sensitive layer")
	// ErrSchema means the configuration type itself is wrong: two fields with one
	// environment name, an unsupported field type, a default that cannot be parsed.
	ErrSchema = errors.New("invalid configuration schema")

	// ErrNotFound means a source (a file, a secret) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAccessDenied means the caller lacks a permission; the message names the
	// missing action.
	ErrAccessDenied = errors.New("access denied")
	// ErrDecryption means the provider could not decrypt a value (for Secrets
	// Manager, a KMS key the caller may not use).
	ErrDecryption = errors.New("decryption failed")
	// ErrCredentials means the provider's credentials are missing, expired or
	// invalid: none could be found, or the service rejected them. The message
	// says how to renew them; the fix is in the environment (a role, a
	// profile, a fresh session), not in a permission or a source.
	ErrCredentials = errors.New("credentials missing, expired or invalid")
	// ErrDeleted means a secret is scheduled for deletion.
	ErrDeleted = errors.New("scheduled for deletion")
	// ErrMalformed means a source's content could not be parsed (a bad .env line,
	// invalid JSON in a secret, a value over the size limit).
	ErrMalformed = errors.New("malformed source")
	// ErrThrottled means the provider rejected calls for going over its rate
	// quota, after retries. It is transient.
	ErrThrottled = errors.New("throttled")
	// ErrTransient means a failure that may pass by itself: a 5xx, a timeout, a
	// broken connection.
	ErrTransient = errors.New("transient failure")
	// ErrLayer means a layer given to Load cannot be used: it is nil (or a nil
	// pointer), or one of its methods panicked. The message names the layer's
	// position and name, and the panic's type only, never its text.
	ErrLayer = errors.New("unusable layer")
)

// IsTransient reports whether err is worth retrying soon: throttling, 5xx,
// timeouts and connection errors. Permanent errors (not found, access denied,
// decryption, bad values) are not.
func IsTransient(err error) bool {
	return errors.Is(err, ErrTransient) || errors.Is(err, ErrThrottled) || errors.Is(err, context.DeadlineExceeded)
}

// FieldError is a problem with the value of one field. Its message names the
// field key, the environment name and the source, and says what was expected.
// It never holds the value of a secret field.
//
// The parenthesis at the end of the message says where the value came from:
// "(env APP_X)", "(APP_X from .env:3)", "(APP_X from default)", or the source
// alone for a layer that is not read by environment name ("(from
// secretsmanager my-app/db#password (version 3f2a9c1e, AWSCURRENT))"). An
// unset field gives its environment name, except a secret, which is expected
// from a secret source rather than from the environment.
type FieldError struct {
	Key    string // field key, "database.port"
	Env    string // environment name, "APP_DATABASE_PORT"
	Source Source // where the value came from; Layer "" when no layer set it
	Rule   string // the validate rule that failed ("max"), or "" for a decode error
	// Message is the readable predicate: "must be at most 65535", "expected a
	// duration such as 5s or 1m30s".
	Message string
	Err     error // ErrValidation, ErrInvalidValue, ErrSecretPolicy or a wrapped cause

	secret bool // the field is a secret
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Key)
	b.WriteByte(' ')
	b.WriteString(e.Message)
	if w := e.where(); w != "" {
		b.WriteString(" (")
		b.WriteString(w)
		b.WriteByte(')')
	}
	return b.String()
}

// where renders the origin of the value for Error.
func (e *FieldError) where() string {
	src := e.Source
	switch src.Layer {
	case "":
		if e.secret {
			return "a secret: expected from a secret source, and none set it"
		}
		return e.Env
	case "env":
		if e.Env == "" || src.Location == e.Env {
			return src.String()
		}
	case "dotenv", "default":
	default:
		// A layer that is not read by environment name: its source says it all.
		return "from " + src.String()
	}
	if e.Env == "" {
		return "from " + src.String()
	}
	return e.Env + " from " + src.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// UnknownNameError reports a name that maps to no field: an environment
// variable under the prefix, a .env entry, or a key of a JSON secret. It is a
// warning unless Options.Strict is set.
type UnknownNameError struct {
	// Name is the name as the source wrote it: "APP_DATABSE_HOST" or a key
	// "database.hots". It is empty when the name is part of a secret's
	// content, such as a key of a JSON secret (see Schema.UnknownSecretKey):
	// such a name is never shown.
	Name       string
	Source     Source
	Suggestion string // the closest known name, or ""
	// Mount and Known are set for a key withheld because it is part of a
	// secret (see Schema.UnknownSecretKeyUnder): Mount is where the document
	// is mounted ("database"; "" for the root) and Known the names the
	// schema has directly under it ("host", "replica.*"), which the message
	// lists so that the wrong key can be found without being shown. When
	// Mount is Name, the name is a section given a single value, and Known
	// the names under it.
	Mount string
	Known []string
}

// maxKnown is the most names of Known the message lists.
const maxKnown = 20

func (e *UnknownNameError) Error() string {
	var b strings.Builder
	if e.Name == "" {
		b.WriteString("a key of ")
		if src := e.Source.String(); src != "" {
			b.WriteString(src)
		} else {
			b.WriteString("a sensitive source")
		}
		b.WriteString(" maps to no field")
		e.writeKnown(&b)
		if e.Suggestion != "" {
			b.WriteString("; did you mean ")
			b.WriteString(e.Suggestion)
			b.WriteByte('?')
		}
		return b.String()
	}
	b.WriteString(e.Name)
	if e.Mount != "" && e.Mount == e.Name {
		b.WriteString(": a section, not a field: it takes no single value")
		e.writeKnown(&b)
	} else {
		b.WriteString(": unknown")
	}
	if e.Suggestion != "" {
		b.WriteString(", did you mean ")
		b.WriteString(e.Suggestion)
		b.WriteByte('?')
	}
	switch {
	case e.Source.Layer == "":
	case e.Source.Location == e.Name:
		// The source is the name itself (env APP_X): say which layer.
		b.WriteString(" (")
		b.WriteString(e.Source.Layer)
		b.WriteByte(')')
	default:
		b.WriteString(" (from ")
		b.WriteString(e.Source.String())
		b.WriteByte(')')
	}
	return b.String()
}

// writeKnown writes " (the keys under database are host, port, user)".
func (e *UnknownNameError) writeKnown(b *strings.Builder) {
	if len(e.Known) == 0 {
		return
	}
	if e.Mount == "" {
		b.WriteString(" (the top-level keys are ")
	} else {
		b.WriteString(" (the keys under ")
		b.WriteString(e.Mount)
		b.WriteString(" are ")
	}
	b.WriteString(strings.Join(e.Known[:min(len(e.Known), maxKnown)], ", "))
	if n := len(e.Known) - maxKnown; n > 0 {
		fmt.Fprintf(b, " and %d more", n)
	}
	b.WriteByte(')')
}

func (e *UnknownNameError) Unwrap() error { return ErrUnknownName }

// SourceError is a failure to read a whole source: a missing file, a secret that
// cannot be fetched. Code is one of the sentinels of this package and is matched
// by errors.Is; Err is a cause whose text is safe to print (providers do not
// put third-party errors that may quote their input there).
type SourceError struct {
	Layer  string // "secretsmanager"
	Source string // "my-app/production/database", ".env"
	// Message says what to do about it, such as "missing IAM permission
	// secretsmanager:GetSecretValue on arn:aws:secretsmanager:...".
	Message string
	Code    error
	Err     error
	// Keys are the keys the source would have set, when the layer knows them:
	// field keys ("payments.stripe_key") or section keys that stand for every
	// field under them ("database"; "" for the whole configuration). When Load
	// fails, fields the failed source would have set are not reported again as
	// required: the error says once that they are unset because of it.
	Keys []string

	unset []string // the fields left unset by this failure, filled in by Load
}

func (e *SourceError) Error() string {
	var b strings.Builder
	b.WriteString(e.Layer)
	if e.Source != "" {
		b.WriteByte(' ')
		b.WriteString(e.Source)
	}
	sep := ": "
	for _, part := range []string{errText(e.Code), e.Message, errText(e.Err)} {
		if part != "" {
			b.WriteString(sep)
			b.WriteString(part)
		}
	}
	if n := len(e.unset); n > 0 {
		b.WriteString("; so ")
		const shown = 5
		b.WriteString(strings.Join(e.unset[:min(n, shown)], ", "))
		if n > shown {
			fmt.Fprintf(&b, " and %d more", n-shown)
		}
		if n == 1 {
			b.WriteString(" is unset")
		} else {
			b.WriteString(" are unset")
		}
	}
	return b.String()
}

// covers reports whether the source would have set the field key.
func (e *SourceError) covers(key string) bool {
	for _, k := range e.Keys {
		if k == "" || k == key || strings.HasPrefix(key, k+".") {
			return true
		}
	}
	return false
}

// Is matches the error's Code, so errors.Is(err, config.ErrNotFound) works.
func (e *SourceError) Is(target error) bool { return e.Code != nil && target == e.Code }

func (e *SourceError) Unwrap() error { return e.Err }

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// AggregateError holds every problem found by one load or refresh. errors.Is
// and errors.As look through all of Errs. Warnings are the findings that did
// not fail on their own (such as an unknown name, which may be the typo that
// left a required field unset); they are printed after the errors, each on a
// "warning:" line, and errors.Is does not look through them.
type AggregateError struct {
	Errs     []error
	Warnings []error
}

func (e *AggregateError) Error() string {
	var b strings.Builder
	if len(e.Errs) == 1 {
		b.WriteString("config: ")
		b.WriteString(e.Errs[0].Error())
	} else {
		fmt.Fprintf(&b, "config: %d problems:", len(e.Errs))
		for _, err := range e.Errs {
			b.WriteString("\n  - ")
			b.WriteString(strings.ReplaceAll(err.Error(), "\n", "\n    "))
		}
	}
	for _, w := range e.Warnings {
		b.WriteString("\n  warning: ")
		b.WriteString(strings.ReplaceAll(w.Error(), "\n", "\n    "))
	}
	return b.String()
}

func (e *AggregateError) Unwrap() []error { return e.Errs }

// flattenErrors spreads joined and aggregated errors into one list, so that
// every problem is listed once at the top level.
func flattenErrors(dst []error, err error) []error {
	if err == nil {
		return dst
	}
	switch e := err.(type) {
	case *AggregateError:
		for _, x := range e.Errs {
			dst = flattenErrors(dst, x)
		}
		return dst
	case interface{ Unwrap() []error }:
		if _, ok := err.(*FieldError); !ok {
			for _, x := range e.Unwrap() {
				dst = flattenErrors(dst, x)
			}
			return dst
		}
	}
	return append(dst, err)
}

// isLayerWarning reports whether a problem a layer reported is a warning
// rather than an error: an unknown name or a problem marked ErrWarning.
func isLayerWarning(err error) bool {
	return errors.Is(err, ErrUnknownName) || errors.Is(err, ErrWarning)
}
