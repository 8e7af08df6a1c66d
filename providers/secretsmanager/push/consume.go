package push

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/strata-go/strata/config"
)

// consumer is one run of a feed on one queue.
type consumer struct {
	feed     *Feed
	t        Target
	log      *slog.Logger
	queueURL string
	fanout   *ownQueue // nil for a Queue feed

	report config.WatchReport
	early  bool // an empty poll came back early: logged once a run
}

// publish sends the report, if the target wants it.
func (c *consumer) publish() {
	if c.t.Report != nil {
		c.t.Report(c.report)
	}
}

// fail reports the feed disconnected with err and returns err; a run ended by
// ctx is no failure: it returns nil.
func (c *consumer) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	c.report.Connected, c.report.Err = false, err
	c.publish()
	c.log.LogAttrs(ctx, slog.LevelWarn, "push: not receiving events; the store polls meanwhile",
		slog.String("feed", c.feed.String()), slog.String("error", err.Error()))
	return err
}

// checkQueue makes sure the queue exists and can be read before the feed
// says it is connected: a long poll would take its whole wait to tell.
func (c *consumer) checkQueue(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, c.feed.opts.Timeout)
	defer cancel()
	_, err := c.feed.sqs.GetQueueAttributes(cctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(c.queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return callError("GetQueueAttributes", c.queueURL, err)
	}
	return nil
}

// loop long-polls the queue until ctx ends or a call fails.
func (c *consumer) loop(ctx context.Context) error {
	c.report.Connected, c.report.Err = true, nil
	c.publish()
	c.log.LogAttrs(ctx, slog.LevelInfo, "push: receiving events", slog.String("feed", c.feed.String()), slog.String("queue", c.queueURL))
	for {
		began := time.Now()
		msgs, err := c.receive(ctx)
		if err != nil {
			return c.fail(ctx, err)
		}
		if len(msgs) > 0 {
			if err := c.handle(ctx, msgs); err != nil {
				return c.fail(ctx, err)
			}
		}
		if c.fanout != nil {
			if err := c.feed.heartbeat(ctx, c.fanout); err != nil {
				return c.fail(ctx, err)
			}
		}
		if len(msgs) == 0 && !c.pace(ctx, began) {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// pace waits out the rest of the long poll begun at began, when it came
// back empty in less than half its wait: an endpoint that ignores
// WaitTimeSeconds would otherwise be polled in a tight loop, thousands of
// requests a second. So the feed never polls faster than one ReceiveMessage
// per wait while idle. It reports false when ctx ended.
func (c *consumer) pace(ctx context.Context, began time.Time) bool {
	wait := c.feed.opts.WaitTime
	rest := wait - time.Since(began)
	if rest < wait/2 {
		return true
	}
	if !c.early {
		c.early = true
		c.log.LogAttrs(ctx, slog.LevelWarn, "push: the queue answered empty before the long poll's wait; polling once per wait",
			slog.String("queue", c.queueURL), slog.Duration("wait", wait))
	}
	t := time.NewTimer(rest)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// receive makes one long poll. Its deadline is the wait plus Timeout, so a
// connection that died without a word does not hold the feed forever.
func (c *consumer) receive(ctx context.Context) ([]types.Message, error) {
	wait := c.feed.opts.WaitTime
	cctx, cancel := context.WithTimeout(ctx, wait+c.feed.opts.Timeout)
	defer cancel()
	out, err := c.feed.sqs.ReceiveMessage(cctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(c.queueURL),
		WaitTimeSeconds:     int32(wait / time.Second),
		MaxNumberOfMessages: maxMessagesPerPoll,
	})
	if err != nil {
		return nil, callError("ReceiveMessage", c.queueURL, err)
	}
	if out == nil {
		return nil, nil
	}
	return out.Messages, nil
}

// handle tells the target of each change in msgs, then deletes every message
// (changes, others and malformed alike): a message is deleted only once
// Notify, which never blocks, has returned for it.
func (c *consumer) handle(ctx context.Context, msgs []types.Message) error {
	entries := make([]types.DeleteMessageBatchRequestEntry, 0, len(msgs))
	now := time.Now()
	for i, m := range msgs {
		c.one(ctx, m, now)
		if m.ReceiptHandle != nil {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(entryID(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	c.report.LastEvent = now
	defer c.publish() // once the messages are deleted
	if len(entries) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.feed.opts.Timeout)
	defer cancel()
	out, err := c.feed.sqs.DeleteMessageBatch(cctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(c.queueURL), Entries: entries})
	if err != nil {
		return callError("DeleteMessageBatch", c.queueURL, err)
	}
	if out != nil && len(out.Failed) > 0 {
		// Each comes back after its visibility timeout, a duplicate the
		// layer treats as a no-op.
		c.log.LogAttrs(ctx, slog.LevelWarn, "push: some messages could not be deleted; they will be received again",
			slog.String("queue", c.queueURL), slog.Int("failed", len(out.Failed)))
	}
	return nil
}

// one reads one message, received at now, and notifies the target of what
// it says. An event time after now (a clock far off, or a message no AWS
// service sent) is taken as now: a time to come would make the store's lag
// negative and every later event for the secret look older.
func (c *consumer) one(ctx context.Context, m types.Message, now time.Time) {
	id := messageID(m)
	change, v, why := parse(aws.ToString(m.Body))
	if change.At.After(now) {
		change.At = now
	}
	switch v {
	case verdictMalformed:
		c.report.Malformed++
		c.log.LogAttrs(ctx, slog.LevelWarn, "push: malformed message deleted (body not shown)",
			slog.String("queue", c.queueURL), slog.String("message_id", id), slog.String("reason", why))
		return
	case verdictOther:
		c.report.Ignored++
		c.log.LogAttrs(ctx, slog.LevelDebug, "push: message ignored", slog.String("message_id", id), slog.String("reason", why))
		return
	}
	if change.Label != CurrentLabel {
		c.report.Ignored++
		c.log.LogAttrs(ctx, slog.LevelDebug, "push: event ignored: a label other than "+CurrentLabel+" moved", slog.String("message_id", id))
		return
	}
	events := c.t.Resolve(change)
	if len(events) == 0 {
		c.report.Ignored++
		c.log.LogAttrs(ctx, slog.LevelDebug, "push: event ignored: the secret is not in use", slog.String("message_id", id))
		return
	}
	c.report.Handled++
	for _, e := range events {
		c.t.Notify(e)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "push: event handled", slog.String("message_id", id), slog.Int("sources", len(events)))
}

// maxMessageIDLen bounds an SQS MessageId (a UUID; at most 100 characters).
const maxMessageIDLen = 100

// messageID is the MessageId of m to log: text of the answer, shown only when
// it is shaped like one, since a broken or hostile endpoint may put anything
// there, the body included.
func messageID(m types.Message) string {
	if id := aws.ToString(m.MessageId); token(id, maxMessageIDLen) {
		return id
	}
	return "(not shown: not a MessageId)"
}

func entryID(i int) string { return "m" + strconv.Itoa(i) }
