package secretsmanager_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
)

// staticAPI serves fixed AWSCURRENT values and refuses BatchGetSecretValue,
// as an endpoint without that action does.
type staticAPI struct{ values map[string]string }

func (a staticAPI) GetSecretValue(_ context.Context, in *sm.GetSecretValueInput, _ ...func(*sm.Options)) (*sm.GetSecretValueOutput, error) {
	id := aws.ToString(in.SecretId)
	return &sm.GetSecretValueOutput{Name: aws.String(id), VersionId: aws.String("3f2a9c1e-" + id), SecretString: aws.String(a.values[id])}, nil
}

func (a staticAPI) DescribeSecret(_ context.Context, in *sm.DescribeSecretInput, _ ...func(*sm.Options)) (*sm.DescribeSecretOutput, error) {
	id := aws.ToString(in.SecretId)
	return &sm.DescribeSecretOutput{Name: aws.String(id), VersionIdsToStages: map[string][]string{"3f2a9c1e-" + id: {"AWSCURRENT"}}}, nil
}

func (staticAPI) BatchGetSecretValue(context.Context, *sm.BatchGetSecretValueInput, ...func(*sm.Options)) (*sm.BatchGetSecretValueOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "InvalidAction", Message: "the action is not valid for this endpoint"}
}

func (staticAPI) ListSecrets(context.Context, *sm.ListSecretsInput, ...func(*sm.Options)) (*sm.ListSecretsOutput, error) {
	return &sm.ListSecretsOutput{}, nil
}

func Example() {
	type AppConfig struct {
		Database struct {
			Host     string
			Password config.Secret
		}
		Payments struct {
			StripeKey config.Secret
		}
	}
	// In a service: secretsmanager.New(awsCfg, nil, ...) with the aws.Config from
	// awsconfig.LoadDefaultConfig.
	client := staticAPI{values: map[string]string{
		"my-app/production/database": `{"host":"db.internal","password":"correct-horse-battery"}`,
		"my-app/production/stripe":   "sk_live_example",
	}}
	layer := secretsmanager.NewWithClient(client, nil,
		secretsmanager.JSON("my-app/production/database", "database", nil),
		secretsmanager.String("my-app/production/stripe", "payments.stripe_key", nil))

	schema, _ := config.SchemaFor[AppConfig]("APP_")
	ctx := context.Background()
	// A store's first read: Refresh with no previous State. The layer keeps
	// no state of its own; the store keeps first.State and passes it back.
	first, err := layer.Refresh(ctx, config.RefreshRequest{Schema: schema})
	if err != nil {
		fmt.Println(err)
		return
	}
	values := first.Values
	for _, key := range []string{"database.host", "database.password", "payments.stripe_key"} {
		fmt.Printf("%s from %s\n", key, values[key].Source)
	}

	// The batch call was refused, so each secret was read with
	// GetSecretValue. Nothing changed since: the refresh costs one
	// DescribeSecret per secret.
	next, _ := layer.Refresh(ctx, config.RefreshRequest{Schema: schema, Prev: first.State})
	fmt.Println("changed:", next.Changed)
	calls := layer.Calls()
	for _, op := range []string{secretsmanager.OpBatchGetSecretValue, secretsmanager.OpGetSecretValue, secretsmanager.OpDescribeSecret} {
		fmt.Printf("%s: %d ok, %d failed\n", op, calls[op].OK, calls[op].Error)
	}
	// Output:
	// database.host from secretsmanager my-app/production/database#host (version 3f2a9c1e, AWSCURRENT)
	// database.password from secretsmanager my-app/production/database#password (version 3f2a9c1e, AWSCURRENT)
	// payments.stripe_key from secretsmanager my-app/production/stripe (version 3f2a9c1e, AWSCURRENT)
	// changed: false
	// BatchGetSecretValue: 0 ok, 1 failed
	// GetSecretValue: 2 ok, 0 failed
	// DescribeSecret: 2 ok, 0 failed
}
