package config

import (
	"context"
	"errors"
	"fmt"
	"reflect"
)

// layerMeta is what the store reads once from each layer at Load.
type layerMeta struct {
	pos       int    // 1-based position among the layers given to Load
	name      string // the layer's Name
	label     string // "layer 3 (secretsmanager)", for messages
	sensitive bool
}

// layerError is a layer that cannot be used: nil, or it panicked. It matches
// ErrLayer.
type layerError struct{ text string }

func (e *layerError) Error() string        { return e.text }
func (e *layerError) Is(target error) bool { return target == ErrLayer }

// inspectLayer reads the name and sensitivity of the layer at index i, or
// says why it cannot be used.
func inspectLayer(i int, l Layer) (m layerMeta, err error) {
	m = layerMeta{pos: i + 1, label: fmt.Sprintf("layer %d", i+1)}
	if l == nil {
		return m, &layerError{fmt.Sprintf("%s is nil", m.label)}
	}
	if v := reflect.ValueOf(l); isNilValue(v) {
		return m, &layerError{fmt.Sprintf("%s is a nil %s", m.label, v.Type())}
	}
	defer func() {
		if r := recover(); r != nil {
			err = panicError(m, "Name or Sensitive", r)
		}
	}()
	m.name = l.Name()
	m.label = fmt.Sprintf("layer %d (%s)", m.pos, m.name)
	m.sensitive = l.Sensitive()
	if _, ok := l.(Refresher); !ok {
		if _, has := reflect.TypeOf(l).MethodByName("Refresh"); has {
			// A layer written against another signature would silently never
			// be refreshed.
			return m, &layerError{fmt.Sprintf("%s has a Refresh method, but not config.Refresher's "+
				"Refresh(context.Context, config.RefreshRequest) (config.Update, error), so it would never be refreshed", m.label)}
		}
	}
	return m, nil
}

func isNilValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// panicError reports a panic of a layer's method by the layer and the
// panic's type only: the text of a third-party panic may quote values.
func panicError(m layerMeta, method string, r any) error {
	return &layerError{fmt.Sprintf("%s panicked in %s (a panic of type %T); its values are ignored", m.label, method, r)}
}

// loadLayer reads a layer for the first time: Load, or for a Refresher a
// Refresh with no previous State. It turns a panic into an error and an
// interruption by ctx into one error naming the layer.
func loadLayer(ctx context.Context, m layerMeta, l Layer, schema *Schema) (u Update, err error) {
	if r, ok := l.(Refresher); ok {
		return refreshLayer(ctx, m, r, RefreshRequest{Schema: schema})
	}
	defer func() {
		if r := recover(); r != nil {
			u, err = Update{}, panicError(m, "Load", r)
		}
	}()
	vals, err := l.Load(ctx, schema)
	return Update{Changed: true, Values: vals}, interrupted(ctx, m, err)
}

// refreshLayer calls the layer's Refresh like loadLayer calls Load.
func refreshLayer(ctx context.Context, m layerMeta, r Refresher, req RefreshRequest) (u Update, err error) {
	defer func() {
		if p := recover(); p != nil {
			u, err = Update{}, panicError(m, "Refresh", p)
		}
	}()
	u, err = r.Refresh(ctx, req)
	return u, interrupted(ctx, m, err)
}

// interrupted replaces the errors a layer returned because ctx ended (each
// "context canceled", often one per source) by one error that names the layer
// and the fields its failed sources would have set. Other errors stay.
func interrupted(ctx context.Context, m layerMeta, err error) error {
	cause := ctx.Err()
	if err == nil || cause == nil {
		return err
	}
	var kept []error
	var keys []string
	seen := map[string]bool{}
	for _, e := range flattenErrors(nil, err) {
		if !errors.Is(e, context.Canceled) && !errors.Is(e, context.DeadlineExceeded) {
			kept = append(kept, e)
			continue
		}
		var se *SourceError
		if errors.As(e, &se) {
			for _, k := range se.Keys {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
	}
	if len(kept) == len(flattenErrors(nil, err)) {
		return err
	}
	name := m.name
	if name == "" {
		name = m.label
	}
	one := &SourceError{Layer: name, Message: "interrupted", Err: cause, Keys: keys}
	if errors.Is(cause, context.DeadlineExceeded) {
		one.Code = ErrTransient // a timeout may pass: the store retries soon
	}
	return errors.Join(append([]error{one}, kept...)...)
}
