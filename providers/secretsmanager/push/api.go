package push

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSAPI is the part of the SQS client a Feed uses. The SDK's *sqs.Client
// satisfies it. Implementations must be safe for concurrent use and return
// once ctx is done: Close of a store ends a long poll by ending its ctx.
// Queue feeds call ReceiveMessage, DeleteMessageBatch and GetQueueAttributes;
// fan-out feeds call the rest too.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, params *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, params *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	CreateQueue(ctx context.Context, params *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	SetQueueAttributes(ctx context.Context, params *sqs.SetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error)
	DeleteQueue(ctx context.Context, params *sqs.DeleteQueueInput, optFns ...func(*sqs.Options)) (*sqs.DeleteQueueOutput, error)
	TagQueue(ctx context.Context, params *sqs.TagQueueInput, optFns ...func(*sqs.Options)) (*sqs.TagQueueOutput, error)
	ListQueues(ctx context.Context, params *sqs.ListQueuesInput, optFns ...func(*sqs.Options)) (*sqs.ListQueuesOutput, error)
	ListQueueTags(ctx context.Context, params *sqs.ListQueueTagsInput, optFns ...func(*sqs.Options)) (*sqs.ListQueueTagsOutput, error)
}

// SNSAPI is the part of the SNS client a fan-out Feed uses. The SDK's
// *sns.Client satisfies it, under the same rules as SQSAPI.
type SNSAPI interface {
	Subscribe(ctx context.Context, params *sns.SubscribeInput, optFns ...func(*sns.Options)) (*sns.SubscribeOutput, error)
	Unsubscribe(ctx context.Context, params *sns.UnsubscribeInput, optFns ...func(*sns.Options)) (*sns.UnsubscribeOutput, error)
}

var (
	_ SQSAPI = (*sqs.Client)(nil)
	_ SNSAPI = (*sns.Client)(nil)
)

// Mode is how a Feed's queue is provided.
type Mode int

const (
	// ModeQueue reads a queue the platform provides, one per replica.
	ModeQueue Mode = iota + 1
	// ModeFanOut creates a queue per replica on an SNS topic.
	ModeFanOut
)

func (m Mode) String() string {
	switch m {
	case ModeQueue:
		return "queue"
	case ModeFanOut:
		return "fan-out"
	}
	return "unknown"
}

// Actions returns the IAM actions a feed of mode m needs, besides the
// layer's Secrets Manager actions; nil for an unknown mode. A queue feed
// needs them on its queue. A fan-out feed needs the SQS actions on the queues
// under its prefix (arn:aws:sqs:REGION:ACCOUNT:PREFIX*) and the SNS actions
// on its topic (Unsubscribe on the topic's subscriptions).
func Actions(m Mode) []string {
	switch m {
	case ModeQueue:
		return []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
	case ModeFanOut:
		return []string{
			"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
			"sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:DeleteQueue",
			"sqs:ListQueues", "sqs:ListQueueTags",
			"sns:Subscribe", "sns:Unsubscribe",
		}
	}
	return nil
}
