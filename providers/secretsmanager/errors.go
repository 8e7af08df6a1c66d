package secretsmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strata-go/strata/config"
)

const deletedMessage = "the secret is scheduled for deletion; restore it with RestoreSecret or remove this source"

// maxValueSize is the largest secret value Secrets Manager stores, in bytes.
const maxValueSize = 65536

// refusesBatch reports whether an error of a whole BatchGetSecretValue call
// means "use GetSecretValue instead": the endpoint does not know the action,
// the caller lacks secretsmanager:BatchGetSecretValue, or the batch quota
// (100 calls a second per account) is exhausted. permanent is true when asking
// again will not help, so later loads skip the batch call.
func refusesBatch(err error) (refused, permanent bool) {
	switch errorCode(err) {
	case "InvalidAction", "UnknownOperation", "UnknownOperationException", "UnsupportedOperation":
		return true, true
	case "AccessDeniedException", "AccessDenied":
		return true, true
	}
	if isThrottle(errorCode(err)) {
		return true, false
	}
	return false, false
}

// errorCode returns the API error code of err, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func isThrottle(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown":
		return true
	}
	return false
}

// mentionsDeletion tells the InvalidRequestException of a secret scheduled for
// deletion from other invalid requests.
func mentionsDeletion(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return strings.Contains(strings.ToLower(apiErr.ErrorMessage()), "delet")
}

// transientReason returns a short description when err is a failure that
// may pass by itself (5xx, timeout, broken connection), or "".
func transientReason(err error, timeoutText string) string {
	var (
		internal *types.InternalServiceError
		respErr  *smithyhttp.ResponseError
		sendErr  *smithyhttp.RequestSendError
		netErr   net.Error
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within " + timeoutText
	case errors.Is(err, context.Canceled):
		return "the request was canceled"
	case errors.As(err, &internal) || errorCode(err) == "InternalServiceError" || errorCode(err) == "InternalFailure" || errorCode(err) == "ServiceUnavailable":
		return "Secrets Manager reported an internal error"
	case errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500:
		return fmt.Sprintf("the server answered HTTP %d", respErr.HTTPStatusCode())
	case errors.As(err, &netErr) && netErr.Timeout():
		return "the connection timed out"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the connection failed"
	case errors.As(err, &sendErr):
		return "the request could not be sent"
	case errors.As(err, &netErr):
		return "the connection failed"
	}
	return ""
}

// sourceError maps an API error to a *config.SourceError whose Code is one
// of the config sentinels and whose Message says what to do. id is the secret
// (or prefix) concerned, r the version read (zero for ListSecrets).
func (l *Layer) sourceError(o op, id string, r ref, err error) *config.SourceError {
	se := &config.SourceError{Layer: LayerName, Source: id, Err: err}
	code := errorCode(err)
	var (
		notFound *types.ResourceNotFoundException
		decrypt  *types.DecryptionFailure
		invalid  *types.InvalidRequestException
	)
	switch {
	case errors.As(err, &notFound) || code == "ResourceNotFoundException":
		se.Code = config.ErrNotFound
		switch {
		case r.versionID != "":
			se.Message = fmt.Sprintf("no secret %q with version %s in %s", id, r.versionID, l.where)
		case r.stage != "":
			se.Message = fmt.Sprintf("no secret %q with a version labelled %s in %s", id, r.stage, l.where)
		default:
			se.Message = fmt.Sprintf("no secret %q in %s", id, l.where)
		}
	case (code == "AccessDeniedException" || code == "AccessDenied") && strings.Contains(err.Error(), "KMS"):
		// A key policy that denies the caller comes back as AccessDenied
		// ("Access to KMS is not allowed"): the fix is on the key, not in IAM
		// for Secrets Manager.
		se.Code = config.ErrDecryption
		se.Message = fmt.Sprintf("access to the secret's KMS key was denied: allow kms:Decrypt on that key (KmsKeyId in DescribeSecret %s) in the key policy or IAM policy of the caller", id)
	case code == "AccessDeniedException" || code == "AccessDenied":
		se.Code = config.ErrAccessDenied
		if o == opList {
			se.Message = fmt.Sprintf("missing IAM permission %s (resource \"*\") needed to discover secrets under %q", o.action(), id)
		} else {
			se.Message = fmt.Sprintf("missing IAM permission %s on %s", o.action(), l.resource(id))
		}
	case errors.As(err, &decrypt) || code == "DecryptionFailure":
		se.Code = config.ErrDecryption
		se.Message = fmt.Sprintf("Secrets Manager cannot decrypt the value with the secret's KMS key: allow kms:Decrypt on that key (KmsKeyId in DescribeSecret %s) in the key policy or IAM policy of the caller", id)
	case (errors.As(err, &invalid) || code == "InvalidRequestException") && mentionsDeletion(err):
		se.Code = config.ErrDeleted
		se.Message = deletedMessage
	case isThrottle(code):
		se.Code = config.ErrThrottled
		se.Message = fmt.Sprintf("%s calls were throttled (over the account's request quota) after the SDK's retries", o)
	default:
		if reason := transientReason(err, l.opts.Timeout.String()); reason != "" {
			se.Code = config.ErrTransient
			se.Message = fmt.Sprintf("%s failed after the SDK's retries: %s", o, reason)
		} else {
			se.Message = fmt.Sprintf("%s failed", o)
			if code != "" {
				se.Message += " with " + code
			}
		}
	}
	return se
}

// resource names the IAM resource of a secret: the ARN when id is one, or the
// ARN pattern of a name.
func (l *Layer) resource(id string) string {
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	region := l.region
	if region == "" {
		region = "REGION"
	}
	return fmt.Sprintf("secret %q (arn:aws:secretsmanager:%s:ACCOUNT:secret:%s-*)", id, region, id)
}

// malformed is the error for a value that cannot be used. It never includes
// the value or any part of it.
func malformed(id, msg string) *config.SourceError {
	return &config.SourceError{Layer: LayerName, Source: id, Code: config.ErrMalformed, Message: msg}
}

// jsonError describes a JSON decoding failure by position only: the messages
// of encoding/json quote the offending character, which belongs to the secret.
func jsonError(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("the value is not valid JSON: syntax error at byte offset %d (value not shown)", syn.Offset)
	}
	var shape *jsonShapeError
	if errors.As(err, &shape) {
		return "the value is not usable JSON: " + shape.Error() + " (value not shown)"
	}
	return "the value is not valid JSON (value not shown)"
}
