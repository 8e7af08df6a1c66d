package secretsmanager

import (
	"context"

	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// API is the part of the Secrets Manager client the layer uses. The SDK's
// *secretsmanager.Client satisfies it; wrap it to add tracing, caching or a
// test double.
//
// Implementations must be safe for concurrent use: the layer calls them from
// several goroutines at once. Every call gets a context with a deadline, and an
// implementation must return once that context is done. A wrapper should pass
// optFns on to the SDK client: a refresh of values a store already serves
// sends each call once (RetryMaxAttempts 1), since the store retries with its
// own backoff, and a wrapper that drops the option keeps the client's retries.
type API interface {
	BatchGetSecretValue(ctx context.Context, params *sm.BatchGetSecretValueInput, optFns ...func(*sm.Options)) (*sm.BatchGetSecretValueOutput, error)
	GetSecretValue(ctx context.Context, params *sm.GetSecretValueInput, optFns ...func(*sm.Options)) (*sm.GetSecretValueOutput, error)
	DescribeSecret(ctx context.Context, params *sm.DescribeSecretInput, optFns ...func(*sm.Options)) (*sm.DescribeSecretOutput, error)
	ListSecrets(ctx context.Context, params *sm.ListSecretsInput, optFns ...func(*sm.Options)) (*sm.ListSecretsOutput, error)
}

var _ API = (*sm.Client)(nil)
