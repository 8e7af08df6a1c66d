package ssm_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/ssm"
)

// staticAPI serves fixed parameters at version 7.
type staticAPI struct{ params map[string]types.Parameter }

func (a staticAPI) GetParameters(_ context.Context, in *awsssm.GetParametersInput, _ ...func(*awsssm.Options)) (*awsssm.GetParametersOutput, error) {
	out := &awsssm.GetParametersOutput{}
	for _, n := range in.Names {
		if p, ok := a.params[n]; ok {
			out.Parameters = append(out.Parameters, p)
		} else {
			out.InvalidParameters = append(out.InvalidParameters, n)
		}
	}
	return out, nil
}

func (a staticAPI) GetParametersByPath(_ context.Context, in *awsssm.GetParametersByPathInput, _ ...func(*awsssm.Options)) (*awsssm.GetParametersByPathOutput, error) {
	out := &awsssm.GetParametersByPathOutput{}
	for n, p := range a.params {
		if strings.HasPrefix(n, aws.ToString(in.Path)+"/") {
			out.Parameters = append(out.Parameters, p)
		}
	}
	return out, nil
}

func (a staticAPI) DescribeParameters(context.Context, *awsssm.DescribeParametersInput, ...func(*awsssm.Options)) (*awsssm.DescribeParametersOutput, error) {
	out := &awsssm.DescribeParametersOutput{}
	for n, p := range a.params {
		out.Parameters = append(out.Parameters, types.ParameterMetadata{Name: aws.String(n), Type: p.Type, Version: p.Version})
	}
	return out, nil
}

func param(name string, typ types.ParameterType, value string) types.Parameter {
	return types.Parameter{Name: aws.String(name), Type: typ, Value: aws.String(value), Version: 7}
}

func Example() {
	type AppConfig struct {
		Server struct {
			ReadTimeout string
			AllowedIPs  []string `config:"allowed_ips"`
		}
		Payments struct {
			StripeKey config.Secret
		}
	}
	// In a service: ssm.New(awsCfg, nil, ...) with the aws.Config from
	// awsconfig.LoadDefaultConfig.
	client := staticAPI{params: map[string]types.Parameter{
		"/my-app/production/server/read-timeout": param("/my-app/production/server/read-timeout", types.ParameterTypeString, "7s"),
		"/my-app/production/server/allowed_ips":  param("/my-app/production/server/allowed_ips", types.ParameterTypeStringList, "10.0.0.1,10.0.0.2"),
		"/shared/stripe-key":                     param("/shared/stripe-key", types.ParameterTypeSecureString, "sk_live_example"),
	}}
	layer := ssm.NewWithClient(client, nil,
		ssm.Path("/my-app/production", "", nil),
		ssm.Parameter("/shared/stripe-key", "payments.stripe_key", nil))

	store, err := config.Load[AppConfig](context.Background(), &config.Options{EnvPrefix: "APP_", Production: true}, layer)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	cfg := store.Get()
	fmt.Println(cfg.Server.ReadTimeout, cfg.Server.AllowedIPs, cfg.Payments.StripeKey)
	for _, k := range store.Keys() {
		fmt.Printf("%s = %s (%s)\n", k.Key, k.Value, k.Source)
	}
	// Output:
	// 7s [10.0.0.1 10.0.0.2] [REDACTED]
	// server.read_timeout = 7s (ssm /my-app/production/server/read-timeout (version 7))
	// server.allowed_ips = ["10.0.0.1","10.0.0.2"] (ssm /my-app/production/server/allowed_ips (version 7))
	// payments.stripe_key = [REDACTED] (ssm /shared/stripe-key (version 7))
}
