package leakcheck

import (
	"context"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/ssm"
)

// ssmStub answers every parameter under /app as a SecureString holding the
// canary, and /app/bad with the canary under a type that is none.
type ssmStub struct{}

func (ssmStub) params() []types.Parameter {
	return []types.Parameter{
		{Name: aws.String("/app/database/password"), Type: types.ParameterTypeSecureString, Value: aws.String(canary + "-ok"), Version: 3},
		{Name: aws.String("/app/payments/stripe_key"), Type: types.ParameterTypeSecureString, Value: aws.String(canary), Version: 1},
		{Name: aws.String("/app/bad"), Type: types.ParameterType(canary), Value: aws.String(canary), Version: 1},
	}
}

func (s ssmStub) GetParameters(context.Context, *awsssm.GetParametersInput, ...func(*awsssm.Options)) (*awsssm.GetParametersOutput, error) {
	return &awsssm.GetParametersOutput{Parameters: s.params()}, nil
}

func (s ssmStub) GetParametersByPath(context.Context, *awsssm.GetParametersByPathInput, ...func(*awsssm.Options)) (*awsssm.GetParametersByPathOutput, error) {
	return &awsssm.GetParametersByPathOutput{Parameters: s.params()}, nil
}

func (ssmStub) DescribeParameters(context.Context, *awsssm.DescribeParametersInput, ...func(*awsssm.Options)) (*awsssm.DescribeParametersOutput, error) {
	return &awsssm.DescribeParametersOutput{}, nil
}

var ssmOnce struct {
	sync.Once
	reader *ssm.Reader
	update config.Update
	err    error
}

// ssmRead returns a Parameter Store reader, the Update of a read whose
// SecureStrings hold the canary, and the read's error (a malformed answer
// that holds it too).
func ssmRead(f *fixture) (*ssm.Reader, config.Update, error) {
	ssmOnce.Do(func() {
		ssmOnce.reader = ssm.NewWithClient(ssmStub{}, &ssm.Options{Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))},
			ssm.Path("/app", "", nil), ssm.Parameter("/app/payments/stripe_key", "payments.stripe_key", nil))
		ssmOnce.update, ssmOnce.err = ssmOnce.reader.Refresh(context.Background(), config.RefreshRequest{Schema: f.store.Schema()})
	})
	return ssmOnce.reader, ssmOnce.update, ssmOnce.err
}

func init() {
	registry["providers/ssm.API"] = entry{exempt: noValue}
	registry["configcheck.SecretHolder"] = entry{exempt: noValue}
	registry["providers/ssm.Reader"] = entry{values: func(f *fixture) []any {
		r, u, err := ssmRead(f)
		if v := u.Values["payments.stripe_key"]; v.Raw != canary || err == nil {
			panic("leakcheck: the SSM read does not hold the canary; the check would prove nothing")
		}
		// The Update, its State and the read's error (a malformed answer
		// holding the canary) are checked with the extra values.
		f.extra = append(f.extra, u, u.State, err)
		return []any{r}
	}}
	registry["providers/ssm.Options"] = entry{values: func(*fixture) []any {
		return both(ssm.Options{Concurrency: 2, Throughput: ssm.HigherThroughput, Logger: slog.New(slog.DiscardHandler)})
	}}
	registry["providers/ssm.Spec"] = entry{values: func(f *fixture) []any {
		r, _, _ := ssmRead(f)
		return both(r.Specs()...)
	}}
	registry["providers/ssm.SpecOptions"] = entry{values: func(*fixture) []any { return both(ssm.SpecOptions{Optional: true}) }}
	registry["providers/ssm.Throughput"] = entry{values: func(*fixture) []any { return both(ssm.StandardThroughput, ssm.HigherThroughput) }}
}
