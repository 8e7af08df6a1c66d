package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Tags a fan-out feed puts on its queues.
const (
	// TagHeartbeat holds the Unix time (seconds) the queue's reader last
	// said it was alive.
	TagHeartbeat = "strata:heartbeat"
	// TagSubscription holds the ARN of the queue's SNS subscription, so
	// that the sweep that deletes an orphan queue removes it too.
	TagSubscription = "strata:subscription"
	// TagHeartbeatInterval holds the reader's Options.Heartbeat in
	// seconds: a sweep judges a queue by the longer of its own interval
	// and this one, so replicas configured differently (a rolling change
	// of the option) never take each other's live queues for orphans.
	TagHeartbeatInterval = "strata:heartbeat-interval"
)

// maxTaggedHeartbeat bounds the interval a sweep takes from a queue's tag.
const maxTaggedHeartbeat = 24 * time.Hour

// retentionSeconds is how long a fan-out queue keeps a message: an event
// older than the safety-net poll is no use, and a reconnecting store reads
// everything anyway.
const retentionSeconds = "3600"

// ownQueue is the queue a fan-out run created.
type ownQueue struct {
	url, arn, name string
	subscription   string
	lastBeat       time.Time
}

// call runs fn under the feed's Timeout. It is used for the calls a run
// makes when it starts and when it ends: those that end it run on a ctx
// that is already done, so they get a ctx of their own.
func (f *Feed) call(ctx context.Context, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	return fn(cctx)
}

// open creates the run's queue, lets the topic send to it and subscribes it
// with raw message delivery. If a step fails, what was created is deleted.
func (f *Feed) open(ctx context.Context) (q *ownQueue, err error) {
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	q = &ownQueue{name: f.prefix + hex.EncodeToString(suffix[:])}
	now := time.Now()
	err = f.call(ctx, func(ctx context.Context) error {
		out, err := f.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{
			QueueName: aws.String(q.name),
			Attributes: map[string]string{
				string(types.QueueAttributeNameMessageRetentionPeriod):        retentionSeconds,
				string(types.QueueAttributeNameReceiveMessageWaitTimeSeconds): "20",
			},
			Tags: map[string]string{
				TagHeartbeat:         strconv.FormatInt(now.Unix(), 10),
				TagHeartbeatInterval: strconv.FormatInt(int64((f.opts.Heartbeat+time.Second-1)/time.Second), 10),
			},
		})
		if err != nil {
			return callError("CreateQueue", q.name, err)
		}
		q.url = aws.ToString(out.QueueUrl)
		return nil
	})
	if err != nil {
		return nil, err
	}
	q.lastBeat = now
	defer func() {
		if err != nil {
			f.close(ctx, q)
			q = nil
		}
	}()
	if err := f.allowTopic(ctx, q); err != nil {
		return nil, err
	}
	if err := f.subscribe(ctx, q); err != nil {
		return nil, err
	}
	f.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "push: created fan-out queue", slog.String("queue", q.url), slog.String("topic", f.topicARN))
	return q, nil
}

// allowTopic reads the queue's ARN and sets the policy that lets the topic,
// and only it, send messages to the queue.
func (f *Feed) allowTopic(ctx context.Context, q *ownQueue) error {
	err := f.call(ctx, func(ctx context.Context) error {
		out, err := f.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(q.url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
		})
		if err != nil {
			return callError("GetQueueAttributes", q.url, err)
		}
		q.arn = out.Attributes[string(types.QueueAttributeNameQueueArn)]
		return nil
	})
	if err != nil {
		return err
	}
	return f.call(ctx, func(ctx context.Context) error {
		_, err := f.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
			QueueUrl:   aws.String(q.url),
			Attributes: map[string]string{string(types.QueueAttributeNamePolicy): QueuePolicy(q.arn, f.topicARN)},
		})
		if err != nil {
			return callError("SetQueueAttributes", q.url, err)
		}
		return nil
	})
}

// QueuePolicy returns the SQS queue policy that lets the SNS topic topicARN
// send messages to the queue queueARN, and nothing else.
func QueuePolicy(queueARN, topicARN string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "AllowTopic",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "sns.amazonaws.com"},
			"Action":    "sqs:SendMessage",
			"Resource":  queueARN,
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": topicARN}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// subscribe subscribes the queue to the topic with raw message delivery and
// records the subscription on the queue.
func (f *Feed) subscribe(ctx context.Context, q *ownQueue) error {
	err := f.call(ctx, func(ctx context.Context) error {
		out, err := f.sns.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn:              aws.String(f.topicARN),
			Protocol:              aws.String("sqs"),
			Endpoint:              aws.String(q.arn),
			Attributes:            map[string]string{"RawMessageDelivery": "true"},
			ReturnSubscriptionArn: true,
		})
		if err != nil {
			return callError("Subscribe", f.topicARN, err)
		}
		q.subscription = aws.ToString(out.SubscriptionArn)
		return nil
	})
	if err != nil {
		return err
	}
	return f.tag(ctx, q, map[string]string{TagSubscription: q.subscription})
}

// tag sets tags on the queue.
func (f *Feed) tag(ctx context.Context, q *ownQueue, tags map[string]string) error {
	return f.call(ctx, func(ctx context.Context) error {
		if _, err := f.sqs.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(q.url), Tags: tags}); err != nil {
			return callError("TagQueue", q.url, err)
		}
		return nil
	})
}

// heartbeat renews the queue's heartbeat tag once Options.Heartbeat has
// passed since the last renewal. A queue deleted by a sweep (its reader was
// silent too long) fails here or at the next receive, and the run ends; the
// next run creates a new queue.
func (f *Feed) heartbeat(ctx context.Context, q *ownQueue) error {
	now := time.Now()
	if now.Sub(q.lastBeat) < f.opts.Heartbeat || ctx.Err() != nil {
		return nil
	}
	if err := f.tag(ctx, q, map[string]string{TagHeartbeat: strconv.FormatInt(now.Unix(), 10)}); err != nil {
		return err
	}
	q.lastBeat = now
	return nil
}

// closeBudget bounds the clean-up of a run whose ctx ended (a store
// closing): a store waits 2 seconds for its Watch to return, so the run
// returns within that even when SQS or SNS is slow.
const closeBudget = 1500 * time.Millisecond

// close deletes the subscription and the queue of a run; it runs when the
// run's ctx may be done already, so its calls get a ctx of their own, given
// closeBudget in all when the run's ctx ended. A failure is logged: the
// queue's heartbeat then goes stale, and another replica's sweep deletes it.
func (f *Feed) close(ctx context.Context, q *ownQueue) {
	ended := ctx.Err() != nil
	ctx = context.WithoutCancel(ctx)
	if ended {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, closeBudget)
		defer cancel()
	}
	f.remove(ctx, q.url, q.subscription)
}

// remove deletes a subscription (if any) and a queue, at once (Close waits
// for it), logging failures. It reports whether both went.
func (f *Feed) remove(ctx context.Context, queueURL, subscription string) bool {
	unsubscribed := make(chan bool, 1)
	go func() {
		if subscription == "" {
			unsubscribed <- true
			return
		}
		err := f.call(ctx, func(ctx context.Context) error {
			_, err := f.sns.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(subscription)})
			return err
		})
		if err != nil {
			f.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "push: could not delete a fan-out subscription",
				slog.String("subscription", subscription), slog.String("error", callError("Unsubscribe", subscription, err).Error()))
		}
		unsubscribed <- err == nil
	}()
	err := f.call(ctx, func(ctx context.Context) error {
		_, err := f.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(queueURL)})
		return err
	})
	if err != nil {
		f.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "push: could not delete a fan-out queue",
			slog.String("queue", queueURL), slog.String("error", callError("DeleteQueue", queueURL, err).Error()))
	}
	return <-unsubscribed && err == nil
}

// sweep deletes, with their subscriptions, the queues under the prefix
// whose heartbeat is older than 4 heartbeats (see sweepOne): queues of
// replicas that crashed. It is bounded: one ListQueues page, and at most
// Options.SweepLimit queues examined, picked at random. Failures are
// logged; the sweep never fails a run.
func (f *Feed) sweep(ctx context.Context, own string) (deleted int) {
	var urls []string
	err := f.call(ctx, func(ctx context.Context) error {
		out, err := f.sqs.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(f.prefix), MaxResults: aws.Int32(1000)})
		if err != nil {
			return callError("ListQueues", f.prefix+"*", err)
		}
		urls = out.QueueUrls
		return nil
	})
	if err != nil {
		f.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "push: orphan sweep failed", slog.String("error", err.Error()))
		return 0
	}
	mrand.Shuffle(len(urls), func(i, j int) { urls[i], urls[j] = urls[j], urls[i] })
	now := time.Now()
	examined := 0
	for _, u := range urls {
		if examined >= f.opts.SweepLimit || ctx.Err() != nil {
			break
		}
		if u == own || !strings.HasPrefix(queueName(u), f.prefix) {
			continue
		}
		examined++
		if f.sweepOne(ctx, u, now) {
			deleted++
		}
	}
	if deleted > 0 || examined > 0 {
		f.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "push: orphan sweep", slog.Int("examined", examined), slog.Int("deleted", deleted))
	}
	return deleted
}

// sweepOne deletes the queue at u if its heartbeat is older than 4
// heartbeats before now: the longer of this feed's and the queue's own
// (TagHeartbeatInterval, at most a day). A queue without a heartbeat tag is
// not one of a feed's: it is left alone.
func (f *Feed) sweepOne(ctx context.Context, u string, now time.Time) bool {
	var tags map[string]string
	err := f.call(ctx, func(ctx context.Context) error {
		out, err := f.sqs.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(u)})
		if err != nil {
			return err
		}
		tags = out.Tags
		return nil
	})
	if err != nil {
		return false // gone already, or not ours to read
	}
	interval := f.opts.Heartbeat
	if secs, err := strconv.ParseInt(tags[TagHeartbeatInterval], 10, 64); err == nil && secs > 0 {
		interval = max(interval, time.Duration(min(secs, int64(maxTaggedHeartbeat/time.Second)))*time.Second)
	}
	beat, err := strconv.ParseInt(tags[TagHeartbeat], 10, 64)
	if err != nil || !time.Unix(beat, 0).Before(now.Add(-orphanHeartbeats*interval)) {
		return false
	}
	f.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "push: deleting orphan fan-out queue",
		slog.String("queue", u), slog.Time("heartbeat", time.Unix(beat, 0)))
	return f.remove(ctx, u, tags[TagSubscription])
}

// queueName returns the last path segment of a queue URL.
func queueName(u string) string {
	return u[strings.LastIndexByte(u, '/')+1:]
}
