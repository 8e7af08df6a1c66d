package push_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
)

// A replica reads the queue its platform provides; an EventBridge rule sends
// the Secret Label Updated events to it. The store then polls only hourly
// while the feed is connected.
func ExampleQueue() {
	ctx := context.Background()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return
	}
	type AppConfig struct {
		Database struct {
			Password config.Secret
		}
	}
	feed := push.Queue(sqs.NewFromConfig(awsCfg), os.Getenv("APP_SECRETS_QUEUE_URL"), nil)
	layer := secretsmanager.New(awsCfg, &secretsmanager.Options{Push: feed},
		secretsmanager.JSON("my-app/production/database", "database", nil))
	store, err := config.Load[AppConfig](ctx, &config.Options{RefreshInterval: 5 * time.Minute}, layer)
	if err != nil {
		return
	}
	defer store.Close()
	_ = store.Get().Database.Password
}

// Each replica creates its own queue on the fleet's topic, named under the
// prefix, and deletes it when the store closes.
func ExampleFanOut() {
	awsCfg := aws.Config{Region: "eu-west-1"} // as awsconfig.LoadDefaultConfig returns it
	feed := push.FanOut(sqs.NewFromConfig(awsCfg), sns.NewFromConfig(awsCfg),
		"arn:aws:sns:eu-west-1:123456789012:my-app-secret-rotations", "my-app-prod-", nil)
	fmt.Println(feed)
	fmt.Println(feed.Actions())
	// Output:
	// fan-out from arn:aws:sns:eu-west-1:123456789012:my-app-secret-rotations (queues my-app-prod-*)
	// [sqs:ReceiveMessage sqs:DeleteMessage sqs:GetQueueAttributes sqs:CreateQueue sqs:SetQueueAttributes sqs:TagQueue sqs:DeleteQueue sqs:ListQueues sqs:ListQueueTags sns:Subscribe sns:Unsubscribe]
}
