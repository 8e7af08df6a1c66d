package emu

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSClient returns an SQS client for endpoint configured by AWSConfig.
func SQSClient(endpoint string) *sqs.Client { return sqs.NewFromConfig(AWSConfig(endpoint)) }

// SNSClient returns an SNS client for endpoint configured by AWSConfig.
func SNSClient(endpoint string) *sns.Client { return sns.NewFromConfig(AWSConfig(endpoint)) }

// EventsClient returns an EventBridge client for endpoint configured by
// AWSConfig.
func EventsClient(endpoint string) *eventbridge.Client {
	return eventbridge.NewFromConfig(AWSConfig(endpoint))
}

// QueueName returns an SQS queue name unique within the process (SQS
// allows letters, digits, '-' and '_', up to 80 characters).
func QueueName(tb testing.TB, suffix string) string {
	tb.Helper()
	n := nameCounter.Add(1)
	name := []byte(suffix)
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			name[i] = '-'
		}
	}
	if len(name) > 50 {
		name = name[:50]
	}
	return string(name) + "-" + itoa(n)
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

// CreateQueue creates an SQS queue and returns its URL and ARN. It fails the
// test on error.
func CreateQueue(tb testing.TB, c *sqs.Client, name string) (url, arn string) {
	tb.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		tb.Fatalf("emu: CreateQueue %s: %v", name, err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		tb.Fatalf("emu: GetQueueAttributes %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl), attrs.Attributes["QueueArn"]
}

// DeleteQueue deletes a queue; it fails the test on error.
func DeleteQueue(tb testing.TB, c *sqs.Client, url string) {
	tb.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		tb.Fatalf("emu: DeleteQueue %s: %v", url, err)
	}
}

// CreateTopic creates an SNS topic and returns its ARN.
func CreateTopic(tb testing.TB, c *sns.Client, name string) string {
	tb.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		tb.Fatalf("emu: CreateTopic %s: %v", name, err)
	}
	return aws.ToString(out.TopicArn)
}

// SecretEventPattern is the event pattern of an EventBridge rule that takes
// the Secret Label Updated events of Secrets Manager.
const SecretEventPattern = `{"source":["aws.secretsmanager"],"detail-type":["Secret Label Updated"]}`

// RouteEventsToQueue creates an EventBridge rule on the default bus with
// SecretEventPattern and the queue as its target, as a platform would.
func RouteEventsToQueue(tb testing.TB, c *eventbridge.Client, rule, queueARN string) {
	tb.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventPattern: aws.String(SecretEventPattern)}); err != nil {
		tb.Fatalf("emu: PutRule %s: %v", rule, err)
	}
	_, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(queueARN)}}})
	if err != nil {
		tb.Fatalf("emu: PutTargets %s: %v", rule, err)
	}
}

// SecretEvent is the detail of a Secret Label Updated event.
type SecretEvent struct {
	Name      string // the secret's name
	ARN       string // the secret's ARN (resources[0])
	Label     string // the label that moved; "" for AWSCURRENT
	VersionID string
	Time      time.Time // zero for now
}

func (e SecretEvent) detail() string {
	label := e.Label
	if label == "" {
		label = "AWSCURRENT"
	}
	b, _ := json.Marshal(map[string]string{"name": e.Name, "labelUpdated": label, "versionId": e.VersionID})
	return string(b)
}

// Envelope returns the event as EventBridge delivers it to a target.
func (e SecretEvent) Envelope() string {
	at := e.Time
	if at.IsZero() {
		at = time.Now()
	}
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": itoa(nameCounter.Add(1)), "detail-type": "Secret Label Updated", "source": "aws.secretsmanager",
		"account": "000000000000", "time": at.UTC().Format(time.RFC3339Nano), "region": Region,
		"resources": []string{e.ARN}, "detail": json.RawMessage(e.detail()),
	})
	return string(b)
}

// PutSecretEvent puts the event on the EventBridge default bus. It stands in
// for Secrets Manager, which sends the event itself when a label moves; the
// emulator does not. The emulator sets the event's time itself and leaves out
// resources, so the event names its secret by detail.name only.
func PutSecretEvent(tb testing.TB, c *eventbridge.Client, e SecretEvent) {
	tb.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("aws.secretsmanager"), DetailType: aws.String("Secret Label Updated"),
		Detail: aws.String(e.detail()), Resources: []string{e.ARN},
	}}})
	if err != nil || out.FailedEntryCount > 0 {
		tb.Fatalf("emu: PutEvents: %v (%d failed)", err, out.FailedEntryCount)
	}
}

// PublishSecretEvent publishes the event, as EventBridge delivers it, to an
// SNS topic. It stands in for an EventBridge rule whose target is the topic:
// Secrets Manager sends the event to the bus and the rule to the topic; the
// emulator does neither.
func PublishSecretEvent(tb testing.TB, c *sns.Client, topicARN string, e SecretEvent) {
	tb.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(e.Envelope())}); err != nil {
		tb.Fatalf("emu: Publish: %v", err)
	}
}

// SendMessage sends body to a queue as it is, for messages no AWS service
// would send (malformed ones) or that one would (an EventBridge event sent to
// the queue by a rule).
func SendMessage(tb testing.TB, c *sqs.Client, url, body string) {
	tb.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
		tb.Fatalf("emu: SendMessage: %v", err)
	}
}
