package config

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"
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

// abandonGrace is how long, in real time, the store waits for a layer call
// after its context ended before it abandons the call: long enough for a
// layer that honours ctx to return its own error (which names the keys it
// left unset), short enough that one that ignores ctx holds nothing up.
const abandonGrace = 100 * time.Millisecond

// grace is abandonGrace, or what a test set with its export hook.
func (o *Options) grace() time.Duration {
	if o.abandonGrace > 0 {
		return o.abandonGrace
	}
	return abandonGrace
}

// deadline names what bounds a layer call, for the messages of a call it cut.
type deadline struct {
	option  string        // "Options.RefreshTimeout"; "" when a caller's context bounds the call
	timeout time.Duration // the option's value
	context string        // "the context given to Load"
}

func refreshDeadline(d time.Duration) deadline {
	return deadline{option: "Options.RefreshTimeout", timeout: d}
}

func callerDeadline(method string) deadline {
	return deadline{context: "the context given to " + method}
}

// String is "Options.RefreshTimeout, 30s" or "the context given to Load".
func (d deadline) String() string {
	if d.option != "" {
		return fmt.Sprintf("%s, %v", d.option, d.timeout)
	}
	return d.context
}

// when is "within Options.RefreshTimeout (30s)" or "after the context given
// to Load ended".
func (d deadline) when() string {
	if d.option != "" {
		return fmt.Sprintf("within %s (%v)", d.option, d.timeout)
	}
	return "after " + d.context + " ended"
}

// loadLayer reads the layer at index i for the first time: Load, or for a
// Refresher a Refresh with no previous State. See callLayer.
func (s *Store[T]) loadLayer(ctx context.Context, i int, dl deadline) (Update, error) {
	if r, ok := s.layers[i].(Refresher); ok {
		return s.refreshLayer(ctx, i, dl, r, RefreshRequest{Schema: s.schema})
	}
	l := s.layers[i]
	return s.callLayer(ctx, i, dl, "Load", func() (Update, error) {
		vals, err := l.Load(ctx, s.schema)
		return Update{Changed: true, Values: vals}, err
	})
}

// refreshLayer calls the Refresh of the layer at index i. See callLayer.
func (s *Store[T]) refreshLayer(ctx context.Context, i int, dl deadline, r Refresher, req RefreshRequest) (Update, error) {
	return s.callLayer(ctx, i, dl, "Refresh", func() (Update, error) { return r.Refresh(ctx, req) })
}

// callLayer makes call, a call of method of the layer at index i, on a
// goroutine of its own. It turns a panic into an error and an interruption by
// ctx into one error naming the layer and dl. A call that has not returned
// abandonGrace after ctx ended (at once when the store closes) is abandoned:
// its goroutine runs on until the layer returns, and until then the layer is
// not called again by this store, so a store never has two calls of one
// layer running. Each attempt meanwhile is a transient error saying so.
func (s *Store[T]) callLayer(ctx context.Context, i int, dl deadline, method string, call func() (Update, error)) (Update, error) {
	m := s.meta[i]
	s.mu.Lock()
	prev := s.stuck[i]
	if prev != nil {
		select {
		case <-prev.returned:
			s.stuck[i], prev = nil, nil
		default:
		}
	}
	s.mu.Unlock()
	if prev != nil {
		return Update{}, stillRunning(m, prev)
	}
	type result struct {
		u   Update
		err error
	}
	done := make(chan result, 1)
	a := &abandoned{method: method, dl: dl, returned: make(chan struct{})}
	go func() {
		defer close(a.returned)
		u, err := guarded(m, method, call)
		done <- result{u, err}
	}()
	select {
	case r := <-done:
		return r.u, s.withoutSecrets(i, "returned from "+method, r.u, interrupted(ctx, m, dl, r.err))
	case <-ctx.Done():
	}
	grace := time.NewTimer(s.opts.grace())
	defer grace.Stop()
	select {
	case r := <-done:
		return r.u, s.withoutSecrets(i, "returned from "+method, r.u, interrupted(ctx, m, dl, r.err))
	case <-grace.C:
	case <-s.stop:
	}
	s.mu.Lock()
	s.stuck[i] = a
	s.mu.Unlock()
	return Update{}, &SourceError{Layer: nameOf(m), Code: ErrTransient, Err: ctx.Err(),
		Message: fmt.Sprintf("%s did not return %s: its call of %s, which ignores its context, is abandoned, "+
			"and the store does not call the layer again until it returns", m.label, dl.when(), method)}
}

// abandoned is a layer call the store stopped waiting for.
type abandoned struct {
	method   string
	dl       deadline
	returned chan struct{} // closed when the layer returns
}

// stillRunning is the error of an attempt to read a layer whose abandoned
// call has not returned.
func stillRunning(m layerMeta, a *abandoned) error {
	return &SourceError{Layer: nameOf(m), Code: ErrTransient,
		Message: fmt.Sprintf("%s has still not returned from the call of %s abandoned when it did not return %s; "+
			"the store does not call the layer again until it returns", m.label, a.method, a.dl.when())}
}

// guarded calls call, turning a panic into an error naming the layer, and
// an error the store could not print (see checkedError) into one it can.
func guarded(m layerMeta, method string, call func() (Update, error)) (u Update, err error) {
	defer func() {
		if p := recover(); p != nil {
			u, err = Update{}, panicError(m, method, p)
		}
	}()
	u, err = call()
	return u, checkedError(m, "returned from "+method, err)
}

// checkedError returns err, a layer's, unless a method the store calls on it
// (Error, and Is or Unwrap of its chain, for each error it joins) panics:
// the store prints a layer's errors in logs, in Status and to subscribers,
// from goroutines where such a panic would end the process. Such an error
// is replaced by an ErrLayer error naming the layer and the panic's type,
// never the panic's text.
// how says how the store got it: "returned from Refresh".
func checkedError(m layerMeta, how string, err error) (checked error) {
	if err == nil {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			checked = &layerError{fmt.Sprintf("%s %s an error that cannot be printed "+
				"(a method of it panicked: a panic of type %T)", m.label, how, p)}
		}
	}()
	_ = err.Error()
	for _, e := range flattenErrors(nil, err) {
		_ = e.Error()
		_ = isLayerWarning(e) || IsTransient(e)
	}
	return err
}

func nameOf(m layerMeta) string {
	if m.name == "" {
		return m.label
	}
	return m.name
}

// interrupted replaces the errors a layer returned because ctx ended (each
// "context canceled", often one per source) by one error that names the layer
// and the deadline that fired (dl), with the fields its failed sources would
// have set. Other errors stay.
func interrupted(ctx context.Context, m layerMeta, dl deadline, err error) error {
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
	one := &SourceError{Layer: nameOf(m), Message: "interrupted (" + dl.String() + ")", Err: cause, Keys: keys}
	if errors.Is(cause, context.DeadlineExceeded) {
		one.Code = ErrTransient // a timeout may pass: the store retries soon
	}
	return errors.Join(append([]error{one}, kept...)...)
}
