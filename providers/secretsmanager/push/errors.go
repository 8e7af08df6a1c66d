package push

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/awscall"
)

// Error is the error of a call a feed made: which call, on which queue or
// topic, and a code to match with errors.Is (config.ErrNotFound,
// config.ErrAccessDenied, config.ErrThrottled, config.ErrTransient, or
// config.ErrCredentials). Err is what is safe to print of the SDK's error:
// the operation, the API error code and the HTTP status, unwrapping to
// context.Canceled or context.DeadlineExceeded when the call was cut short.
// The SDK's error itself is not kept: its message may quote the answer, and
// so the body of a message.
type Error struct {
	Op       string // "ReceiveMessage", "Subscribe", ...
	Resource string // the queue URL, queue name or topic ARN
	Code     error
	Err      error

	reason string // what failed in the transport, if anything
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "push: %s on %s", e.Op, e.Resource)
	if e.Code != nil {
		b.WriteString(": ")
		b.WriteString(e.Code.Error())
	}
	if e.reason != "" {
		b.WriteString(": ")
		b.WriteString(e.reason)
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(" (")
		b.WriteString(hint)
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) hint() string {
	switch {
	case errors.Is(e.Code, config.ErrAccessDenied):
		return "missing IAM permission " + action(e.Op)
	case errors.Is(e.Code, config.ErrNotFound):
		return "the queue or topic does not exist"
	}
	return ""
}

// Unwrap returns the code and the clean cause.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Code != nil {
		out = append(out, e.Code)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// action is the IAM action of an operation.
func action(op string) string {
	switch op {
	case "Subscribe", "Unsubscribe":
		return "sns:" + op
	case "DeleteMessageBatch":
		return "sqs:DeleteMessage"
	}
	return "sqs:" + op
}

// callError is the error of a call: its code, the transport failure it tells
// of and its clean cause. The SDK's error is dropped: its message may quote
// the answer (an endpoint's error that echoes the messages received, a body
// that does not parse).
func callError(op, resource string, err error) error {
	return &Error{Op: op, Resource: resource, Code: codeOf(err), Err: awscall.CleanCause(op, err), reason: awscall.TransportReason(err)}
}

// codeOf maps an SQS or SNS error to a config code.
func codeOf(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return config.ErrTransient
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		switch {
		case strings.Contains(code, "NonExistentQueue"), strings.Contains(code, "QueueDoesNotExist"), code == "NotFound", code == "NotFoundException":
			return config.ErrNotFound
		case strings.Contains(code, "AccessDenied"), code == "AuthorizationError", code == "AuthorizationErrorException":
			return config.ErrAccessDenied
		case code == "ExpiredToken", code == "ExpiredTokenException", code == "InvalidClientTokenId", code == "UnrecognizedClientException", code == "SignatureDoesNotMatch":
			return config.ErrCredentials
		case retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool(), strings.Contains(code, "Throttl"), code == "RequestThrottled", code == "OverLimit":
			return config.ErrThrottled
		}
	}
	return config.ErrTransient
}
