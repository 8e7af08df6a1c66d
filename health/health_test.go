package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/health"
)

// appCfg has a secret that a rule can reject.
type appCfg struct {
	Host     string        `validate:"required"`
	Password config.Secret `validate:"required,min=30"`
}

// vault is a refreshable, sensitive layer whose next answer the test sets:
// values with a version, an error, or a panic. It counts its calls as a
// StatusReporter.
type vault struct {
	mu      sync.Mutex
	vals    map[string]string
	version string
	err     error
	panicOn string // when set, Refresh panics with this text
	calls   map[string]config.CallCount
}

func newVault(password string) *vault {
	return &vault{vals: map[string]string{"host": "db.internal", "password": password}, version: "v1",
		calls: map[string]config.CallCount{"Read": {}}}
}

func (*vault) Name() string    { return "vault" }
func (*vault) Sensitive() bool { return true }
func (*vault) Load(context.Context, *config.Schema) (config.Values, error) {
	return nil, errors.New("the store calls Refresh")
}

func (v *vault) Refresh(_ context.Context, req config.RefreshRequest) (config.Update, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	c := v.calls["Read"]
	defer func() { v.calls["Read"] = c }()
	if v.panicOn != "" {
		c.Error++
		panic(v.panicOn)
	}
	if v.err != nil {
		c.Error++
		return config.Update{}, v.err
	}
	c.OK++
	if req.Prev == v.version {
		return config.Update{}, nil
	}
	vals := config.Values{}
	for k, raw := range v.vals {
		vals[k] = config.Value{Raw: raw, Source: config.Source{Layer: "vault", Location: "app/db#" + k, Version: v.version}}
	}
	return config.Update{Changed: true, Values: vals, State: v.version, Versions: map[string]string{"app/db": v.version}}, nil
}

func (v *vault) LayerStatus() config.LayerStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	return config.LayerStatus{Name: "vault", Calls: maps.Clone(v.calls)}
}

// set makes the next Refresh answer with password at version.
func (v *vault) set(password, version string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.vals["password"], v.version, v.err, v.panicOn = password, version, nil, ""
}

func (v *vault) fail(err error, panicOn string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.err, v.panicOn = err, panicOn
}

const goodPassword = "correct-horse-battery-staple-42"

func load(t *testing.T, v config.Layer, opts config.Options) (*config.Store[appCfg], *configtest.Clock) {
	t.Helper()
	clock := configtest.NewClock(time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC))
	opts.Clock, opts.Logger = clock, slog.New(slog.DiscardHandler)
	opts.RefreshInterval, opts.MinRefreshInterval, opts.RetryBackoff = time.Hour, time.Nanosecond, time.Hour
	s, err := config.Load[appCfg](t.Context(), &opts, v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clock
}

// doc is the served document, decoded.
type doc struct {
	Healthy          bool      `json:"healthy"`
	Staleness        string    `json:"staleness"`
	StalenessSeconds float64   `json:"staleness_seconds"`
	LastSuccess      time.Time `json:"last_success"`
	LastAttempt      time.Time `json:"last_attempt"`
	LastChange       time.Time `json:"last_change"`
	LastError        *string   `json:"last_error"`
	Refreshes        int       `json:"refreshes"`
	Changes          int       `json:"changes"`
	Rejected         int       `json:"rejected"`
	Failures         int       `json:"failures"`
	Warnings         []string  `json:"warnings"`
	Layers           []struct {
		Name     string                      `json:"name"`
		Versions map[string]string           `json:"versions"`
		Calls    map[string]map[string]int64 `json:"calls"`
		Watch    *struct {
			Connected  bool       `json:"connected"`
			Error      *string    `json:"error"`
			LastEvent  *time.Time `json:"last_event"`
			Events     int        `json:"events"`
			Handled    int        `json:"handled"`
			Ignored    int        `json:"ignored"`
			Malformed  int        `json:"malformed"`
			Lag        string     `json:"lag"`
			LagSeconds float64    `json:"lag_seconds"`
		} `json:"watch"`
	} `json:"layers"`
}

// get serves one request and checks the headers every answer has.
func get(t *testing.T, h http.Handler, method string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "/healthz", nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", method, got)
	}
	return res, string(body)
}

func getDoc(t *testing.T, h http.Handler, wantCode int) doc {
	t.Helper()
	res, body := get(t, h, http.MethodGet)
	if res.StatusCode != wantCode {
		t.Fatalf("GET = %d, want %d: %s", res.StatusCode, wantCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var d doc
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("the body is not the documented JSON: %v\n%s", err, body)
	}
	return d
}

// A healthy store answers 200 with its counters and, per layer, the version
// served and the calls made.
func TestHealthyStoreAnswers200(t *testing.T) {
	t.Parallel()
	v := newVault(goodPassword)
	s, clock := load(t, v, config.Options{})
	v.set(goodPassword+"-2", "v2")
	clock.Advance(90 * time.Second)
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(1500 * time.Millisecond)
	d := getDoc(t, health.Handler(s), http.StatusOK)
	if !d.Healthy || d.LastError != nil || d.Refreshes != 1 || d.Changes != 1 || d.Rejected != 0 || d.Failures != 0 {
		t.Errorf("document = %+v, want healthy after one refresh with one change", d)
	}
	if d.Staleness != "1.5s" || d.StalenessSeconds != 1.5 {
		t.Errorf("staleness = %q, %v seconds; want 1.5s", d.Staleness, d.StalenessSeconds)
	}
	st := s.Status()
	if !d.LastSuccess.Equal(st.LastSuccess) || !d.LastAttempt.Equal(st.LastAttempt) || !d.LastChange.Equal(st.LastChange) {
		t.Errorf("times = %v %v %v, want those of Status %v %v %v", d.LastSuccess, d.LastAttempt, d.LastChange,
			st.LastSuccess, st.LastAttempt, st.LastChange)
	}
	if len(d.Layers) != 1 || d.Layers[0].Name != "vault" || d.Layers[0].Versions["app/db"] != "v2" ||
		d.Layers[0].Calls["Read"]["ok"] != 2 || d.Layers[0].Calls["Read"]["error"] != 0 {
		t.Errorf("layers = %+v, want vault at v2 with 2 ok calls", d.Layers)
	}
}

// Every unhealthy state answers 503 with the reason: a permanent failure, an
// outstanding rejection, staleness past MaxStaleness.
func TestUnhealthyStoreAnswers503(t *testing.T) {
	t.Parallel()
	t.Run("permanent failure", func(t *testing.T) {
		t.Parallel()
		v := newVault(goodPassword)
		s, clock := load(t, v, config.Options{})
		v.fail(fmt.Errorf("vault app/db: %w", config.ErrAccessDenied), "")
		clock.Advance(time.Second)
		_ = s.Refresh(t.Context())
		d := getDoc(t, health.Handler(s), http.StatusServiceUnavailable)
		if d.Healthy || d.Failures != 1 || d.LastError == nil || !strings.Contains(*d.LastError, "access denied") ||
			d.Layers[0].Calls["Read"]["error"] != 1 {
			t.Errorf("document = %+v, want the access-denied failure", d)
		}
	})
	t.Run("rejection", func(t *testing.T) {
		t.Parallel()
		v := newVault(goodPassword)
		s, clock := load(t, v, config.Options{})
		v.set("short", "v2")
		clock.Advance(time.Second)
		_ = s.Refresh(t.Context())
		d := getDoc(t, health.Handler(s), http.StatusServiceUnavailable)
		if d.Healthy || d.Rejected != 1 || d.LastError == nil || !strings.Contains(*d.LastError, "password") ||
			d.Layers[0].Versions["app/db"] != "v1" {
			t.Errorf("document = %+v, want the rejection with v1 still served", d)
		}
	})
	t.Run("stale", func(t *testing.T) {
		t.Parallel()
		s, clock := load(t, newVault(goodPassword), config.Options{MaxStaleness: time.Minute})
		h := health.Handler(s)
		getDoc(t, h, http.StatusOK)
		clock.Advance(61 * time.Second)
		if d := getDoc(t, h, http.StatusServiceUnavailable); d.Healthy || d.StalenessSeconds != 61 {
			t.Errorf("document = %+v, want unhealthy at 61 s", d)
		}
	})
}

// HEAD gets the headers of GET and no body; every other method gets 405.
func TestMethods(t *testing.T) {
	t.Parallel()
	s, _ := load(t, newVault(goodPassword), config.Options{})
	h := health.Handler(s)
	getRes, getBody := get(t, h, http.MethodGet)
	res, body := get(t, h, http.MethodHead)
	if res.StatusCode != http.StatusOK || body != "" || res.Header.Get("Content-Type") != "application/json" ||
		res.Header.Get("Content-Length") != getRes.Header.Get("Content-Length") || getBody == "" {
		t.Errorf("HEAD = %d %q %v; want GET's status and headers without a body", res.StatusCode, body, res.Header)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, "BREW"} {
		res, body := get(t, h, m)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" || strings.Contains(body, "healthy") {
			t.Errorf("%s = %d Allow %q %q, want 405 with Allow: GET, HEAD and no status", m, res.StatusCode, res.Header.Get("Allow"), body)
		}
	}
}

// A handler given no store answers 503 and says why, rather than panic.
func TestNilSource(t *testing.T) {
	t.Parallel()
	var nilStore *config.Store[appCfg]
	for name, src := range map[string]health.StatusSource{"nil": nil, "nil store": nilStore} {
		d := getDoc(t, health.Handler(src), http.StatusServiceUnavailable)
		if d.Healthy || d.LastError == nil || !strings.Contains(*d.LastError, "no status source") || d.Layers == nil {
			t.Errorf("%s: document = %+v", name, d)
		}
	}
}

// The document never shows secret text: not the value served, not a
// rejected value, not the text of a layer's panic, in any form.
func TestNoSecretInDocument(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-health-5e1d0c"
	v := newVault(canary + "-served-value")
	s, clock := load(t, v, config.Options{})
	h := health.Handler(s)
	var bodies []string
	read := func() {
		_, body := get(t, h, http.MethodGet)
		bodies = append(bodies, body)
	}
	read()
	v.set(canary, "v2") // too short: rejected
	clock.Advance(time.Second)
	_ = s.Refresh(t.Context())
	read()
	v.fail(nil, "vault: cannot parse "+canary)
	clock.Advance(time.Second)
	_ = s.Refresh(t.Context())
	read()
	all := strings.Join(bodies, "\n")
	for _, form := range configtest.LeakForms(canary) {
		if strings.Contains(all, form) {
			t.Fatalf("the document shows the canary (%q):\n%s", form, all)
		}
	}
	if !strings.Contains(bodies[1], "password") || !strings.Contains(bodies[2], "panicked") {
		t.Fatalf("the documents do not report the rejection and the panic; the test proves nothing:\n%s", all)
	}
}

// watchingVault is a vault that watches: each call of Watch hands its
// config.Watch to the test and runs until the store closes.
type watchingVault struct {
	*vault
	watches chan config.Watch
}

func (v watchingVault) Watch(ctx context.Context, w config.Watch) error {
	v.watches <- w
	<-ctx.Done()
	return nil
}

// A layer that watches shows its watch: connected or the error, the last
// event, the counts and the lag of the last change it announced.
func TestWatchIsShown(t *testing.T) {
	t.Parallel()
	v := watchingVault{newVault(goodPassword), make(chan config.Watch, 1)}
	s, clock := load(t, v, config.Options{})
	w := <-v.watches
	h := health.Handler(s)
	if d := getDoc(t, h, http.StatusOK); d.Layers[0].Watch == nil || d.Layers[0].Watch.Connected ||
		d.Layers[0].Watch.LastEvent != nil || d.Layers[0].Watch.Lag != "0s" {
		t.Errorf("before any event: watch = %+v", d.Layers[0].Watch)
	}
	changes := make(chan config.Change[appCfg], 4)
	defer s.Subscribe(func(c config.Change[appCfg]) { changes <- c })()
	v.set(goodPassword+"-2", "v2")
	w.Notify(config.Event{Source: "app/db", Version: "v2", At: clock.Now().Add(-400 * time.Millisecond)})
	clock.Advance(20 * time.Millisecond) // the store's wait for more events to share the read
	if ch := <-changes; ch.Err != nil {
		t.Fatal(ch.Err)
	}
	last := clock.Now()
	w.Report(config.WatchReport{Connected: true, LastEvent: last, Handled: 3, Ignored: 1, Malformed: 2})
	d := getDoc(t, h, http.StatusOK)
	if ws := d.Layers[0].Watch; ws == nil || !ws.Connected || ws.Error != nil || ws.LastEvent == nil || !ws.LastEvent.Equal(last) ||
		ws.Events != 1 || ws.Handled != 3 || ws.Ignored != 1 || ws.Malformed != 2 || ws.Lag != "420ms" || ws.LagSeconds != 0.42 {
		t.Errorf("watch = %+v", ws)
	}
	w.Report(config.WatchReport{Err: fmt.Errorf("queue app-events: %w", config.ErrAccessDenied)})
	if ws := getDoc(t, h, http.StatusOK).Layers[0].Watch; ws.Connected || ws.Error == nil || !strings.Contains(*ws.Error, "access denied") {
		t.Errorf("a broken watch: %+v", ws)
	}
}

// unprintable is an error whose Error method panics with what it holds.
type unprintable struct{ text string }

func (e *unprintable) Error() string { panic(e.text) }

// statusFunc is a StatusSource of a function.
type statusFunc func() config.Status

func (f statusFunc) Status() config.Status { return f() }

// A source whose Status panics, or whose errors cannot be printed, still
// gets a document: unhealthy when Status panicked, the errors shown as such,
// the panic's text never.
func TestSourceThatPanics(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-health-panic"
	d := getDoc(t, health.Handler(statusFunc(func() config.Status { panic(canary) })), http.StatusServiceUnavailable)
	if d.Healthy || d.LastError == nil || !strings.Contains(*d.LastError, "the status source panicked (a panic of type string)") {
		t.Errorf("a Status that panics: %+v", d)
	}
	bad := &unprintable{canary}
	src := statusFunc(func() config.Status {
		return config.Status{Healthy: true, LastError: bad, Warnings: []error{bad},
			Layers: []config.LayerStatus{{Name: "w", Watch: &config.WatchStatus{WatchReport: config.WatchReport{Err: bad}}}}}
	})
	res, body := get(t, health.Handler(src), http.MethodGet)
	if res.StatusCode != http.StatusOK || strings.Contains(body, canary) || strings.Count(body, "cannot be printed") != 3 {
		t.Errorf("errors that cannot be printed: %d %s", res.StatusCode, body)
	}
}

// Times JSON cannot hold (a year past 9999 or before 0, a zone offset of a
// day or more), from a StatusSource or a layer's watch report, still give
// the document, moved into the years JSON can hold.
func TestTimesJSONCannotHold(t *testing.T) {
	t.Parallel()
	far := time.Date(12026, 1, 1, 0, 0, 0, 0, time.UTC)
	src := statusFunc(func() config.Status {
		return config.Status{Healthy: true, LastSuccess: far, LastAttempt: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
			LastChange: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("odd", 30*3600)),
			Layers:     []config.LayerStatus{{Name: "w", Watch: &config.WatchStatus{WatchReport: config.WatchReport{Connected: true, LastEvent: far}}}}}
	})
	d := getDoc(t, health.Handler(src), http.StatusOK)
	want := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	if !d.Healthy || !d.LastSuccess.Equal(want) || !d.LastAttempt.Equal(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		!d.LastChange.Equal(time.Date(2025, 12, 30, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("times %v %v %v, want clamped into the years 0 to 9999 (the last in UTC)", d.LastSuccess, d.LastAttempt, d.LastChange)
	}
	if len(d.Layers) != 1 || d.Layers[0].Watch == nil || d.Layers[0].Watch.LastEvent == nil || !d.Layers[0].Watch.LastEvent.Equal(want) {
		t.Errorf("layers %+v, want the watch's last event clamped", d.Layers)
	}
}
