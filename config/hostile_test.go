package config_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/strata-go/strata/config"
)

type secretMapCfg struct {
	Tokens map[string]config.Secret `validate:"dive,min=40"`
	Hooks  map[string]config.Secret `validate:"dive,keys,min=3,endkeys"`
}

// TestForeignValidatorHidesSecretMapKeys checks that a rule failing inside a
// map of secrets names no map key, whichever validator checks it: a key of a
// secret is secret text, and a validator that is not NewValidator's has the
// store check such fields itself.
func TestForeignValidatorHidesSecretMapKeys(t *testing.T) {
	const canary = "CANARY-mapkey-5d1e"
	for _, v := range []*validator.Validate{nil, config.NewValidator(), validator.New()} {
		_, err := config.Load[secretMapCfg](context.Background(), &config.Options{Validator: v},
			config.StaticSecrets("sm", map[string]string{"tokens": canary + "=short", "hooks": "x" + canary[:1] + "=" + strings.Repeat("v", 50)}))
		if err == nil {
			t.Fatal("want a validation error")
		}
		text := fmt.Sprintf("%v %+v %#v %s %q", err, err, err, err, err)
		for _, e := range flatten(err) {
			text += fmt.Sprintf("%v %+v %#v", e, e, e)
			if fe := (*config.FieldError)(nil); errors.As(e, &fe) {
				text += fe.Key
			}
		}
		js, _ := json.Marshal(err)
		text += string(js)
		if strings.Contains(text, canary) || strings.Contains(text, "[xC]") {
			t.Errorf("validator %v: a map key of a secret appears:\n%s", v != nil, text)
		}
		if !strings.Contains(text, "tokens has an entry that must have at least 40 characters") {
			t.Errorf("validator %v: the message does not say an entry failed:\n%s", v != nil, text)
		}
	}
}

// flatten returns err and every error in its Unwrap chain.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, flatten(e)...)
		}
	case interface{ Unwrap() error }:
		out = append(out, flatten(u.Unwrap())...)
	}
	return out
}

type unloadedCfg struct {
	Host string
	Pw   config.Secret
}

// TestUnloadedStore uses a zero Store and a nil *Store, which Load never
// returns: no method blocks, none panics but Get on a nil *Store (as
// documented: the check would cost Get its inlining), Get on a zero Store
// gives a zero configuration, and the store says it was not loaded.
func TestUnloadedStore(t *testing.T) {
	var zero config.Store[unloadedCfg]
	var nilStore *config.Store[unloadedCfg]
	for name, s := range map[string]*config.Store[unloadedCfg]{"zero": &zero, "nil": nilStore} {
		t.Run(name, func(t *testing.T) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				if s == nil {
					if !getPanics(s) {
						t.Error("Get on a nil *Store did not panic")
					}
				} else if cfg := s.Get(); cfg == nil || *cfg != (unloadedCfg{}) {
					t.Errorf("Get = %v, want a zero configuration", cfg)
				}
				if st := s.Status(); st.Healthy || !errors.Is(st.LastError, config.ErrClosed) {
					t.Errorf("Status = %+v, want unhealthy and ErrClosed", st)
				}
				if err := s.Refresh(context.Background()); !errors.Is(err, config.ErrClosed) {
					t.Errorf("Refresh = %v, want ErrClosed", err)
				}
				s.Subscribe(func(config.Change[unloadedCfg]) {})()
				if _, ok := s.Explain("host"); ok || s.Keys() != nil || len(s.Masked()) != 0 || s.Warnings() != nil || s.Schema() != nil {
					t.Error("an unloaded store describes fields")
				}
				if err := s.Close(); err != nil {
					t.Error(err)
				}
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("a method of an unloaded store blocks")
			}
		})
	}
}

// getPanics reports whether s.Get panics.
func getPanics(s *config.Store[unloadedCfg]) (panicked bool) {
	defer func() { panicked = recover() != nil }()
	s.Get()
	return false
}

// TestNilContext passes a nil context to Load and Refresh: each returns an
// ErrOptions error instead of panicking, and the store stays usable.
func TestNilContext(t *testing.T) {
	l := refreshingLayer{&fakeLayer{name: "sm", sensitive: true, vals: map[string]any{"host": "h"}}}
	//lint:ignore SA1012 a nil context is the input under test
	if _, err := config.Load[unloadedCfg](nil, nil, l); !errors.Is(err, config.ErrOptions) { //nolint:staticcheck
		t.Fatalf("Load(nil) = %v, want ErrOptions", err)
	}
	st, err := config.Load[unloadedCfg](context.Background(), &config.Options{MinRefreshInterval: time.Nanosecond}, l)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	//lint:ignore SA1012 a nil context is the input under test
	if err := st.Refresh(nil); !errors.Is(err, config.ErrOptions) { //nolint:staticcheck
		t.Fatalf("Refresh(nil) = %v, want ErrOptions", err)
	}
	if err := st.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh after Refresh(nil) = %v", err)
	}
}

// TestNilSchema calls every exported method of a nil *Schema, as a layer
// called outside a store may: it is a schema without fields.
func TestNilSchema(t *testing.T) {
	var s *config.Schema
	src := config.Source{Layer: "x"}
	if s.Fields() != nil || s.Field("a") != nil || s.FieldByEnv("A") != nil || s.Defaults() != nil ||
		s.EnvPrefix() != "" || s.IsSection("a") || s.Warnings() != nil {
		t.Error("a nil schema has fields")
	}
	for _, u := range []*config.UnknownNameError{s.UnknownEnv("A", src), s.UnknownKey("a", src),
		s.UnknownSecretKey("a", src), s.UnknownSecretKeyUnder("", "a", src)} {
		if u.Suggestion != "" || len(u.Known) != 0 {
			t.Errorf("a nil schema suggests %+v", u)
		}
	}
	var unknown []string
	vals := s.Flatten("", map[string]any{"a": map[string]any{"b": 1}}, func(string) config.Source { return src },
		func(k string) { unknown = append(unknown, k) })
	if len(vals) != 0 || len(unknown) != 1 {
		t.Errorf("Flatten = %v, unknown %v", vals, unknown)
	}
	_ = fmt.Sprintf("%v %+v %#v", s, s, s)
}

// emptyOnFailure is a Refresher whose refreshes fail and claim a change to no
// values at all, as a layer that drops the sources it could not read would.
type emptyOnFailure struct {
	mu    sync.Mutex
	prevs []config.State
}

func (*emptyOnFailure) Name() string    { return "sm" }
func (*emptyOnFailure) Sensitive() bool { return true }
func (*emptyOnFailure) Load(context.Context, *config.Schema) (config.Values, error) {
	return nil, nil
}

func (l *emptyOnFailure) Refresh(_ context.Context, req config.RefreshRequest) (config.Update, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if req.Prev == nil {
		return config.Update{Changed: true, State: "v1", Values: config.Values{"host": {Raw: "db"}, "pw": {Raw: "good"}}}, nil
	}
	l.prevs = append(l.prevs, req.Prev)
	return config.Update{Changed: true, State: "v2"}, &config.SourceError{Layer: "sm", Source: "db", Code: config.ErrTransient}
}

// TestFailedRefreshWithoutValuesKeepsConfig checks that a refresh that fails
// and returns no values publishes nothing: the store keeps serving the good
// configuration and the layer's State.
func TestFailedRefreshWithoutValuesKeepsConfig(t *testing.T) {
	l := &emptyOnFailure{}
	st, err := config.Load[unloadedCfg](context.Background(), &config.Options{MinRefreshInterval: time.Nanosecond}, l)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for range 2 {
		if err := st.Refresh(context.Background()); !errors.Is(err, config.ErrTransient) {
			t.Fatalf("Refresh = %v, want the transient failure", err)
		}
		if cfg := st.Get(); cfg.Host != "db" || cfg.Pw.Reveal() != "good" {
			t.Fatalf("a failed refresh replaced the configuration: host %q", cfg.Host)
		}
	}
	if st.Status().Changes != 0 {
		t.Errorf("Status counts %d changes", st.Status().Changes)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.prevs {
		if p != "v1" {
			t.Errorf("Prev = %v, want the State of the values served", p)
		}
	}
}
