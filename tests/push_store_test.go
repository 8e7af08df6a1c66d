package tests

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// psEnv is an emulator with Secrets Manager reached through a fault proxy
// (whose counts are what the stores spent) and SQS, SNS and EventBridge
// reached directly.
type psEnv struct {
	proxy  *faultproxy.Proxy
	direct *sm.Client
	cfg    aws.Config
	sqs    *sqs.Client
	sns    *sns.Client
	eb     *eventbridge.Client
}

func newPSEnv(t *testing.T) *psEnv {
	t.Helper()
	url := emu.Start(t)
	p, err := faultproxy.New(url, faultproxy.Options{BatchShim: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return &psEnv{proxy: p, direct: emu.Client(url), cfg: emu.AWSConfig(p.URL()),
		sqs: emu.SQSClient(url), sns: emu.SNSClient(url), eb: emu.EventsClient(url)}
}

func (e *psEnv) createSecrets(t *testing.T, password string) rfSecrets {
	t.Helper()
	return (&rfEnv{direct: e.direct}).createSecrets(t, password)
}

// reads are the Secrets Manager calls that read values.
func (e *psEnv) reads() int {
	return e.proxy.Calls("GetSecretValue") + e.proxy.Calls("BatchGetSecretValue")
}

// psStore loads an rfConfig store with the real clock over a Secrets Manager
// layer with feed as its push.
func psStore(t *testing.T, e *psEnv, s rfSecrets, feed *push.Feed, opts config.Options) (*config.Store[rfConfig], *secretsmanager.Reader) {
	t.Helper()
	layer := secretsmanager.New(e.cfg, &secretsmanager.Options{Push: feed}, s.sources()...)
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = time.Hour
	}
	if opts.MinRefreshInterval == 0 {
		opts.MinRefreshInterval = 50 * time.Millisecond // settle's Refresh comes right after a read
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	store, err := config.Load[rfConfig](ctx, &opts, layer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store, layer
}

// watchOf returns the store's watch status of its only layer.
func watchOf(store *config.Store[rfConfig]) *config.WatchStatus {
	ls := store.Status().Layers
	for i := range ls {
		if ls[i].Watch != nil {
			return ls[i].Watch
		}
	}
	return nil
}

// waitWatch waits until ok holds for the store's watch status.
func waitWatch(t *testing.T, store *config.Store[rfConfig], what string, ok func(*config.WatchStatus) bool) *config.WatchStatus {
	t.Helper()
	deadline := time.Now().Add(rfWait)
	for {
		w := watchOf(store)
		if w != nil && ok(w) {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watch did not get %s within %v: %+v", what, rfWait, w)
		}
		time.Sleep(5 * time.Millisecond) // Status has no change notification; poll it
	}
}

// settle waits for the watch to connect and for the read its connection
// causes: Refresh returns data read after it was called.
func settle(t *testing.T, store *config.Store[rfConfig]) {
	t.Helper()
	waitWatch(t, store, "connected", func(w *config.WatchStatus) bool { return w.Connected })
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	if err := store.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
}

// pickup waits for the next Change and returns how long it took from start.
func pickup(t *testing.T, ch <-chan config.Change[rfConfig], start time.Time, key string) time.Duration {
	t.Helper()
	select {
	case c := <-ch:
		if c.Err != nil || !strings.Contains(strings.Join(c.Keys, " "), key) {
			t.Fatalf("Change = keys %v, err %v; want %s", c.Keys, c.Err, key)
		}
		return time.Since(start)
	case <-time.After(pushWait):
		t.Fatalf("the rotation was not picked up within %v", pushWait)
	}
	return 0
}

// TestPushPickupAfterRotation rotates a secret and sends its event through
// an EventBridge rule to the store's queue: the store serves the new value
// within 2 seconds, reading that secret alone, while it polls only hourly.
// Duplicate, late and unrelated events that follow change nothing.
func TestPushPickupAfterRotation(t *testing.T) {
	e := newPSEnv(t)
	s := e.createSecrets(t, "password-123456")
	qURL, qARN := emu.CreateQueue(t, e.sqs, emu.QueueName(t, "store"))
	emu.RouteEventsToQueue(t, e.eb, emu.QueueName(t, "rule"), qARN)
	store, _ := psStore(t, e, s, push.Queue(e.sqs, qURL, nil), config.Options{RefreshInterval: time.Minute})
	settle(t, store)
	ch := rfSubscribe(t, store)

	readsBefore, describes := e.reads(), e.proxy.Calls("DescribeSecret")
	start := time.Now()
	v2 := emu.Rotate(t, e.direct, s.stripe, "sk_live_stripe-key-2")
	emu.PutSecretEvent(t, e.eb, emu.SecretEvent{Name: s.stripe, VersionID: v2})
	took := pickup(t, ch, start, "payments.stripe_key")
	t.Logf("rotation picked up by push in %v", took)
	if got := store.Get().Payments.StripeKey.Reveal(); got != "sk_live_stripe-key-2" {
		t.Fatalf("stripe key = %q after the rotation", got)
	}
	if r, d := e.reads()-readsBefore, e.proxy.Calls("DescribeSecret")-describes; r != 1 || d != 0 {
		t.Fatalf("the pickup cost %d reads and %d DescribeSecret; want one read of the rotated secret", r, d)
	}
	w := waitWatch(t, store, "one handled", func(w *config.WatchStatus) bool { return w.Handled == 1 })
	if !w.Connected || w.Events != 1 || w.LastEvent.IsZero() || w.Lag <= 0 || w.Lag > pushWait+time.Second {
		t.Fatalf("watch status = %+v", w)
	}
	if ls := store.Status().Layers[len(store.Status().Layers)-1]; ls.Versions[s.stripe] != v2 {
		t.Fatalf("Status versions = %v, want %s at %s", ls.Versions, s.stripe, v2)
	}

	// A second rotation, then late and duplicate deliveries of both
	// events, an event for a secret not in use and a malformed message,
	// straight into the queue as a redelivery would put them.
	v3 := emu.Rotate(t, e.direct, s.stripe, "sk_live_stripe-key-3")
	emu.PutSecretEvent(t, e.eb, emu.SecretEvent{Name: s.stripe, VersionID: v3})
	pickup(t, ch, time.Now(), "payments.stripe_key")
	readsBefore = e.reads()
	old := time.Now().Add(-time.Hour)
	emu.SendMessage(t, e.sqs, qURL, emu.SecretEvent{Name: s.stripe, VersionID: v2, Time: old}.Envelope())
	emu.SendMessage(t, e.sqs, qURL, emu.SecretEvent{Name: s.stripe, VersionID: v3}.Envelope())
	emu.SendMessage(t, e.sqs, qURL, emu.SecretEvent{Name: emu.UniqueName(t, "unused"), VersionID: "v1"}.Envelope())
	emu.SendMessage(t, e.sqs, qURL, `{"not":"an event"}`)
	waitWatch(t, store, "4 handled, 1 ignored, 1 malformed", func(w *config.WatchStatus) bool {
		return w.Handled == 4 && w.Ignored == 1 && w.Malformed == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	if err := store.Refresh(ctx); err != nil { // after the reads the events caused
		t.Fatal(err)
	}
	rfNoChange(t, ch)
	if n := e.reads() - readsBefore; n != 0 {
		t.Fatalf("late and duplicate events cost %d reads; want none", n)
	}
	if got := store.Get().Payments.StripeKey.Reveal(); got != "sk_live_stripe-key-3" {
		t.Fatalf("stripe key = %q; a late event brought back an older version", got)
	}
	wantQueueEmpty(t, e.sqs, qURL)
}

// TestPushFallbackAndRecovery deletes the store's queue: the watch reports
// the error, the store polls at RefreshInterval and picks up a rotation
// without events; once the queue is back the watch reconnects by itself and
// push works again.
func TestPushFallbackAndRecovery(t *testing.T) {
	e := newPSEnv(t)
	s := e.createSecrets(t, "password-123456")
	name := emu.QueueName(t, "fallback")
	qURL, _ := emu.CreateQueue(t, e.sqs, name)
	feed := push.Queue(e.sqs, qURL, &push.Options{WaitTime: time.Second, Timeout: 2 * time.Second})
	store, _ := psStore(t, e, s, feed, config.Options{
		RefreshInterval: time.Second, MinRefreshInterval: 100 * time.Millisecond, RetryBackoff: 200 * time.Millisecond,
	})
	settle(t, store)
	ch := rfSubscribe(t, store)

	emu.DeleteQueue(t, e.sqs, qURL)
	w := waitWatch(t, store, "disconnected", func(w *config.WatchStatus) bool { return !w.Connected })
	if !errors.Is(w.Err, config.ErrNotFound) || !strings.Contains(w.Err.Error(), qURL) {
		t.Fatalf("watch error = %v; want ErrNotFound naming the queue", w.Err)
	}
	// No event now: the poll finds it.
	emu.Rotate(t, e.direct, s.cache, "cache-token-2")
	select {
	case c := <-ch:
		if c.Err != nil || store.Get().Cache.Token.Reveal() != "cache-token-2" {
			t.Fatalf("Change = %v, %v", c.Keys, c.Err)
		}
	case <-time.After(rfWait):
		t.Fatal("the store did not poll while its watch was down")
	}

	emu.CreateQueue(t, e.sqs, name)
	settle(t, store)
	v := emu.Rotate(t, e.direct, s.stripe, "sk_live_stripe-key-2")
	emu.SendMessage(t, e.sqs, qURL, emu.SecretEvent{Name: s.stripe, VersionID: v}.Envelope())
	pickup(t, ch, time.Now(), "payments.stripe_key")
}

// TestPushFanOutStores runs several stores on one topic, each with a queue
// of its own: one event reaches them all. Closing a store deletes its queue
// and subscription.
func TestPushFanOutStores(t *testing.T) {
	e := newPSEnv(t)
	s := e.createSecrets(t, "password-123456")
	topic := emu.CreateTopic(t, e.sns, emu.QueueName(t, "topic"))
	prefix := emu.QueueName(t, "fleet") + "-"
	const n = 4
	var stores []*config.Store[rfConfig]
	var chans []<-chan config.Change[rfConfig]
	for range n {
		st, _ := psStore(t, e, s, push.FanOut(e.sqs, e.sns, topic, prefix, nil), config.Options{})
		settle(t, st)
		stores = append(stores, st)
		chans = append(chans, rfSubscribe(t, st))
	}
	if got := listQueues(t, e.sqs, prefix); len(got) != n {
		t.Fatalf("%d queues under %s; want one per store (%d): %v", len(got), prefix, n, got)
	}
	if got := subscriptions(t, e.sns, topic); len(got) != n {
		t.Fatalf("%d subscriptions on the topic; want %d", len(got), n)
	}
	start := time.Now()
	v := emu.Rotate(t, e.direct, s.db, rfDB("app", "password-654321"))
	emu.PublishSecretEvent(t, e.sns, topic, emu.SecretEvent{Name: s.db, VersionID: v})
	for i := range n {
		took := pickup(t, chans[i], start, "database.password")
		t.Logf("store %d: %v", i, took)
	}
	for _, st := range stores {
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := listQueues(t, e.sqs, prefix); len(got) != 0 {
		t.Fatalf("queues left after Close: %v", got)
	}
	if got := subscriptions(t, e.sns, topic); len(got) != 0 {
		t.Fatalf("subscriptions left after Close: %v", got)
	}
}

func listQueues(t *testing.T, c *sqs.Client, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	return out.QueueUrls
}

func subscriptions(t *testing.T, c *sns.Client, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, s := range out.Subscriptions {
		arns = append(arns, aws.ToString(s.SubscriptionArn))
	}
	return arns
}

// TestPushOrphanSweep leaves queues under a fan-out prefix as crashed
// replicas would (a stale heartbeat, a subscription): a feed starting on the
// prefix deletes them and their subscriptions, and leaves a live queue and
// a queue that is not a feed's alone.
func TestPushOrphanSweep(t *testing.T) {
	_, sqsc, snsc := newPushEnv(t)
	topic := emu.CreateTopic(t, snsc, emu.QueueName(t, "topic"))
	prefix := emu.QueueName(t, "sweep") + "-"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mk := func(suffix string, tags map[string]string, subscribe bool) string {
		url, arn := emu.CreateQueue(t, sqsc, prefix+suffix)
		if subscribe {
			out, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String(arn), ReturnSubscriptionArn: true})
			if err != nil {
				t.Fatal(err)
			}
			tags[push.TagSubscription] = aws.ToString(out.SubscriptionArn)
		}
		if len(tags) > 0 {
			if _, err := sqsc.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(url), Tags: tags}); err != nil {
				t.Fatal(err)
			}
		}
		return url
	}
	stale := time.Now().Add(-time.Hour).Unix()
	orphan1 := mk("crashed1", map[string]string{push.TagHeartbeat: itoa(stale)}, true)
	orphan2 := mk("crashed2", map[string]string{push.TagHeartbeat: itoa(stale)}, true)
	live := mk("live", map[string]string{push.TagHeartbeat: itoa(time.Now().Unix())}, true)
	other := mk("other", map[string]string{}, false)

	r := runFeed(t, push.FanOut(sqsc, snsc, topic, prefix, fastFeed(nil)), "app/db")
	r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	got := strings.Join(listQueues(t, sqsc, prefix), " ")
	for _, u := range []string{orphan1, orphan2} {
		if strings.Contains(got, u) {
			t.Errorf("orphan %s was not swept: %s", u, got)
		}
	}
	for _, u := range []string{live, other} {
		if !strings.Contains(got, u) {
			t.Errorf("%s was swept; it is live or not a feed's", u)
		}
	}
	if subs := subscriptions(t, snsc, topic); len(subs) != 2 { // the live one and the feed's own
		t.Errorf("subscriptions after the sweep = %v; want 2", subs)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPushFanOutHeartbeat: a running fan-out feed renews the heartbeat tag of
// its queue, so other replicas' sweeps leave it alone.
func TestPushFanOutHeartbeat(t *testing.T) {
	_, sqsc, snsc := newPushEnv(t)
	topic := emu.CreateTopic(t, snsc, emu.QueueName(t, "topic"))
	prefix := emu.QueueName(t, "beat") + "-"
	r := runFeed(t, push.FanOut(sqsc, snsc, topic, prefix, &push.Options{WaitTime: time.Second, Heartbeat: time.Millisecond}), "app/db")
	r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	queues := listQueues(t, sqsc, prefix)
	if len(queues) != 1 {
		t.Fatalf("queues under the prefix = %v; want the feed's own", queues)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	stale := itoa(time.Now().Add(-time.Hour).Unix())
	if _, err := sqsc.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(queues[0]), Tags: map[string]string{push.TagHeartbeat: stale}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(rfWait)
	for {
		out, err := sqsc.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(queues[0])})
		if err != nil {
			t.Fatal(err)
		}
		if beat, err := strconv.ParseInt(out.Tags[push.TagHeartbeat], 10, 64); err == nil && time.Since(time.Unix(beat, 0)) < time.Minute {
			if !strings.HasPrefix(out.Tags[push.TagSubscription], "arn:") {
				t.Fatalf("tags = %v; want the subscription recorded", out.Tags)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the heartbeat was not renewed within %v: tags %v", rfWait, out.Tags)
		}
		time.Sleep(50 * time.Millisecond) // the renewal comes after the next long poll (1 s)
	}
}
