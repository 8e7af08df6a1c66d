package configtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// This file is the layer walked through in docs/architecture.md, "Writing a
// layer": a refreshable layer over a versioned key-value store, and the
// harness that runs configtest.TestLayer on it.

// store stands for a remote, versioned store of documents: each document is
// a JSON object, and each write gives it a new version. Version is a cheap
// call; Read fetches the content.
type store struct {
	mu    sync.Mutex
	docs  map[string]*doc
	reads int // calls of Read, for Fixture.Reads
}

type doc struct {
	version int
	text    string
	fail    error // what every call about this document returns, if set
}

// The errors of the store, which the layer maps to config's sentinels.
var (
	errUnavailable = errors.New("store unavailable")
	errDenied      = errors.New("access denied")
	errNoDoc       = errors.New("no such document")
)

func (s *store) Version(_ context.Context, name string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[name]
	switch {
	case !ok:
		return 0, errNoDoc
	case d.fail != nil:
		return 0, d.fail
	}
	return d.version, nil
}

func (s *store) Read(_ context.Context, name string) (text string, version int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	d, ok := s.docs[name]
	switch {
	case !ok:
		return "", 0, errNoDoc
	case d.fail != nil:
		return "", 0, d.fail
	}
	return d.text, d.version, nil
}

// docLayer reads one document per section of the configuration: the
// document "alpha" holds the fields of the section alpha. It keeps no state:
// what it read is a *docState the store keeps.
type docLayer struct {
	store    *store
	sections []string
}

// docState is the layer's config.State: the version and values of each
// document. It is never modified once returned.
type docState struct {
	versions map[string]int
	values   map[string]config.Values
}

var _ config.Refresher = (*docLayer)(nil)

func (*docLayer) Name() string    { return "docs" }
func (*docLayer) Sensitive() bool { return true }

// Load reads every document; the store calls Refresh instead, but a layer
// must still be usable as a plain config.Layer.
func (l *docLayer) Load(ctx context.Context, schema *config.Schema) (config.Values, error) {
	u, err := l.Refresh(ctx, config.RefreshRequest{Schema: schema})
	return u.Values, err
}

// Refresh checks each document's version and reads only those that changed
// since req.Prev. A document that cannot be read keeps its values of
// req.Prev, and its error is joined to the others.
func (l *docLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	if err := ctx.Err(); err != nil {
		return config.Update{}, err
	}
	prev, _ := req.Prev.(*docState)
	next := &docState{versions: map[string]int{}, values: map[string]config.Values{}}
	changed := prev == nil
	var errs []error
	for _, section := range l.sections {
		version, err := l.store.Version(ctx, section)
		if err == nil && prev != nil && version == prev.versions[section] {
			next.versions[section], next.values[section] = version, prev.values[section]
			continue
		}
		var vals config.Values
		var warnings []error
		if err == nil {
			vals, version, warnings, err = l.read(ctx, req.Schema, section)
		}
		if err != nil {
			errs = append(errs, l.sourceError(section, err))
			if prev != nil { // keep what the store serves
				next.versions[section], next.values[section] = prev.versions[section], prev.values[section]
			}
			continue
		}
		errs = append(errs, warnings...)
		next.versions[section], next.values[section] = version, vals
		changed = true
	}
	if !changed {
		return config.Update{}, errors.Join(errs...)
	}
	all := config.Values{}
	for _, vals := range next.values {
		maps.Copy(all, vals)
	}
	return config.Update{Changed: true, Values: all, State: next, Versions: next.versionStrings()}, errors.Join(errs...)
}

// read fetches one document and maps its keys onto the schema. A key that is
// no field is a warning, and the rest is still read.
func (l *docLayer) read(ctx context.Context, schema *config.Schema, section string) (config.Values, int, []error, error) {
	text, version, err := l.store.Read(ctx, section)
	if err != nil {
		return nil, 0, nil, err
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(text), &fields); err != nil {
		// Never wrap the decoder's error: it may quote the content.
		return nil, 0, nil, config.ErrMalformed
	}
	vals := config.Values{}
	var warnings []error
	for name, raw := range fields {
		key := section + "." + name
		src := config.Source{Layer: l.Name(), Location: section + "#" + name, Version: fmt.Sprint(version)}
		if schema.Field(key) == nil {
			warnings = append(warnings, schema.UnknownKey(key, src))
			continue
		}
		vals[key] = config.Value{Raw: raw, Source: src}
	}
	return vals, version, warnings, nil
}

// sourceError maps the store's errors to config's sentinels, which tell the
// store whether to retry.
func (l *docLayer) sourceError(section string, err error) error {
	e := &config.SourceError{Layer: l.Name(), Source: section, Keys: []string{section}}
	switch {
	case errors.Is(err, config.ErrMalformed):
		e.Code, e.Message = config.ErrMalformed, "the document is not a JSON object of strings"
	case errors.Is(err, errDenied):
		e.Code, e.Message, e.Err = config.ErrAccessDenied, "grant read access to the document", err
	case errors.Is(err, errNoDoc):
		e.Code, e.Message, e.Err = config.ErrNotFound, "create the document", err
	default:
		e.Code, e.Err = config.ErrTransient, err
	}
	return e
}

// Format prints the versions only: a State holds secret values, and
// whoever prints an Update must not see them.
func (s *docState) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "docState%v", s.versions)
}

func (s *docState) versionStrings() map[string]string {
	out := map[string]string{}
	for name, v := range s.versions {
		out[name] = fmt.Sprint(v)
	}
	return out
}

// docHarness builds a docLayer over a store the suite controls: Set writes a
// document's field as a new version, Fail sets the error of a document.
func docHarness(t *testing.T, _ configtest.Setup) configtest.Fixture {
	s := &store{docs: map[string]*doc{}}
	fields := map[string]map[string]string{} // what Set wrote, by document
	for _, section := range configtest.Sections {
		s.docs[section] = &doc{version: 1, text: "{}"}
		fields[section] = map[string]string{}
	}
	write := func(section string) {
		b, err := json.Marshal(fields[section])
		if err != nil {
			t.Fatal(err)
		}
		d := s.docs[section]
		d.version++
		d.text = string(b)
	}
	layer := &docLayer{store: s, sections: configtest.Sections}
	return configtest.Fixture{
		Set: func(key, value string) {
			section, name, _ := strings.Cut(key, ".")
			s.mu.Lock()
			defer s.mu.Unlock()
			fields[section][name] = value
			write(section)
		},
		Layer: func() config.Layer { return layer },
		Fail: func(section string, f configtest.Failure, text string) bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, name := range configtest.Sections {
				if section != "" && name != section {
					continue
				}
				d := s.docs[name]
				d.fail = nil
				switch f {
				case configtest.Transient:
					d.fail = errUnavailable
				case configtest.Permanent:
					d.fail = errDenied
				case configtest.Malformed:
					d.version++
					d.text = text
				case configtest.Healthy:
					write(name)
				}
			}
			return true
		},
		Reads: func() int {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.reads
		},
	}
}

func TestLayerOnDocLayer(t *testing.T) {
	configtest.TestLayer(t, configtest.Harness{New: docHarness, Refresher: true})
}
