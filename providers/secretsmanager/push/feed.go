package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/awscall"
)

// Defaults of Options.
const (
	DefaultWaitTime    = 20 * time.Second
	DefaultTimeout     = 5 * time.Second
	DefaultHeartbeat   = 5 * time.Minute
	DefaultSweepLimit  = 20
	orphanHeartbeats   = 4 // a fan-out queue whose heartbeat is older than this many intervals is an orphan
	maxPrefixLen       = 60
	maxMessagesPerPoll = 10
)

// Options tune a Feed. The zero value (and nil) is valid; each field's
// default is given in its comment.
type Options struct {
	// WaitTime is the long poll of each ReceiveMessage, from 1 to 20
	// seconds. An event arriving during the poll ends it at once, so a
	// longer wait costs no latency, only fewer requests. A poll answered
	// empty in less than half the wait (an endpoint that ignores it) is
	// followed by the rest of the wait, so an idle feed never polls faster.
	// Defaults to 20 seconds.
	WaitTime time.Duration
	// Timeout bounds every other SQS and SNS call. Defaults to 5 seconds.
	Timeout time.Duration
	// Heartbeat is how often a fan-out feed renews the heartbeat tag of its
	// queue; the queue records it in a tag too. A queue under the prefix
	// whose heartbeat is older than 4 heartbeats (the longer of the
	// sweeping feed's and the queue's own, taken up to a day) is taken for
	// the queue of a replica that crashed, and deleted by the start-up sweep
	// of another. Defaults to 5 minutes.
	Heartbeat time.Duration
	// SweepLimit is the most queues under the prefix a fan-out feed
	// examines (one ListQueueTags each) in its start-up sweep, picked at
	// random from one ListQueues page, so that replicas starting together
	// share the work. Defaults to 20.
	SweepLimit int
	// Logger receives lines about the feed: connection, malformed messages
	// (never their body), queue creation and sweeps. Defaults to
	// discarding.
	Logger *slog.Logger
}

func (o Options) normalize() Options {
	if o.WaitTime <= 0 || o.WaitTime > DefaultWaitTime {
		o.WaitTime = DefaultWaitTime
	}
	if o.WaitTime < time.Second {
		o.WaitTime = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.SweepLimit <= 0 {
		o.SweepLimit = DefaultSweepLimit
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// A Feed tells a Secrets Manager layer of rotations as they happen: it
// long-polls an SQS queue fed with the Secret Label Updated events of
// EventBridge. Build it with Queue or FanOut and give it to the layer
// (secretsmanager.Options.Push). A Feed holds no state between runs and may
// serve several layers; each Run reads a queue of its own (fan-out), or the
// one queue (Queue), which then must not be shared by two running stores:
// SQS gives each message to one reader.
type Feed struct {
	mode     Mode
	sqs      SQSAPI
	sns      SNSAPI
	queueURL string // ModeQueue
	topicARN string // ModeFanOut
	prefix   string // ModeFanOut
	opts     Options
}

// Queue returns a feed that reads the queue at queueURL, which the platform
// provides for this replica and an EventBridge rule (or an SNS topic)
// sends Secret Label Updated events to. opts may be nil.
func Queue(client SQSAPI, queueURL string, opts *Options) *Feed {
	return &Feed{mode: ModeQueue, sqs: client, queueURL: queueURL, opts: optionsOf(opts)}
}

// FanOut returns a feed that, each time it runs, creates a queue of its own
// named prefix and 16 random hexadecimal digits, lets the SNS topic topicARN
// send to it, subscribes it to the topic with raw message delivery, and
// deletes queue and subscription when the run ends. An EventBridge rule
// sends the Secret Label Updated events to the topic. The prefix must be
// 1 to 60 letters, digits, "-" or "_", and is the prefix of this fleet's
// queues only: the start-up sweep deletes queues under it whose heartbeat
// tag is stale. opts may be nil.
func FanOut(sqsClient SQSAPI, snsClient SNSAPI, topicARN, prefix string, opts *Options) *Feed {
	return &Feed{mode: ModeFanOut, sqs: sqsClient, sns: snsClient, topicARN: topicARN, prefix: prefix, opts: optionsOf(opts)}
}

func optionsOf(opts *Options) Options {
	var o Options
	if opts != nil {
		o = *opts
	}
	return o.normalize()
}

// Mode returns how the feed's queue is provided.
func (f *Feed) Mode() Mode { return f.mode }

// Actions returns the IAM actions the feed needs: Actions(f.Mode()).
func (f *Feed) Actions() []string { return Actions(f.mode) }

// QueueURL returns the queue of a Queue feed; "" for a fan-out feed.
func (f *Feed) QueueURL() string { return f.queueURL }

// TopicARN returns the topic of a fan-out feed; "" for a Queue feed.
func (f *Feed) TopicARN() string { return f.topicARN }

// Prefix returns the queue name prefix of a fan-out feed; "" for a Queue feed.
func (f *Feed) Prefix() string { return f.prefix }

// String describes the feed: `queue https://...` or `fan-out from TOPIC (queues PREFIX*)`.
func (f *Feed) String() string {
	if f.mode == ModeFanOut {
		return fmt.Sprintf("fan-out from %s (queues %s*)", f.topicARN, f.prefix)
	}
	return "queue " + f.queueURL
}

// Target is what a Feed tells of the changes it reads.
type Target struct {
	// Resolve turns a change of AWSCURRENT into the events of the sources
	// it concerns; none when the secret is not in use. Required.
	Resolve func(Change) []config.Event
	// Notify is called with each event Resolve returned; it must not block.
	// Required.
	Notify func(config.Event)
	// Report is called whenever the feed's health or counts change. May be
	// nil.
	Report func(config.WatchReport)
}

// ErrFeed marks a feed that cannot run as configured (no client, a bad
// prefix); running it again will not help.
var ErrFeed = errors.New("push: unusable feed")

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,60}$`)

func (f *Feed) check(t Target) error {
	if err := f.Err(); err != nil {
		return err
	}
	if t.Resolve == nil || t.Notify == nil {
		return fmt.Errorf("%w: Target without Resolve or Notify", ErrFeed)
	}
	return nil
}

// Err reports why the feed cannot run as configured (an ErrFeed error: no
// client, no queue URL, no topic, a bad prefix), or nil. A Secrets Manager
// layer given such a feed fails its first read, so config.Load names the
// mistake instead of a store that never receives an event.
func (f *Feed) Err() error {
	switch {
	case f == nil:
		return fmt.Errorf("%w: nil Feed", ErrFeed)
	case awscall.IsNil(f.sqs):
		return fmt.Errorf("%w: %s: no SQS client", ErrFeed, f)
	case f.mode == ModeQueue && f.queueURL == "":
		return fmt.Errorf("%w: Queue feed without a queue URL", ErrFeed)
	case f.mode == ModeFanOut && awscall.IsNil(f.sns):
		return fmt.Errorf("%w: %s: no SNS client", ErrFeed, f)
	case f.mode == ModeFanOut && f.topicARN == "":
		return fmt.Errorf("%w: fan-out feed without a topic ARN", ErrFeed)
	case f.mode == ModeFanOut && !prefixPattern.MatchString(f.prefix):
		return fmt.Errorf("%w: fan-out queue prefix %q: want 1 to %d letters, digits, '-' or '_'", ErrFeed, f.prefix, maxPrefixLen)
	}
	return nil
}

// Run reads the feed until ctx ends, when it returns nil, or until the queue
// fails (missing, access denied, SQS unavailable after the SDK's retries),
// when it reports Connected false with the error and returns it; a caller
// runs it again later (a store does, with backoff). A fan-out run creates
// its queue first and deletes it, with its subscription, before it returns
// (within 1.5 seconds of ctx ending, however slow SQS and SNS are).
// Run stops a long poll at once when ctx ends.
func (f *Feed) Run(ctx context.Context, t Target) error {
	if err := f.check(t); err != nil {
		return err
	}
	c := &consumer{feed: f, t: t, log: f.opts.Logger}
	switch f.mode {
	case ModeQueue:
		c.queueURL = f.queueURL
		if err := c.checkQueue(ctx); err != nil {
			return c.fail(ctx, err)
		}
	case ModeFanOut:
		q, err := f.open(ctx)
		if err != nil {
			return c.fail(ctx, err)
		}
		defer f.close(ctx, q)
		c.queueURL, c.fanout = q.url, q
		f.sweep(ctx, q.url)
	default:
		return fmt.Errorf("%w: unknown mode", ErrFeed)
	}
	return c.loop(ctx)
}
