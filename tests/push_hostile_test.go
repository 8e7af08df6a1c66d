package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// statusText renders everything a store tells of itself.
func statusText(store *config.Store[rfConfig]) string {
	st := store.Status()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%v %+v %#v", st.LastError, st, st)
	for _, l := range st.Layers {
		if l.Watch != nil {
			fmt.Fprintf(&b, " %+v %v", *l.Watch, l.Watch.Err)
		}
	}
	return b.String()
}

// TestPushEventVersionNotEchoed sends AWSCURRENT events for a secret in
// use whose versionId is text of the message body: huge, with spaces or
// quotes, or shaped like a VersionId. The first are malformed and cost no
// read; the last gets the bounded retry of an announced version; no part of
// any reaches errors, Status or logs.
func TestPushEventVersionNotEchoed(t *testing.T) {
	const canary = "CANARY-push-version-7f3a"
	e := newPSEnv(t)
	s := e.createSecrets(t, "password-123456")
	qURL, _ := emu.CreateQueue(t, e.sqs, emu.QueueName(t, "hostile"))
	var log configtest.LogBuffer
	store, _ := psStore(t, e, s, push.Queue(e.sqs, qURL, &push.Options{WaitTime: time.Second, Logger: debugLogger(&log)}),
		config.Options{Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	settle(t, store)
	readsBefore := e.reads()
	for _, v := range []string{strings.Repeat("A", 100_000) + canary, "a b\n" + canary, `"` + canary} {
		emu.SendMessage(t, e.sqs, qURL, emu.SecretEvent{Name: s.stripe, VersionID: v}.Envelope())
	}
	w := waitWatch(t, store, "3 messages counted", func(w *config.WatchStatus) bool { return w.Handled+w.Malformed+w.Ignored == 3 })
	if w.Malformed != 3 {
		t.Errorf("watch = %+v; want the 3 events with a bad versionId malformed", w)
	}
	if n := e.reads() - readsBefore; n > 0 {
		t.Errorf("events with a bad versionId cost %d reads", n)
	}
	failures := store.Status().Failures
	emu.SendMessage(t, e.sqs, qURL, emu.SecretEvent{Name: s.stripe, VersionID: canary}.Envelope())
	deadline := time.Now().Add(rfWait)
	for store.Status().Failures == failures { // the announced version never comes
		if time.Now().After(deadline) {
			t.Fatalf("no failed read within %v: %s", rfWait, statusText(store))
		}
		time.Sleep(10 * time.Millisecond) // Status has no change notification; poll it
	}
	if txt := statusText(store); strings.Contains(txt, canary) || !strings.Contains(txt, "found only") {
		t.Fatalf("Status shows a message body, or not the failure: %.500s", txt)
	}
	if strings.Contains(log.String(), canary) {
		for _, l := range strings.Split(log.String(), "\n") {
			if strings.Contains(l, canary) {
				t.Errorf("the log shows a message body: %.400s", l)
			}
		}
	}
}

// TestPushEventOfAnotherAccount sends events for the name of a secret in
// use whose ARN is that of another account, region or partition (a bus
// that forwards several accounts' events, a topic shared by regions): they
// are ignored and cost no read, while the event with the secret's own ARN
// is followed.
func TestPushEventOfAnotherAccount(t *testing.T) {
	e := newPSEnv(t)
	s := e.createSecrets(t, "password-123456")
	qURL, _ := emu.CreateQueue(t, e.sqs, emu.QueueName(t, "foreign"))
	store, _ := psStore(t, e, s, push.Queue(e.sqs, qURL, &push.Options{WaitTime: time.Second}), config.Options{})
	settle(t, store)
	ch := rfSubscribe(t, store)
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	d, err := e.direct.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(s.stripe)})
	if err != nil {
		t.Fatal(err)
	}
	own := aws.ToString(d.ARN)
	scope, name, _ := strings.Cut(own, ":secret:")
	parts := strings.Split(scope, ":") // arn PARTITION secretsmanager REGION ACCOUNT
	foreign := []string{
		strings.Join([]string{"arn", parts[1], parts[2], parts[3], "999999999999"}, ":") + ":secret:" + name,
		strings.Join([]string{"arn", parts[1], parts[2], "eu-west-3", parts[4]}, ":") + ":secret:" + name,
		strings.Join([]string{"arn", "aws-cn", parts[2], "cn-north-1", parts[4]}, ":") + ":secret:" + name,
	}
	readsBefore := e.reads()
	for _, arn := range foreign {
		emu.SendMessage(t, e.sqs, qURL, emu.SecretEvent{Name: s.stripe, ARN: arn, VersionID: "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"}.Envelope())
	}
	w := waitWatch(t, store, "3 messages counted", func(w *config.WatchStatus) bool { return w.Handled+w.Ignored+w.Malformed == 3 })
	if w.Ignored != 3 {
		t.Fatalf("watch = %+v; want the events of other accounts, regions and partitions ignored", w)
	}
	if n := e.reads() - readsBefore; n != 0 {
		t.Fatalf("events of other accounts cost %d reads", n)
	}
	v := emu.Rotate(t, e.direct, s.stripe, "sk_live_stripe-key-2")
	emu.SendMessage(t, e.sqs, qURL, emu.SecretEvent{Name: s.stripe, ARN: own, VersionID: v}.Envelope())
	pickup(t, ch, time.Now(), "payments.stripe_key")
	if st := store.Status(); st.Failures != 0 {
		t.Fatalf("Status = %v failures: %v", st.Failures, st.LastError)
	}
}

// TestPushSweepHonoursQueueHeartbeat runs a fan-out feed that renews its
// heartbeat hourly, its tag last renewed 30 minutes ago, as a replica of a
// fleet configured so is: a feed with a one-minute heartbeat starting on the
// same prefix (a rolling change of the option) leaves that live queue alone.
func TestPushSweepHonoursQueueHeartbeat(t *testing.T) {
	_, sqsc, snsc := newPushEnv(t)
	topic := emu.CreateTopic(t, snsc, emu.QueueName(t, "topic"))
	prefix := emu.QueueName(t, "mixed-beat") + "-"
	slow := runFeed(t, push.FanOut(sqsc, snsc, topic, prefix, &push.Options{WaitTime: time.Second, Heartbeat: time.Hour}), "app/db")
	slow.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	queues := listQueues(t, sqsc, prefix)
	if len(queues) != 1 {
		t.Fatalf("queues under the prefix = %v; want the feed's own", queues)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	renewed := itoa(time.Now().Add(-30 * time.Minute).Unix())
	if _, err := sqsc.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(queues[0]), Tags: map[string]string{push.TagHeartbeat: renewed}}); err != nil {
		t.Fatal(err)
	}
	fast := runFeed(t, push.FanOut(sqsc, snsc, topic, prefix, &push.Options{WaitTime: time.Second, Heartbeat: time.Minute}), "app/db")
	fast.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	if got := strings.Join(listQueues(t, sqsc, prefix), " "); !strings.Contains(got, queues[0]) {
		t.Fatalf("the sweep deleted the live queue %s of a feed with a longer heartbeat: %s", queues[0], got)
	}
}

// TestPushFanOutCloseBounded ends a fan-out run while SQS answers DeleteQueue
// only after 3 s: Run returns within the 2 s a store waits for a Watch to
// clean up, even with the default 5 s Timeout, so no goroutine outlives
// Close; the queue left behind is an orphan that a sweep deletes.
func TestPushFanOutCloseBounded(t *testing.T) {
	url, _, snsc := newPushEnv(t)
	p, err := faultproxy.New(url, faultproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	topic := emu.CreateTopic(t, snsc, emu.QueueName(t, "topic"))
	prefix := emu.QueueName(t, "slow-close") + "-"
	r := runFeed(t, push.FanOut(emu.SQSClient(p.URL()), snsc, topic, prefix, &push.Options{WaitTime: time.Second}), "app/db")
	r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	// A DeleteQueue that would take 30 s: the clean-up gives up after its
	// budget (1.5 s, under the 2 s a store waits), and the bound below leaves
	// room for a loaded machine while telling a budget from the slow call.
	p.Add(faultproxy.Rule{Op: "DeleteQueue", Fault: faultproxy.Latency, Delay: 30 * time.Second})
	start := time.Now()
	r.cancel()
	if err := r.ended(t, 20*time.Second); err != nil {
		t.Fatalf("Run = %v, want nil once its ctx ended", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Run returned %v after its ctx ended, waiting for the slow DeleteQueue", took)
	}
	t.Logf("Run returned %v after its ctx ended", time.Since(start))
}

// TestPushEventTimeInTheFuture sends an event dated in the year 2999: the
// event reaches the target dated no later than its receipt, so no lag is
// negative and no later event looks older than it.
func TestPushEventTimeInTheFuture(t *testing.T) {
	_, sqsc, _ := newPushEnv(t)
	qURL, _ := emu.CreateQueue(t, sqsc, emu.QueueName(t, "future"))
	r := runFeed(t, push.Queue(sqsc, qURL, fastFeed(nil)), "app/db")
	r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	future := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	emu.SendMessage(t, sqsc, qURL, emu.SecretEvent{Name: "app/db", VersionID: "v2", Time: future}.Envelope())
	e := r.next(t)
	if e.At.IsZero() || e.At.After(time.Now()) {
		t.Fatalf("event dated %v; want at most its receipt", e.At)
	}
}

// TestPushLateEventAfterStart starts a store after two rotations, as a
// replica that restarts on a queue kept while it was down: the queue still
// holds the event of the middle version, dated before the version the store
// serves was created. It costs no read and no failed refresh, though the
// store never served that version (it has no history of it).
func TestPushLateEventAfterStart(t *testing.T) {
	e := newPSEnv(t)
	s := e.createSecrets(t, "password-123456")
	moved := time.Now().Add(-time.Minute) // when the middle version became current
	v2 := emu.Rotate(t, e.direct, s.stripe, "sk_live_stripe-key-2")
	emu.Rotate(t, e.direct, s.stripe, "sk_live_stripe-key-3")
	qURL, _ := emu.CreateQueue(t, e.sqs, emu.QueueName(t, "restart"))
	store, _ := psStore(t, e, s, push.Queue(e.sqs, qURL, &push.Options{WaitTime: time.Second}), config.Options{})
	settle(t, store)
	readsBefore, failures := e.reads(), store.Status().Failures
	emu.SendMessage(t, e.sqs, qURL, emu.SecretEvent{Name: s.stripe, VersionID: v2, Time: moved}.Envelope())
	waitWatch(t, store, "the event handled", func(w *config.WatchStatus) bool { return w.Handled == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	if err := store.Refresh(ctx); err != nil { // after the read the event caused, if any
		t.Fatal(err)
	}
	if n := e.reads() - readsBefore; n != 0 {
		t.Errorf("a late event cost %d reads", n)
	}
	if st := store.Status(); st.Failures != failures {
		t.Errorf("a late event failed a refresh: %v", st.LastError)
	}
	if got := store.Get().Payments.StripeKey.Reveal(); got != "sk_live_stripe-key-3" {
		t.Fatalf("stripe key = %q; a late event brought back an older version", got)
	}
}

// noWaitSQS forwards every call to the emulator, but asks each
// ReceiveMessage for no wait, as an endpoint that ignores WaitTimeSeconds
// answers: empty, at once.
type noWaitSQS struct {
	*sqs.Client
	receives atomic.Int64
}

func (c *noWaitSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	c.receives.Add(1)
	cp := *in
	cp.WaitTimeSeconds = 0
	return c.Client.ReceiveMessage(ctx, &cp, optFns...)
}

// TestPushEmptyPollsPaced reads a queue through an endpoint that answers
// every long poll empty at once: the feed keeps to the request rate of a
// long poll (one ReceiveMessage per wait) instead of spinning, and still
// delivers an event.
func TestPushEmptyPollsPaced(t *testing.T) {
	_, sqsc, _ := newPushEnv(t)
	qURL, _ := emu.CreateQueue(t, sqsc, emu.QueueName(t, "nowait"))
	client := &noWaitSQS{Client: sqsc}
	var log configtest.LogBuffer
	r := runFeed(t, push.Queue(client, qURL, &push.Options{WaitTime: time.Second, Logger: debugLogger(&log)}), "app/db")
	r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	start := client.receives.Load()
	emu.SendMessage(t, sqsc, qURL, emu.SecretEvent{Name: "app/db", VersionID: "v2"}.Envelope())
	if e := r.next(t); e.Version != "v2" {
		t.Fatalf("event = %+v", e)
	}
	time.Sleep(1500 * time.Millisecond) // not a synchronisation: the rate of polls over a second and a half
	if n := client.receives.Load() - start; n > 5 {
		t.Fatalf("%d ReceiveMessage calls within about 2 s of 1 s polls; want a few", n)
	}
	if !strings.Contains(log.String(), "answered empty before") {
		t.Errorf("the log does not say the endpoint ignores the wait:\n%s", log.String())
	}
}

// TestPushUnusableFeedFailsLoad follows the documented wiring with the
// queue URL's environment variable unset, and with a fan-out prefix SQS
// does not allow: config.Load fails naming the mistake, instead of a store
// that never receives an event and retries its watch forever.
func TestPushUnusableFeedFailsLoad(t *testing.T) {
	e := newPSEnv(t)
	s := e.createSecrets(t, "password-123456")
	t.Setenv("APP_SECRETS_QUEUE_URL", "")
	for name, tc := range map[string]struct {
		feed *push.Feed
		want string
	}{
		"queue URL unset": {push.Queue(e.sqs, os.Getenv("APP_SECRETS_QUEUE_URL"), nil), "queue URL"},
		"bad prefix":      {push.FanOut(e.sqs, e.sns, "arn:aws:sns:us-east-1:000000000000:t", "my-app.prod-", nil), `"my-app.prod-"`},
	} {
		t.Run(name, func(t *testing.T) {
			layer := secretsmanager.New(e.cfg, &secretsmanager.Options{Push: tc.feed}, s.sources()...)
			ctx, cancel := context.WithTimeout(context.Background(), rfWait)
			defer cancel()
			store, err := config.Load[rfConfig](ctx, &config.Options{RefreshInterval: 5 * time.Minute}, layer)
			if err == nil {
				store.Close()
				t.Fatal("Load succeeded with an unusable push feed")
			}
			if !errors.Is(err, config.ErrLayer) || !errors.Is(err, push.ErrFeed) || !strings.Contains(err.Error(), "Options.Push") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v; want ErrLayer and push.ErrFeed naming Options.Push and %s", err, tc.want)
			}
		})
	}
}
