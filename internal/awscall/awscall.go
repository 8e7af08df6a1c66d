// Package awscall holds what the AWS layers (providers/ssm and
// providers/secretsmanager) share about the calls they make: a cause that is
// safe to print in place of an SDK error, the API error code of an error,
// whether that code refused the credentials, the retries and the transport
// failure an error tells of, the debug line of a call, and call counts by
// operation.
//
// CleanCause keeps of an SDK error only the operation, the API error code,
// the HTTP status and the error's Go type, and unwraps to context.Canceled or
// context.DeadlineExceeded when the call was cut short. It never keeps the
// SDK's message or the error itself: those may quote the request or the
// response, and so a secret value.
package awscall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strata-go/strata/config"
)

// ErrorCode returns the API error code of err, or "" when there is none or
// it is not shaped like one.
//
// The code is text of the answer (a header, a field of the body, an entry of
// BatchGetSecretValue's Errors), printed in messages and logs. AWS codes are
// a letter then at most 127 letters, digits, dots and underscores
// ("ThrottlingException", "AWS.SimpleQueueService.NonExistentQueue"); any
// other text is no code AWS sends (an endpoint that quotes a value, or
// garbage), and none of it goes further.
func ErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && isCode(apiErr.ErrorCode()) {
		return apiErr.ErrorCode()
	}
	return ""
}

// maxCodeLen bounds an API error code.
const maxCodeLen = 128

// isCode reports whether s is shaped like an AWS API error code.
func isCode(s string) bool {
	if s == "" || len(s) > maxCodeLen || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && (c < '0' || c > '9') && c != '.' && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// RejectsCredentials reports whether an API error code means the service
// refused the credentials the call was signed with: expired, unknown to the
// account, or a signature that does not verify (a wrong secret key, or a clock
// far off).
func RejectsCredentials(code string) bool {
	switch code {
	case "ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException", "InvalidClientTokenId",
		"InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature",
		"MissingAuthenticationToken", "MissingAuthenticationTokenException", "AuthFailure":
		return true
	}
	return false
}

// Attempts returns " after N attempts" (" in 1 attempt") when the SDK gave
// up retrying, or "".
func Attempts(err error) string {
	var max *retry.MaxAttemptsError
	switch {
	case !errors.As(err, &max):
		return ""
	case max.Attempt == 1:
		return " in 1 attempt"
	}
	return fmt.Sprintf(" after %d attempts", max.Attempt)
}

// TransportReason returns a short description when err is a failure of the
// transport that may pass by itself (an HTTP 5xx, an answer cut short or
// that does not parse, a connection that timed out, failed or could not
// send, a host name that does not resolve), or "". It names no part of the
// request or the answer; only the endpoint's host name.
func TransportReason(err error) string {
	var (
		respErr *smithyhttp.ResponseError
		sendErr *smithyhttp.RequestSendError
		deser   *smithy.DeserializationError
		dnsErr  *net.DNSError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500:
		return fmt.Sprintf("the server answered HTTP %d", respErr.HTTPStatusCode())
	case errors.As(err, &deser), errors.Is(err, io.ErrUnexpectedEOF):
		// A 200 whose body ends early (a short Content-Length, a connection
		// dropped mid-body) or does not parse: the next answer is likely whole.
		return "the answer was cut short or could not be parsed"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "the connection timed out"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, io.EOF):
		return "the connection failed"
	case errors.As(err, &dnsErr) && dnsErr.Name != "":
		// The endpoint's host name, never part of a request or an answer:
		// a wrong region, a typo in AWS_ENDPOINT_URL_*, or no network.
		return fmt.Sprintf("the endpoint's host name %s could not be resolved (check the region, any AWS_ENDPOINT_URL_* setting and the network)", dnsErr.Name)
	case errors.As(err, &sendErr):
		return "the request could not be sent"
	case errors.As(err, &netErr):
		return "the connection failed"
	}
	return ""
}

// LogCall writes the debug line msg of a call of op about subject that
// started at start: the operation, the subject, the time it took and, when
// it failed, only CleanCause of err (the SDK's message may quote the request
// or the response, and so a secret).
func LogCall(ctx context.Context, log *slog.Logger, msg, op string, subject slog.Attr, start time.Time, err error) {
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("op", op), subject, slog.Duration("elapsed", time.Since(start))}
	if err != nil {
		attrs = append(attrs, slog.String("error", CleanCause(op, err).Error()))
	}
	log.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}

// apiError is what is safe to print of an AWS error: the operation, the
// error code, the HTTP status and the error's Go type. It unwraps to the
// context's error when the call was cut short, so errors.Is still tells
// a timeout or a cancellation.
type apiError struct {
	op     string
	code   string
	status int
	typ    string
	ctxErr error
}

// CleanCause returns what is safe to print of err, the error of the call op.
func CleanCause(op string, err error) error {
	e := &apiError{op: op, code: ErrorCode(err), typ: fmt.Sprintf("%T", err)}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.Response != nil && respErr.Response.Response != nil {
		e.status = respErr.HTTPStatusCode()
	}
	switch {
	case errors.Is(err, context.Canceled):
		e.ctxErr = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		e.ctxErr = context.DeadlineExceeded
	}
	return e
}

// Error returns "GetSecretValue: ResourceNotFoundException (HTTP 404)", or
// the Go type in place of the code when there is none. The SDK's message is
// withheld: it may quote the request or the response.
func (e *apiError) Error() string {
	var b strings.Builder
	b.WriteString(e.op)
	b.WriteString(": ")
	if e.code != "" {
		b.WriteString(e.code)
	} else {
		b.WriteString(e.typ)
	}
	if e.status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.status)
	}
	return b.String()
}

// ErrorCode returns the API error code, such as "ParameterNotFound".
func (e *apiError) ErrorCode() string { return e.code }

func (e *apiError) Unwrap() error { return e.ctxErr }

// Counters counts API calls by operation name, those that succeeded and
// those that failed. It holds names and counts only. The zero value is ready
// to use, and it is safe for concurrent use; it must not be copied.
type Counters struct {
	mu sync.Mutex
	n  map[string]*[2]int64
}

// Add counts a call of op, as failed when err is not nil.
func (c *Counters) Add(op string, err error) {
	i := 0
	if err != nil {
		i = 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = make(map[string]*[2]int64)
	}
	n := c.n[op]
	if n == nil {
		n = new([2]int64)
		c.n[op] = n
	}
	n[i]++
}

// Snapshot returns the counts by operation name: of every operation in ops
// (zero when it was never called) and of every other operation counted.
func (c *Counters) Snapshot(ops ...string) map[string]config.CallCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]config.CallCount, len(ops)+len(c.n))
	for _, op := range ops {
		m[op] = config.CallCount{}
	}
	for op, n := range c.n {
		m[op] = config.CallCount{OK: n[0], Error: n[1]}
	}
	return m
}

// IsNil reports whether client is nil or holds a nil pointer, map, func,
// channel, slice or interface: a client that would panic at its first call.
func IsNil(client any) bool {
	if client == nil {
		return true
	}
	switch v := reflect.ValueOf(client); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}
