package ssm

import (
	"context"

	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
)

// API is the part of the SSM client the layer uses. The SDK's *ssm.Client
// satisfies it; wrap it to add tracing, caching or a test double.
//
// Implementations must be safe for concurrent use: the layer calls them from
// several goroutines at once. Every call gets a context with a deadline, and an
// implementation must return once that context is done. A wrapper should pass
// optFns on to the SDK client: a refresh of values a store already serves
// sends each call once (RetryMaxAttempts 1), since the store retries with its
// own backoff, and a wrapper that drops the option keeps the client's retries.
type API interface {
	GetParameters(ctx context.Context, params *awsssm.GetParametersInput, optFns ...func(*awsssm.Options)) (*awsssm.GetParametersOutput, error)
	GetParametersByPath(ctx context.Context, params *awsssm.GetParametersByPathInput, optFns ...func(*awsssm.Options)) (*awsssm.GetParametersByPathOutput, error)
	DescribeParameters(ctx context.Context, params *awsssm.DescribeParametersInput, optFns ...func(*awsssm.Options)) (*awsssm.DescribeParametersOutput, error)
}

var _ API = (*awsssm.Client)(nil)
