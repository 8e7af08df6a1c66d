package ssm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/awscall"
)

func isThrottle(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "ThrottledException":
		return true
	}
	return false
}

// deniedByKMS reports whether an AccessDeniedException is about the KMS key
// of a SecureString rather than an IAM permission for Parameter Store: SSM
// answers both with the same code, and only the message tells them apart
// ("... is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:...",
// or "The ciphertext refers to a customer master key that does not exist,
// does not exist in this region, or you are not allowed to access."). This is
// the one place the layer reads the text of an AWS error, and only the API
// error's own message. A bare "kms" may be part of a role name, so the
// action prefix "kms:" or the ciphertext sentence is required.
func deniedByKMS(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	msg := strings.ToLower(apiErr.ErrorMessage())
	return strings.Contains(msg, "kms:") || strings.Contains(msg, "access to kms") ||
		strings.Contains(msg, "ciphertext refers to a customer") || strings.Contains(msg, "(service: awskms")
}

// refusesRequest reports whether an API error code means Parameter Store
// refused the request itself as invalid: a spec it does not accept, which
// no retry mends.
func refusesRequest(code string) bool {
	switch code {
	case "ValidationException", "ParameterPatternMismatchException", "HierarchyLevelLimitExceededException",
		"InvalidFilterKey", "InvalidFilterOption", "InvalidFilterValue":
		return true
	}
	return false
}

// transientReason returns a short description when err is a failure that
// may pass by itself (5xx, timeout, broken connection, an answer cut short),
// or "".
func transientReason(err error) string {
	var (
		timeout  *timeoutError
		internal *types.InternalServerError
		apiErr   smithy.APIError
	)
	switch {
	case errors.As(err, &timeout):
		return timeout.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer before the caller's context deadline"
	case errors.As(err, &internal) || awscall.ErrorCode(err) == "InternalServerError" || awscall.ErrorCode(err) == "InternalFailure" || awscall.ErrorCode(err) == "ServiceUnavailable":
		return "Parameter Store reported an internal error"
	case errors.As(err, &apiErr) && apiErr.ErrorFault() == smithy.FaultServer:
		return fmt.Sprintf("Parameter Store reported a server fault (%s)", cmp.Or(awscall.ErrorCode(err), "no error code"))
	}
	return awscall.TransportReason(err)
}

// sourceError maps an API error to a *config.SourceError whose Code is one
// of the config sentinels and whose Message says what to do. subject is the
// parameter or path concerned.
//
// The SDK's error is not kept: its message may quote the request or the
// response (a response body that failed to deserialize holds a SecureString),
// and a reporter that walks the Unwrap chain would send it on. Err is a clean
// cause instead: the operation, the error code and the HTTP status.
func (l *Reader) sourceError(o op, subject string, err error) *config.SourceError {
	se := &config.SourceError{Layer: LayerName, Source: subject, Err: awscall.CleanCause(o.String(), err)}
	var cp *clientPanic
	switch {
	case errors.Is(err, errNoClient):
		se.Code, se.Message, se.Err = config.ErrLayer, "no API client (NewWithClient was given a nil client)", nil
		return se
	case errors.As(err, &cp):
		se.Code, se.Message, se.Err = config.ErrLayer, cp.Error(), nil
		return se
	case errors.Is(err, context.Canceled):
		se.Message, se.Err = "interrupted", context.Canceled
		return se
	}
	code := awscall.ErrorCode(err)
	var (
		notFound *types.ParameterNotFound
		badKey   *types.InvalidKeyId
	)
	var creds *credentialsError
	switch {
	case errors.As(err, &creds):
		se.Code, se.Message, se.Err = config.ErrCredentials, credentialsHint, creds
	case awscall.RejectsCredentials(code):
		se.Code = config.ErrCredentials
		se.Message = fmt.Sprintf("%s was refused with %s: the credentials the call was signed with are expired or not valid for this account; renew them (aws sso login, a fresh session) or check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", o, code)
	case errors.As(err, &notFound) || code == "ParameterNotFound":
		se.Code, se.Message = config.ErrNotFound, fmt.Sprintf("no parameter %q in %s", subject, l.where)
	case (code == "AccessDeniedException" || code == "AccessDenied") && deniedByKMS(err):
		se.Code = config.ErrDecryption
		se.Message = fmt.Sprintf("access to the KMS key of a SecureString was denied: allow kms:Decrypt on that key (KeyId in DescribeParameters for %s) in the key policy or IAM policy of the caller", subject)
	case code == "AccessDeniedException" || code == "AccessDenied":
		se.Code = config.ErrAccessDenied
		if o == opDescribe {
			se.Message = fmt.Sprintf("missing IAM permission %s (resource \"*\") needed to check the versions of %s", o.action(), subject)
		} else {
			se.Message = fmt.Sprintf("missing IAM permission %s on %s", o.action(), l.resource(subject))
		}
	case errors.As(err, &badKey) || code == "InvalidKeyId":
		se.Code = config.ErrDecryption
		se.Message = fmt.Sprintf("the KMS key of a SecureString under %s is not valid (disabled, deleted or pending deletion): enable the key, or put the parameter again with a key the caller may use for kms:Decrypt", subject)
	case refusesRequest(code):
		se.Code = config.ErrLayer
		se.Message = fmt.Sprintf("Parameter Store refused %s for %s as invalid (%s): the spec names a path or parameter it does not accept (such as one with \"//\" or deeper than 15 levels); fix the spec", o, subject, code)
	case code == "InvalidNextToken":
		se.Code = config.ErrTransient
		se.Message = fmt.Sprintf("%s refused the NextToken of the page before (InvalidNextToken): the token expired or the listing changed while it was read; it is read again from the start", o)
	case isThrottle(code):
		se.Code = config.ErrThrottled
		se.Message = fmt.Sprintf("%s calls were throttled (over the account's Parameter Store quota, 40 a second by default)%s", o, awscall.Attempts(err))
	default:
		awscall.Unclassified(se, o, err, code, transientReason(err))
	}
	return se
}

// credentialsHint is the message of a call that failed because the client's
// AWS credentials could not be retrieved, before any request was sent.
const credentialsHint = "no AWS credentials to sign the call with: the SDK's default chain found none that work. " +
	"It looks for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, the profile of AWS_PROFILE (SSO included: run aws sso login when it has expired), " +
	"a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, as on EKS), the ECS or EKS Pod Identity endpoint, and the IAM role of the EC2 instance; " +
	"against a local emulator, any dummy keys do"

// resource names the IAM resource of a parameter or path.
func (l *Reader) resource(name string) string {
	region := l.region
	if region == "" {
		region = "REGION"
	}
	return fmt.Sprintf("%q (%s)", name, parameterARN(partition(region), region, "ACCOUNT", name))
}

// notFound is the error for a named parameter that does not exist.
func (l *Reader) notFound(name string) *config.SourceError {
	return &config.SourceError{Layer: LayerName, Source: name, Code: config.ErrNotFound,
		Message: fmt.Sprintf("no parameter %q in %s (SpecOptions.Optional allows it to be missing)", name, l.where)}
}

// emptyPath is the error for a path under which no parameter exists.
func (l *Reader) emptyPath(path string) *config.SourceError {
	return &config.SourceError{Layer: LayerName, Source: path, Code: config.ErrNotFound,
		Message: fmt.Sprintf("no parameter under %s in %s (SpecOptions.Optional allows the path to be empty)", path, l.where)}
}

// malformed is the error for an answer that cannot be used. It never
// includes a value or any part of one.
func malformed(subject, msg string) *config.SourceError {
	return &config.SourceError{Layer: LayerName, Source: subject, Code: config.ErrMalformed, Message: msg}
}

// noAnswer is the error for a call whose client returned neither an answer
// nor an error: a broken client or wrapper.
func noAnswer(o op, subject string) *config.SourceError {
	return malformed(subject, fmt.Sprintf("%s returned no answer and no error: the client is broken; nothing was read", o))
}

func tooManyPages(o op, subject string, pages, perPage int) *config.SourceError {
	return malformed(subject, fmt.Sprintf("%s answered more than %d pages (%d parameters a page; Options.MaxPages): nothing was read, raise MaxPages or narrow the path", o, pages, perPage))
}

// repeatedToken is the error for a listing whose pages came back to a
// NextToken given before: its pages would repeat without end, and the
// pages read so far may miss parameters, which a refresh would take for
// deleted ones.
func repeatedToken(o op, subject string) *config.SourceError {
	return malformed(subject, fmt.Sprintf("%s answered a NextToken it had given before: the pages repeat, so the listing is incomplete and nothing was read", o))
}

// withSource returns a copy of a *config.SourceError about another subject.
func withSource(err error, subject string) error {
	se, ok := err.(*config.SourceError)
	if !ok {
		return err
	}
	cp := *se
	cp.Source = subject
	return &cp
}

// withKeys records on each *config.SourceError of errs the keys its source
// would have set, so that the store says once that those fields are unset
// because the source failed, rather than report each as required.
func (l *Reader) withKeys(errs []error) []error {
	for _, err := range errs {
		se, ok := err.(*config.SourceError)
		if !ok || len(se.Keys) > 0 {
			continue
		}
		for _, s := range l.sources {
			if key, ok := s.covers(se.Source); ok && !containsKey(se.Keys, key) {
				se.Keys = append(se.Keys, key)
			}
		}
	}
	return errs
}

func containsKey(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// covers reports whether an error about subject (a parameter or path)
// concerns the spec, and the key (field or section) it would have set.
func (s Spec) covers(subject string) (key string, ok bool) {
	switch s.kind {
	case kindParameter:
		return s.key, subject == s.root
	case kindPath:
		if subject == s.root {
			return s.key, true
		}
	}
	rel, ok := under(subject, s.root)
	if !ok {
		return "", false
	}
	if s.kind == kindNames {
		found := false
		for _, n := range s.ParameterNames() {
			found = found || n == subject
		}
		if !found {
			return "", false
		}
	}
	key, _ = keyOf(nil, s.key, rel)
	return key, true
}
