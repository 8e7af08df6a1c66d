// Package faultproxy is an HTTP reverse proxy for tests that sits in front of a
// Secrets Manager endpoint (normally the kumo emulator) and injects faults.
//
// Faults are chosen per operation, taken from the X-Amz-Target header
// ("secretsmanager.GetSecretValue" is the operation "GetSecretValue"), and per
// call, so a test can script "throttle the first GetSecretValue, then let it
// through". Error faults are written in the AWS JSON 1.1 error shape, so the
// real aws-sdk-go-v2 client maps them to its typed errors and applies its
// retry policy to them exactly as it would against AWS.
//
// The proxy can also answer BatchGetSecretValue, which kumo does not implement
// (see [Options.BatchShim]), and keep staging labels with AWS's rules for
// rotations (see [Options.StageShim]).
package faultproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is the kind of failure the proxy injects into a call.
type Fault int

const (
	// None forwards the call unchanged. A None rule still takes the calls it
	// matches, so it can shield them from the rules added after it.
	None Fault = iota
	// Throttle answers 400 ThrottlingException, which the SDK retries.
	Throttle
	// InternalError answers 500 InternalServiceError, which the SDK retries.
	InternalError
	// Latency waits Rule.Delay and then forwards the call. The wait ends early,
	// without forwarding, if the client's request ends or the proxy closes.
	Latency
	// Reset closes the TCP connection abruptly (RST, no response).
	Reset
	// Hang holds the call without answering until the client gives up or the
	// proxy closes.
	Hang
	// DecryptionFailure answers 400 DecryptionFailure (a KMS failure).
	DecryptionFailure
	// AccessDenied answers 400 AccessDeniedException.
	AccessDenied
	// NotFound answers 400 ResourceNotFoundException.
	NotFound
	// Unavailable answers 503 ServiceUnavailable, which the SDK retries.
	Unavailable
	// ExpiredToken answers 400 ExpiredTokenException, as AWS does for a
	// call signed with expired temporary credentials.
	ExpiredToken
	// StripValue forwards the call and removes SecretString and SecretBinary
	// from a 200 answer (from each entry of a BatchGetSecretValue answer), as
	// a faulty endpoint might: the answer names a version without its value.
	StripValue
	// TruncateBody forwards the call and sends the first half of a 200
	// answer's body, with a matching Content-Length: a body that does not
	// deserialize.
	TruncateBody
	// ShortBody forwards the call and sends a 200 answer's whole body under a
	// Content-Length 64 bytes larger, then closes the connection: the body
	// ends early.
	ShortBody
)

var faultNames = [...]string{
	None:              "None",
	Throttle:          "Throttle",
	InternalError:     "InternalError",
	Latency:           "Latency",
	Reset:             "Reset",
	Hang:              "Hang",
	DecryptionFailure: "DecryptionFailure",
	AccessDenied:      "AccessDenied",
	NotFound:          "NotFound",
	Unavailable:       "Unavailable",
	ExpiredToken:      "ExpiredToken",
	StripValue:        "StripValue",
	TruncateBody:      "TruncateBody",
	ShortBody:         "ShortBody",
}

// String returns the name of the fault.
func (f Fault) String() string {
	if n, ok := moreNames[f]; ok {
		return n
	}
	if f >= 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Rule injects one fault into the calls it matches.
//
// Each call is offered to the rules in the order they were added. A rule
// counts the matching calls offered to it: it lets the first After of them
// pass on to the next rule, then takes the following Times calls (every
// following call when Times is 0). The first rule that takes a call decides
// its fault, and the rules after it do not see that call. A call that no rule
// takes is forwarded unchanged.
type Rule struct {
	// Op is the operation to match, such as "GetSecretValue"; "" matches
	// every operation.
	Op string
	// Fault is the failure to inject.
	Fault Fault
	// Times is how many matching calls the rule takes; 0 means every call.
	Times int
	// Delay is how long a Latency fault waits before forwarding.
	Delay time.Duration
	// After is how many matching calls the rule lets pass before it starts.
	After int
	// Match, when set, limits the rule to calls whose request body contains
	// it, such as a parameter path, so that one source can fail alone.
	Match string
}

// Options configures a Proxy. The zero value is valid.
type Options struct {
	// BatchShim makes the proxy answer BatchGetSecretValue itself by calling
	// the target's GetSecretValue once per secret. When false the call is
	// forwarded, and kumo answers 400 InvalidAction.
	BatchShim bool
	// ListFilterShim makes the proxy apply ListSecrets' name filters, which
	// kumo ignores (see listFiltered). When false the call is forwarded.
	ListFilterShim bool
	// StageShim makes the proxy keep the staging labels of secrets in place
	// of the target and answer UpdateSecretVersionStage, which kumo lacks, so
	// that AWS's rotation steps can be rehearsed; see stages.go.
	StageShim bool
}

// maxBody bounds the request body read into memory: a secret value is at
// most 64 KiB, and its base64 form and the JSON around it fit well within this.
const maxBody = 1 << 20

type ruleState struct {
	Rule
	seen int // matching calls offered to this rule
}

// Proxy is a fault-injecting reverse proxy listening on 127.0.0.1. Its
// methods are safe for concurrent use.
type Proxy struct {
	target    *url.URL
	opts      Options
	transport *http.Transport
	rp        *httputil.ReverseProxy
	srv       *http.Server
	url       string

	closing   chan struct{} // closed by Close; releases held calls
	closeOnce sync.Once
	closeErr  error
	serveDone chan struct{}
	handlers  sync.WaitGroup

	stages stageBook // the stage shim's labels

	mu     sync.Mutex
	rules  []*ruleState
	calls  map[string]int
	total  int
	closed bool
	called chan struct{} // closed and replaced at each call counted; see WaitCalls
}

// New starts a proxy on 127.0.0.1 with a free port in front of target, a
// base URL such as "http://127.0.0.1:4566". Close must be called to stop it.
func New(target string, opts Options) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: parse target: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q is not an absolute URL", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{
		target:    u,
		opts:      opts,
		transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
		url:       "http://" + ln.Addr().String(),
		closing:   make(chan struct{}),
		serveDone: make(chan struct{}),
		calls:     make(map[string]int),
		called:    make(chan struct{}),
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
		},
		Transport: p.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client is gone; nobody reads the answer
			}
			http.Error(w, "faultproxy: forward: "+err.Error(), http.StatusBadGateway)
		},
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.serveDone)
		_ = p.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return p, nil
}

// URL returns the proxy's base URL, "http://127.0.0.1:PORT".
func (p *Proxy) URL() string { return p.url }

// Add appends rules after the existing ones.
func (p *Proxy) Add(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		p.rules = append(p.rules, &ruleState{Rule: r})
	}
}

// ClearRules removes every rule; later calls are forwarded unchanged.
func (p *Proxy) ClearRules() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Calls returns how many requests the proxy received for op, faulted ones
// included; "" counts every request. Requests the batch shim makes to the
// target are not counted.
func (p *Proxy) Calls(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if op == "" {
		return p.total
	}
	return p.calls[op]
}

// WaitCalls waits until the proxy has received at least n requests for op
// ("" for any), as Calls counts them, or until ctx ends.
func (p *Proxy) WaitCalls(ctx context.Context, op string, n int) error {
	for {
		p.mu.Lock()
		got, called := p.calls[op], p.called
		if op == "" {
			got = p.total
		}
		p.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-called:
		case <-ctx.Done():
			return fmt.Errorf("faultproxy: %d %q calls, want %d: %w", got, op, n, ctx.Err())
		}
	}
}

// ResetCalls sets every call count back to zero.
func (p *Proxy) ResetCalls() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = 0
	clear(p.calls)
}

// Close stops the proxy: it stops listening, releases held (Hang, Latency)
// calls, closes every connection and waits for running handlers to return.
// Calling Close more than once returns the first result.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		close(p.closing)
		p.closeErr = p.srv.Close()
		<-p.serveDone
		p.handlers.Wait()
		p.transport.CloseIdleConnections()
	})
	return p.closeErr
}

// operation returns the operation named by the X-Amz-Target header.
func operation(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		return t[i+1:]
	}
	return t
}

// pick counts the call and returns the rule that takes it, if any.
func (p *Proxy) pick(op string, body []byte) (Rule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total++
	p.calls[op]++
	close(p.called)
	p.called = make(chan struct{})
	for _, rs := range p.rules {
		if (rs.Op != "" && rs.Op != op) || (rs.Match != "" && !bytes.Contains(body, []byte(rs.Match))) {
			continue
		}
		rs.seen++
		n := rs.seen - rs.After // 1-based position inside the rule's window
		if n < 1 || (rs.Times > 0 && n > rs.Times) {
			continue
		}
		return rs.Rule, true
	}
	return Rule{}, false
}

func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		http.Error(w, "faultproxy: closed", http.StatusServiceUnavailable)
		return
	}
	p.handlers.Add(1)
	p.mu.Unlock()
	defer p.handlers.Done()

	// Read the whole body first: only then does net/http watch the
	// connection and cancel r.Context() when the client goes away, which
	// Hang and Latency rely on. It also lets the batch shim parse it.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		abort() // the client went away mid-request
	}
	if len(body) > maxBody {
		http.Error(w, "faultproxy: request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	op := operation(r)
	rule, ok := p.pick(op, body)
	if e, isErr := errorFaults[rule.Fault]; ok && isErr {
		writeError(w, e.status, e.code, e.msg)
		return
	}
	if ok {
		switch rule.Fault {
		case None:
		case Latency:
			t := time.NewTimer(rule.Delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				abort()
			case <-p.closing:
				abort()
			}
		case Reset:
			reset(w)
			return
		case Hang:
			select {
			case <-r.Context().Done():
			case <-p.closing:
			}
			abort()
		case AccessDenied:
			writeError(w, http.StatusBadRequest, "AccessDeniedException",
				"User is not authorized to perform: "+actionPrefix(r)+op)
			return
		case StripValue, TruncateBody, ShortBody:
			p.rewrite(w, r, op, body, rule.Fault)
			return
		default:
			if _, ok := rewriters[rule.Fault]; ok || hostileAnswers[rule.Fault] != nil {
				p.rewrite(w, r, op, body, rule.Fault)
				return
			}
			http.Error(w, "faultproxy: unknown fault "+rule.Fault.String(), http.StatusInternalServerError)
			return
		}
	}
	p.forward(w, r, op, body)
}

// errorFaults are the faults answered with an AWS error.
var errorFaults = map[Fault]struct {
	status    int
	code, msg string
}{
	Throttle:          {http.StatusBadRequest, "ThrottlingException", "Rate exceeded"},
	InternalError:     {http.StatusInternalServerError, "InternalServiceError", "An error occurred on the server side."},
	DecryptionFailure: {http.StatusBadRequest, "DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key."},
	NotFound:          {http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."},
	Unavailable:       {http.StatusServiceUnavailable, "ServiceUnavailable", "Service Unavailable"},
	ExpiredToken:      {http.StatusBadRequest, "ExpiredTokenException", "The security token included in the request is expired"},
}

// forward sends the call to the target, or to the batch shim.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	if op == "BatchGetSecretValue" && p.opts.BatchShim {
		p.batch(w, r, body)
		return
	}
	if p.opts.StageShim && p.stageShim(w, r, op, body) {
		return
	}
	if op == "ListSecrets" && p.opts.ListFilterShim && bytes.Contains(body, []byte(`"Filters"`)) {
		p.listFiltered(w, r, body)
		return
	}
	p.rp.ServeHTTP(w, r)
}

// rewrite forwards the call and damages a 200 answer as f says.
func (p *Proxy) rewrite(w http.ResponseWriter, r *http.Request, op string, body []byte, f Fault) {
	rec := httptest.NewRecorder()
	p.forward(rec, r, op, body)
	data := rec.Body.Bytes()
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	if rec.Code != http.StatusOK {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(data)
		return
	}
	if h, ok := hostileAnswers[f]; ok {
		status, ct, out := h(data)
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(status)
		_, _ = w.Write(out)
		return
	}
	switch f {
	case StripValue:
		data = stripValues(data)
	case TruncateBody:
		data = data[:len(data)/2]
	case ShortBody:
		w.Header().Set("Content-Length", strconv.Itoa(len(data)+64))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data)
		return // net/http closes the connection: the body is short
	default:
		if rw, ok := rewriters[f]; ok {
			data = rw(data)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// stripValues removes SecretString and SecretBinary from an answer and from
// each of its SecretValues. An answer that is not a JSON object is kept.
func stripValues(data []byte) []byte {
	var doc map[string]any
	if json.Unmarshal(data, &doc) != nil {
		return data
	}
	strip := func(m map[string]any) {
		delete(m, "SecretString")
		delete(m, "SecretBinary")
	}
	strip(doc)
	if vs, ok := doc["SecretValues"].([]any); ok {
		for _, v := range vs {
			if m, ok := v.(map[string]any); ok {
				strip(m)
			}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return data
	}
	return out
}

// abort ends the handler and drops the connection without a response, so
// that net/http does not answer an empty 200 for a call held until the
// proxy closes.
func abort() {
	panic(http.ErrAbortHandler)
}

// reset closes the client connection with SO_LINGER 0, so the peer sees a
// TCP RST instead of an orderly close.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		abort()
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// writeError writes an error in the AWS JSON 1.1 shape.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-ErrorType", code)
	h.Set("X-Amzn-RequestId", requestID())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{code, msg})
}

var (
	idMu sync.Mutex
	idN  uint64
)

// requestID returns a request id unique within the process.
func requestID() string {
	idMu.Lock()
	idN++
	n := idN
	idMu.Unlock()
	return fmt.Sprintf("faultproxy-%012d", n)
}
