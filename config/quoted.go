package config

import (
	"errors"
	"fmt"
	"strings"
)

// minQuoted is the length of the shortest secret text looked for in a
// layer's errors: shorter text (a PIN, "true") appears in ordinary messages
// by chance.
const minQuoted = 6

// withoutSecrets returns err, an error of layer i (what it returned with u,
// or what its watch reported; how says which), with each error it joins
// whose text holds the value of a secret field replaced: a value the store
// serves, or one that u brings. The Layer contract forbids such an error,
// and Strata's layers never make one; but the store prints a layer's
// errors (logs, Status, Refresh, subscribers, health), so one that breaks
// the contract must not make it print a secret. The replacement names the
// layer and the error's type; it is transient if the error was, and a
// warning stays a warning.
func (s *Store[T]) withoutSecrets(i int, how string, u Update, err error) error {
	if err == nil {
		return nil
	}
	texts := s.secretTexts(u.Values)
	if len(texts) == 0 || quotes(err, texts) == "" {
		return err
	}
	var out []error
	for _, e := range flattenErrors(nil, err) {
		if why := quotes(e, texts); why != "" {
			e = quotingError(s.meta[i], how, why, e)
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// quotingError is the error that replaces e, an error of the layer m that
// quotes a secret or cannot be examined (why says which).
func quotingError(m layerMeta, how, why string, e error) (replaced error) {
	code := ErrLayer
	defer func() {
		if recover() != nil { // a method of e panicked: e is not asked again
			replaced = &SourceError{Layer: nameOf(m), Code: ErrLayer, Message: fmt.Sprintf(
				"%s %s an error that cannot be examined, so it is not shown (an error of type %T)", m.label, how, e)}
		}
	}()
	if errors.Is(e, ErrUnknownName) {
		return &UnknownNameError{Source: Source{Layer: nameOf(m)}} // a key of the layer, not shown
	}
	if IsTransient(e) {
		code = ErrTransient
	}
	return &SourceError{Layer: nameOf(m), Code: code, Message: fmt.Sprintf(
		"%s %s an error that %s, so it is not shown (an error of type %T)", m.label, how, why, e)}
}

// secretTexts returns the text of the values of secret fields that the
// store serves and that vals brings, each of minQuoted bytes or more.
func (s *Store[T]) secretTexts(vals Values) []string {
	var out []string
	add := func(raw any) {
		switch v := raw.(type) {
		case string:
			if len(v) >= minQuoted {
				out = append(out, v)
			}
		case []byte:
			if len(v) >= minQuoted {
				out = append(out, string(v))
			}
		case []string:
			for _, e := range v {
				if len(e) >= minQuoted {
					out = append(out, e)
				}
			}
		}
	}
	if snap := s.snap.Load(); snap != nil {
		for j, f := range s.schema.fields {
			if f.Secret && j < len(snap.values) && snap.values[j].set {
				add(snap.values[j].Raw)
			}
		}
	}
	for key, v := range vals {
		if f := s.schema.byKey[key]; f != nil && f.Secret {
			add(v.Raw)
		}
	}
	return out
}

// Why quotes finds an error not fit to show.
const (
	quotesSecret = "holds the value of a secret field in its text"
	notExamined  = "cannot be examined (a method of it panicked)"
)

// quotes says why err is not fit to show, or "": the text of err, or of an
// error of its tree (Unwrap, single or joined, to a bounded depth), holds one
// of texts, or a method of one of them panics.
func quotes(err error, texts []string) (why string) {
	defer func() {
		if recover() != nil {
			why = notExamined
		}
	}()
	seen := 0
	var walk func(e error, depth int) bool
	walk = func(e error, depth int) bool {
		if e == nil || depth > maxQuoteDepth || seen >= maxQuoteErrors {
			return false
		}
		seen++
		msg := e.Error()
		for _, t := range texts {
			if strings.Contains(msg, t) {
				return true
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			return walk(u.Unwrap(), depth+1)
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				if walk(x, depth+1) {
					return true
				}
			}
		}
		return false
	}
	if walk(err, 0) {
		return quotesSecret
	}
	return ""
}

// maxQuoteDepth and maxQuoteErrors bound the walk of an error's tree, which
// a hostile layer can make cyclic or endless.
const (
	maxQuoteDepth  = 32
	maxQuoteErrors = 256
)
