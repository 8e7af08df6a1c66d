// Package health serves a configuration store's Status over HTTP, for
// liveness and readiness probes and for people.
//
//	mux.Handle("/healthz", health.Handler(store))
//
// Handler answers GET and HEAD with the status as JSON: 200 OK while the
// store is healthy, 503 Service Unavailable otherwise (see
// config.Status.Healthy: a permanent refresh failure, an outstanding
// rejection, staleness past Options.MaxStaleness, an abandoned layer call).
// The store keeps serving its last good snapshot either way; a probe that
// takes the instance out of rotation on 503 should be a readiness probe, not a
// liveness probe, since a restart reads the same sources again.
//
// A source whose Status panics is answered 503 with last_error saying so
// (never the panic's text), and an error whose Error method panics is shown
// as "health: an error that cannot be printed (...)"; the handler itself
// never panics. A time JSON cannot hold (a year past 9999, say, in a
// watch's report) is shown in UTC, moved into the years 0 to 9999, rather
// than failing the document.
//
// Every other method gets 405 Method Not Allowed with an Allow header. Each
// response carries Cache-Control: no-store, so no cache between the probe and
// the service answers for it.
//
// # The document
//
//	{
//	  "healthy": true,
//	  "staleness": "1m2.5s",
//	  "staleness_seconds": 62.5,
//	  "last_success": "2026-12-01T21:00:00Z",
//	  "last_attempt": "2026-12-01T21:00:00Z",
//	  "last_change": "2026-12-01T20:00:00Z",
//	  "last_error": "config: ...",
//	  "refreshes": 12, "changes": 1, "rejected": 0, "failures": 0,
//	  "warnings": ["..."],
//	  "layers": [{"name": "secretsmanager",
//	              "versions": {"my-app/production/database": "3f2a..."},
//	              "calls": {"DescribeSecret": {"ok": 12, "error": 0}},
//	              "watch": {"connected": true, "last_event": "2026-12-01T20:00:00Z",
//	                        "events": 1, "handled": 1, "ignored": 0, "malformed": 0,
//	                        "lag": "850ms", "lag_seconds": 0.85}}]
//	}
//
// The fields are those of config.Status: last_error is omitted when the last
// attempt succeeded and no rejection is outstanding, warnings when there are
// none; layers lists each layer that is refreshable or reports calls, in the
// order given to config.Load, with the versions the store serves from it and
// its API calls by operation and outcome (versions and calls omitted when
// empty), and for a layer that watches (config.WatchStatus) its watch: error
// is omitted while it is connected, last_event before the first event, and
// lag is 0 until a change announced with a time has been published. Errors and warnings appear as their messages, which the config
// package guarantees never contain a secret value; no value of any field
// appears, secret or not.
package health

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/strata-go/strata/config"
)

// A StatusSource reports a store's status; every *config.Store[T] is one.
// Status must be safe for concurrent use: the handler calls it once for each
// request.
type StatusSource interface {
	Status() config.Status
}

// errNoSource is the error a handler given no source reports.
const errNoSource = "health: no status source (a nil store was given to health.Handler)"

// Handler returns a handler that serves s's Status as JSON, with 200 while it
// is healthy and 503 otherwise. A nil s (or a nil *config.Store) gives a
// handler that always answers 503, saying so in last_error.
func Handler(s StatusSource) http.Handler {
	if isNil(s) {
		s = nil
	}
	return &handler{src: s}
}

type handler struct{ src StatusSource }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	var doc document
	if h.src == nil {
		doc = document{LastError: errNoSource, Layers: []layerDoc{}}
	} else {
		doc = h.document()
	}
	body, err := json.Marshal(doc)
	if err != nil { // only strings, numbers, encodable times and maps of them: cannot happen
		http.Error(w, "health: cannot encode the status", http.StatusInternalServerError)
		return
	}
	body = append(body, '\n')
	code := http.StatusOK
	if !doc.Healthy {
		code = http.StatusServiceUnavailable
	}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// document reads the source's Status once. A Status that panics gives a
// document saying so, unhealthy, rather than a connection the server cuts.
func (h *handler) document() (doc document) {
	defer func() {
		if r := recover(); r != nil {
			doc = document{LastError: fmt.Sprintf("health: the status source panicked (a panic of type %T)", r),
				Layers: []layerDoc{}}
		}
	}()
	return documentOf(h.src.Status())
}

// errText is the message of err. An error whose Error method panics (of a
// StatusSource other than a store, or of a layer's watch) is shown as such,
// never with the panic's text, and the rest of the document is served.
func errText(err error) (text string) {
	defer func() {
		if r := recover(); r != nil {
			text = fmt.Sprintf("health: an error that cannot be printed (its Error method panicked: a panic of type %T)", r)
		}
	}()
	return err.Error()
}

// isNil reports whether s is nil or holds a nil pointer, whose Status would
// panic.
func isNil(s StatusSource) bool {
	if s == nil {
		return true
	}
	v := reflect.ValueOf(s)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// document is the JSON served; see the package doc.
type document struct {
	Healthy          bool       `json:"healthy"`
	Staleness        string     `json:"staleness"`
	StalenessSeconds float64    `json:"staleness_seconds"`
	LastSuccess      time.Time  `json:"last_success"`
	LastAttempt      time.Time  `json:"last_attempt"`
	LastChange       time.Time  `json:"last_change"`
	LastError        string     `json:"last_error,omitempty"`
	Refreshes        int        `json:"refreshes"`
	Changes          int        `json:"changes"`
	Rejected         int        `json:"rejected"`
	Failures         int        `json:"failures"`
	Warnings         []string   `json:"warnings,omitempty"`
	Layers           []layerDoc `json:"layers"`
}

type layerDoc struct {
	Name     string             `json:"name"`
	Versions map[string]string  `json:"versions,omitempty"`
	Calls    map[string]callDoc `json:"calls,omitempty"`
	Watch    *watchDoc          `json:"watch,omitempty"`
}

type watchDoc struct {
	Connected  bool       `json:"connected"`
	Error      string     `json:"error,omitempty"`
	LastEvent  *time.Time `json:"last_event,omitempty"`
	Events     int        `json:"events"`
	Handled    int        `json:"handled"`
	Ignored    int        `json:"ignored"`
	Malformed  int        `json:"malformed"`
	Lag        string     `json:"lag"`
	LagSeconds float64    `json:"lag_seconds"`
}

func watchDocOf(w *config.WatchStatus) *watchDoc {
	if w == nil {
		return nil
	}
	d := &watchDoc{Connected: w.Connected, Events: w.Events, Handled: w.Handled, Ignored: w.Ignored,
		Malformed: w.Malformed, Lag: w.Lag.String(), LagSeconds: w.Lag.Seconds()}
	if w.Err != nil {
		d.Error = errText(w.Err)
	}
	if !w.LastEvent.IsZero() {
		at := encodable(w.LastEvent)
		d.LastEvent = &at
	}
	return d
}

// The times JSON (RFC 3339) can hold.
var (
	firstTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	lastTime  = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// encodable returns t if encoding/json can encode it, else t in UTC, moved
// into the years 0 to 9999 if outside them: a time from a StatusSource or a
// layer's watch report (WatchReport.LastEvent) with a year past 9999 or a
// zone offset of a day or more would fail the whole document.
func encodable(t time.Time) time.Time {
	if _, err := t.MarshalJSON(); err == nil {
		return t
	}
	t = t.UTC()
	switch {
	case t.Before(firstTime):
		return firstTime
	case t.After(lastTime):
		return lastTime
	}
	return t
}

type callDoc struct {
	OK    int64 `json:"ok"`
	Error int64 `json:"error"`
}

func documentOf(st config.Status) document {
	doc := document{Healthy: st.Healthy, Staleness: st.Staleness.String(), StalenessSeconds: st.Staleness.Seconds(),
		LastSuccess: encodable(st.LastSuccess), LastAttempt: encodable(st.LastAttempt), LastChange: encodable(st.LastChange),
		Refreshes: st.Refreshes, Changes: st.Changes, Rejected: st.Rejected, Failures: st.Failures,
		Layers: make([]layerDoc, 0, len(st.Layers))}
	if st.LastError != nil {
		doc.LastError = errText(st.LastError)
	}
	for _, w := range st.Warnings {
		if w != nil {
			doc.Warnings = append(doc.Warnings, errText(w))
		}
	}
	for _, l := range st.Layers {
		ld := layerDoc{Name: l.Name, Versions: l.Versions, Watch: watchDocOf(l.Watch)}
		if len(ld.Versions) == 0 {
			ld.Versions = nil
		}
		if len(l.Calls) > 0 {
			ld.Calls = make(map[string]callDoc, len(l.Calls))
			for op, c := range l.Calls {
				ld.Calls[op] = callDoc{OK: c.OK, Error: c.Error}
			}
		}
		doc.Layers = append(doc.Layers, ld)
	}
	return doc
}
