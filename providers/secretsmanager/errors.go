package secretsmanager

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/awscall"
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
	switch awscall.ErrorCode(err) {
	case "InvalidAction", "UnknownOperation", "UnknownOperationException", "UnsupportedOperation":
		return true, true
	case "AccessDeniedException", "AccessDenied":
		return true, true
	}
	if isThrottle(awscall.ErrorCode(err)) {
		return true, false
	}
	return false, false
}

func isThrottle(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown":
		return true
	}
	return false
}

// deniedClass is what the text of an AWS error says that its code does not.
type deniedClass uint8

const (
	deniedOther    deniedClass = iota
	deniedByKMS                // AccessDeniedException about the secret's KMS key
	deniedDeletion             // InvalidRequestException on a secret marked for deletion
)

// classifyByMessage is the one place the layer reads the text of an AWS error,
// because Secrets Manager gives no code for two distinctions that matter:
//
//   - A KMS key policy that denies the caller, or a key that is disabled,
//     answers GetSecretValue with AccessDeniedException, the code of a missing
//     IAM permission for Secrets Manager itself. Only the message tells them
//     apart: "Access to KMS is not allowed", or "... is not authorized to
//     perform: kms:Decrypt on resource: arn:aws:kms:...". DecryptionFailure
//     (Secrets Manager cannot decrypt with the key) has a code of its own and
//     is not handled here.
//   - A secret scheduled for deletion answers GetSecretValue and
//     BatchGetSecretValue with InvalidRequestException, the code of many other
//     invalid requests: "You can't perform this operation on the secret
//     because it was marked for deletion." or "You tried to perform the
//     operation on a secret that's currently marked deleted.". DescribeSecret
//     reports the same state with a DeletedDate, which Refresh uses.
//
// Each message has a test. Only the message of the API error is read (never
// the whole error text, which may quote a request id or a resource name).
func classifyByMessage(err error) deniedClass {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return deniedOther
	}
	msg := strings.ToLower(apiErr.ErrorMessage())
	switch apiErr.ErrorCode() {
	case "AccessDeniedException", "AccessDenied":
		// "kms:" is the action prefix; a bare "kms" may be part of a role
		// or user name in a denial about Secrets Manager itself.
		if strings.Contains(msg, "access to kms") || strings.Contains(msg, "perform: kms:") || strings.Contains(msg, "kms:decrypt") {
			return deniedByKMS
		}
	case "InvalidRequestException":
		if strings.Contains(msg, "marked for deletion") || strings.Contains(msg, "marked deleted") ||
			strings.Contains(msg, "scheduled for deletion") {
			return deniedDeletion
		}
	}
	return deniedOther
}

// deadlineError is a call cut short by a deadline, with which one fired: the
// per-call Options.Timeout, or the deadline of the caller's context.
type deadlineError struct {
	caller bool          // the caller's context deadline fired
	budget time.Duration // the time the call had before that deadline
	unsent bool          // the caller's deadline had passed before the call
	err    error
}

func (e *deadlineError) Error() string { return e.reason() }
func (e *deadlineError) Unwrap() error { return e.err }

func (e *deadlineError) reason() string {
	if e.unsent {
		return "the caller's context deadline had passed before the call was sent"
	}
	if e.caller {
		return fmt.Sprintf("no answer before the caller's context deadline (%v after the call started)", e.budget.Round(time.Millisecond))
	}
	return fmt.Sprintf("no answer within %v (Options.Timeout, the per-call deadline)", e.budget)
}

// transientReason returns a short description when err is a failure that
// may pass by itself (5xx, timeout, broken connection, an answer cut short),
// or "".
func transientReason(err error, timeout time.Duration) string {
	var (
		deadline *deadlineError
		internal *types.InternalServiceError
		apiErr   smithy.APIError
	)
	switch {
	case errors.As(err, &deadline):
		return deadline.reason()
	case errors.Is(err, context.DeadlineExceeded):
		return (&deadlineError{budget: timeout}).reason()
	case errors.Is(err, context.Canceled):
		return "the request was canceled"
	case errors.As(err, &internal) || awscall.ErrorCode(err) == "InternalServiceError" || awscall.ErrorCode(err) == "InternalFailure" || awscall.ErrorCode(err) == "ServiceUnavailable":
		return "Secrets Manager reported an internal error"
	case errors.As(err, &apiErr) && apiErr.ErrorFault() == smithy.FaultServer:
		return fmt.Sprintf("Secrets Manager reported a server fault (%s)", cmp.Or(awscall.ErrorCode(err), "no error code"))
	}
	return awscall.TransportReason(err)
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
	se := &config.SourceError{Layer: LayerName, Source: id, Err: awscall.CleanCause(o.String(), err)}
	var cp *clientPanic
	switch {
	case errors.Is(err, errNoClient):
		se.Code, se.Message, se.Err = config.ErrLayer, "no API client (NewWithClient was given a nil client)", nil
		return se
	case errors.As(err, &cp):
		// A bug of the client, not a blip: retrying sooner will not help.
		se.Code, se.Message, se.Err = config.ErrLayer, cp.Error(), nil
		return se
	}
	code := awscall.ErrorCode(err)
	if errors.Is(err, context.Canceled) {
		// The caller gave up: nothing to fix here, and the store names the
		// layer that was interrupted once for all its sources.
		se.Message, se.Err = "interrupted", context.Canceled
		return se
	}
	var (
		notFound *types.ResourceNotFoundException
		decrypt  *types.DecryptionFailure
	)
	switch {
	case isCredentialsFailure(err):
		// The credentials chain's own error is kept: it says which provider
		// failed and why (an expired SSO token, no instance role), and it
		// holds nothing read from a secret or a configuration source.
		var ce *CredentialsError
		errors.As(err, &ce)
		se.Code, se.Message, se.Err = config.ErrCredentials, credentialsHint, ce
	case awscall.RejectsCredentials(code):
		se.Code = config.ErrCredentials
		se.Message = fmt.Sprintf(rejectedHint, o, code)
	case errors.As(err, &notFound) || code == "ResourceNotFoundException":
		se.Code = config.ErrNotFound
		se.Message = l.notFoundMessage(id, r)
	case (code == "AccessDeniedException" || code == "AccessDenied") && classifyByMessage(err) == deniedByKMS:
		// The fix is on the key, not in IAM for Secrets Manager.
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
	case classifyByMessage(err) == deniedDeletion:
		se.Code = config.ErrDeleted
		se.Message = deletedMessage
	case isThrottle(code):
		se.Code = config.ErrThrottled
		se.Message = fmt.Sprintf("%s calls were throttled (over the account's request quota)%s", o, awscall.Attempts(err))
	default:
		awscall.Unclassified(se, o, err, code, transientReason(err, l.opts.Timeout))
	}
	return se
}

func (l *Reader) notFoundMessage(id string, r ref) string {
	switch {
	case r.versionID != "":
		return fmt.Sprintf("no secret %q with version %s in %s", id, r.versionID, l.where)
	case r.stage != "":
		return fmt.Sprintf("no secret %q with a version labelled %s in %s", id, r.stage, l.where)
	}
	return fmt.Sprintf("no secret %q in %s", id, l.where)
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

// rejectedHint is the message of a call whose credentials Secrets Manager
// refused; it takes the operation and the error code.
const rejectedHint = "%s was refused with %s: the credentials the call was signed with are expired or not valid for this account. " +
	"Renew them: run aws sso login for an SSO profile, fetch a new session (AWS_SESSION_TOKEN goes with the keys it was issued with), " +
	"or check that AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY belong to the account and partition of the endpoint; " +
	"a signature error may also mean the machine's clock is far off"

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
