package secretsmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
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
//
// The SDK's error is not kept: its message may quote the request or the
// response (a response body that failed to deserialize holds the secret), and
// a reporter that walks the Unwrap chain would send it on. Err is a clean
// cause instead: the operation, the error code and the HTTP status, and the
// context's error when the call was cut short.
func (l *Reader) sourceError(o op, id string, r ref, err error) *config.SourceError {
	se := &config.SourceError{Layer: LayerName, Source: id, Err: cleanCause(o, err)}
	code := errorCode(err)
	if errors.Is(err, context.Canceled) {
		// The caller gave up: nothing to fix here, and the store names the
		// layer that was interrupted once for all its sources.
		se.Message, se.Err = "interrupted", context.Canceled
		return se
	}
	var (
		notFound *types.ResourceNotFoundException
		decrypt  *types.DecryptionFailure
		invalid  *types.InvalidRequestException
	)
	switch {
	case isCredentialsFailure(err):
		// The credentials chain's own error is kept: it says which provider
		// failed and why (an expired SSO token, no instance role), and it
		// holds nothing read from a secret or a configuration source.
		var ce *CredentialsError
		errors.As(err, &ce)
		se.Message, se.Err = credentialsHint, ce
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
			if errors.Is(err, context.DeadlineExceeded) {
				se.Err = context.DeadlineExceeded
			}
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
func (l *Reader) resource(id string) string {
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

// credentialsHint is the message of a call that failed because the client's
// AWS credentials could not be retrieved, before any request was sent.
const credentialsHint = "no AWS credentials to sign the call with: the SDK's default chain found none that work. " +
	"It looks, in order, for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary keys) in the environment; " +
	"the profile named by AWS_PROFILE, or the default one, in ~/.aws/config and ~/.aws/credentials (SSO included: run aws sso login when it has expired); " +
	"a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, as on EKS); the ECS or EKS Pod Identity container endpoint; " +
	"and the IAM role of the EC2 instance. On AWS compute, give the task, function, pod or instance an IAM role; " +
	"against a local emulator, any dummy keys do (AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local)"

// CredentialsError is the cause, in a *config.SourceError's chain, of a call
// that failed because the client's credentials provider returned Err: no
// credentials were found, or they could not be refreshed. It is only there
// when the client was built with WithCredentialsHint, as New builds it.
type CredentialsError struct {
	Err error
}

func (e *CredentialsError) Error() string { return e.Err.Error() }
func (e *CredentialsError) Unwrap() error { return e.Err }

// isCredentialsFailure reports whether err comes from the client's
// credentials provider rather than from Secrets Manager.
func isCredentialsFailure(err error) bool {
	var ce *CredentialsError
	return errors.As(err, &ce)
}

// WithCredentialsHint is an option of sm.NewFromConfig and sm.New: a call that
// fails because the client's credentials cannot be retrieved is then reported
// with a *CredentialsError in its chain, and the layer's message says how the
// SDK's default chain looks for credentials. New applies it; apply it to a
// client you pass to NewWithClient. A client without credentials (anonymous)
// is left as it is.
func WithCredentialsHint(o *sm.Options) {
	if o.Credentials == nil || aws.IsCredentialsProvider(o.Credentials, (*aws.AnonymousCredentials)(nil)) {
		return
	}
	if _, ok := o.Credentials.(hintingCredentials); ok {
		return
	}
	o.Credentials = hintingCredentials{o.Credentials}
}

// hintingCredentials marks the errors of a credentials provider with
// *CredentialsError. A retrieval given up because the caller canceled is not
// marked: it says nothing about the credentials.
type hintingCredentials struct {
	aws.CredentialsProvider
}

func (p hintingCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		return c, &CredentialsError{Err: err}
	}
	return c, err
}

// IsCredentialsProvider and ProviderSources let the SDK see through the
// wrapper, as it does through aws.CredentialsCache.
func (p hintingCredentials) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(p.CredentialsProvider, target)
}

func (p hintingCredentials) ProviderSources() []aws.CredentialSource {
	if s, ok := p.CredentialsProvider.(aws.CredentialProviderSource); ok {
		return s.ProviderSources()
	}
	return nil
}

// apiError is what is safe to print of an AWS error: the operation, the
// error code, the HTTP status and the error's Go type. It unwraps to the
// context's error when the call was cut short, so errors.Is still tells
// a timeout or a cancellation.
type apiError struct {
	op     op
	code   string
	status int
	typ    string
	ctxErr error
}

func cleanCause(o op, err error) error {
	e := &apiError{op: o, code: errorCode(err), typ: fmt.Sprintf("%T", err)}
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

// Error returns "GetSecretValue: ResourceNotFoundException (HTTP 404)". The
// SDK's message is withheld: it may quote the request or the response.
func (e *apiError) Error() string {
	var b strings.Builder
	b.WriteString(e.op.String())
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

// ErrorCode returns the API error code, such as "ResourceNotFoundException".
func (e *apiError) ErrorCode() string { return e.code }

func (e *apiError) Unwrap() error { return e.ctxErr }

// withKeys records on each *config.SourceError of errs the keys its source
// would have set, so that the store can say once that those fields are unset
// because the source failed, rather than report each as required.
func (l *Reader) withKeys(errs []error) []error {
	for _, err := range errs {
		se, ok := err.(*config.SourceError)
		if !ok || len(se.Keys) > 0 {
			continue
		}
		for _, src := range l.sources {
			if key, ok := src.covers(se.Source); ok && !slices.Contains(se.Keys, key) {
				se.Keys = append(se.Keys, key)
			}
		}
	}
	return errs
}

// covers reports whether an error about the secret (or prefix) id concerns
// the source, and the key (field or section) the source mounts it under.
func (s Spec) covers(id string) (key string, ok bool) {
	if s.kind != kindPrefix {
		return s.key, id == s.id && id != ""
	}
	if id == s.id {
		return "", true // the listing failed: the whole prefix is unset
	}
	return underPrefix(id, s.id)
}
