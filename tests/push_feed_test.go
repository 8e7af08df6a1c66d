package tests

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/secretsmanager/push"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// pushWait bounds every wait for an event to go through a feed: the goal of
// push is a pickup within 2 seconds.
const pushWait = 2 * time.Second

// feedRun is one Run of a feed with a target that records what it is told.
type feedRun struct {
	events chan config.Event
	done   chan struct{} // closed when Run returned
	err    error         // what Run returned, once done is closed
	cancel context.CancelFunc

	mu      sync.Mutex
	reports []config.WatchReport
	changed chan struct{} // a report arrived
}

// runFeed runs f until the test ends, resolving every change of a secret
// named in use (by name) to an event of that name.
func runFeed(t *testing.T, f *push.Feed, inUse ...string) *feedRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &feedRun{events: make(chan config.Event, 64), done: make(chan struct{}), cancel: cancel, changed: make(chan struct{}, 1)}
	target := push.Target{
		Resolve: func(c push.Change) []config.Event {
			for _, n := range inUse {
				if c.Name == n {
					return []config.Event{{Source: n, Version: c.VersionID, At: c.At}}
				}
			}
			return nil
		},
		Notify: func(e config.Event) { r.events <- e },
		Report: func(w config.WatchReport) {
			r.mu.Lock()
			r.reports = append(r.reports, w)
			r.mu.Unlock()
			select {
			case r.changed <- struct{}{}:
			default:
			}
		},
	}
	go func() {
		defer close(r.done)
		r.err = f.Run(ctx, target)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return 5 s after its ctx ended")
		}
	})
	return r
}

// last returns the last report.
func (r *feedRun) last() config.WatchReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reports) == 0 {
		return config.WatchReport{}
	}
	return r.reports[len(r.reports)-1]
}

// waitReport waits until ok holds for the last report.
func (r *feedRun) waitReport(t *testing.T, what string, ok func(config.WatchReport) bool) config.WatchReport {
	t.Helper()
	deadline := time.After(rfWait)
	for {
		if w := r.last(); ok(w) {
			return w
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("no report with %s within %v; last %+v", what, rfWait, r.last())
		}
	}
}

// ended waits for Run to return and returns its error.
func (r *feedRun) ended(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(within):
		t.Fatalf("Run did not return within %v", within)
	}
	return nil
}

// next waits for the next event.
func (r *feedRun) next(t *testing.T) config.Event {
	t.Helper()
	select {
	case e := <-r.events:
		return e
	case <-r.done:
		t.Fatalf("Run returned %v before an event came", r.err)
	case <-time.After(pushWait):
		t.Fatalf("no event within %v", pushWait)
	}
	return config.Event{}
}

func newPushEnv(t *testing.T) (string, *sqs.Client, *sns.Client) {
	url := emu.Start(t)
	return url, emu.SQSClient(url), emu.SNSClient(url)
}

// fastFeed are feed options for tests: short polls keep a test that ends
// during one quick, though Close ends a poll at once anyway.
func fastFeed(log *configtest.LogBuffer) *push.Options {
	o := &push.Options{WaitTime: 2 * time.Second, Timeout: 2 * time.Second}
	if log != nil {
		o.Logger = debugLogger(log)
	}
	return o
}

func TestPushQueueFromEventBridgeRule(t *testing.T) {
	url, sqsc, _ := newPushEnv(t)
	qURL, qARN := emu.CreateQueue(t, sqsc, emu.QueueName(t, "rule"))
	eb := emu.EventsClient(url)
	emu.RouteEventsToQueue(t, eb, emu.QueueName(t, "rule"), qARN)

	r := runFeed(t, push.Queue(sqsc, qURL, &push.Options{Timeout: 2 * time.Second}), "app/db")
	r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	start := time.Now()
	emu.PutSecretEvent(t, eb, emu.SecretEvent{Name: "app/db", ARN: "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf", VersionID: "v2"})
	e := r.next(t)
	if e.Source != "app/db" || e.Version != "v2" || e.At.IsZero() {
		t.Fatalf("event = %+v, want app/db v2 with a time", e)
	}
	t.Logf("pickup through EventBridge and a 20 s long poll: %v", time.Since(start))
	w := r.waitReport(t, "one handled", func(w config.WatchReport) bool { return w.Handled == 1 })
	if w.Ignored != 0 || w.Malformed != 0 || w.LastEvent.IsZero() {
		t.Fatalf("report = %+v", w)
	}
	wantQueueEmpty(t, sqsc, qURL)
}

// wantQueueEmpty checks that the queue holds no message, visible or in
// flight: the feed deleted what it received.
func wantQueueEmpty(t *testing.T, c *sqs.Client, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Attributes["ApproximateNumberOfMessages"] != "0" || out.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("queue %s still holds messages: %v", url, out.Attributes)
	}
}

// TestPushQueueFromSNS covers a platform queue subscribed to a topic, with
// and without raw message delivery.
func TestPushQueueFromSNS(t *testing.T) {
	for _, raw := range []bool{true, false} {
		t.Run(map[bool]string{true: "raw", false: "envelope"}[raw], func(t *testing.T) {
			_, sqsc, snsc := newPushEnv(t)
			qURL, qARN := emu.CreateQueue(t, sqsc, emu.QueueName(t, "sns"))
			topic := emu.CreateTopic(t, snsc, emu.QueueName(t, "topic"))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			attrs := map[string]string{}
			if raw {
				attrs["RawMessageDelivery"] = "true"
			}
			if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String(qARN), Attributes: attrs}); err != nil {
				t.Fatal(err)
			}
			r := runFeed(t, push.Queue(sqsc, qURL, fastFeed(nil)), "app/db")
			r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
			at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			emu.PublishSecretEvent(t, snsc, topic, emu.SecretEvent{Name: "app/db", ARN: "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf", VersionID: "v7", Time: at})
			if e := r.next(t); e.Source != "app/db" || e.Version != "v7" || !e.At.Equal(at) {
				t.Fatalf("event = %+v, want app/db v7 at %v", e, at)
			}
			r.waitReport(t, "one handled", func(w config.WatchReport) bool { return w.Handled == 1 })
			wantQueueEmpty(t, sqsc, qURL)
		})
	}
}

// TestPushIgnoredAndMalformed sends an event for a secret not in use, an
// event for another label, another service's event and malformed bodies:
// each is deleted and counted, none is notified, and no body reaches the log.
func TestPushIgnoredAndMalformed(t *testing.T) {
	const canary = "CANARY-push-body-5e1c"
	_, sqsc, _ := newPushEnv(t)
	qURL, _ := emu.CreateQueue(t, sqsc, emu.QueueName(t, "mixed"))
	var log configtest.LogBuffer
	r := runFeed(t, push.Queue(sqsc, qURL, fastFeed(&log)), "app/db")
	r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })

	emu.SendMessage(t, sqsc, qURL, emu.SecretEvent{Name: "other/" + canary, VersionID: "v1"}.Envelope())
	emu.SendMessage(t, sqsc, qURL, emu.SecretEvent{Name: "app/db", Label: "AWSPENDING", VersionID: canary}.Envelope())
	emu.SendMessage(t, sqsc, qURL, `{"source":"aws.ec2","detail-type":"`+canary+`","detail":{}}`)
	emu.SendMessage(t, sqsc, qURL, "not json "+canary)
	emu.SendMessage(t, sqsc, qURL, `{"source":"aws.secretsmanager","detail-type":"Secret Label Updated","detail":{"versionId":"`+canary+`"}}`)
	w := r.waitReport(t, "3 ignored and 2 malformed", func(w config.WatchReport) bool { return w.Ignored+w.Malformed == 5 })
	if w.Ignored != 3 || w.Malformed != 2 || w.Handled != 0 {
		t.Fatalf("report = %+v, want 3 ignored, 2 malformed", w)
	}
	select {
	case e := <-r.events:
		t.Fatalf("notified %+v for a message it should not use", e)
	default:
	}
	wantQueueEmpty(t, sqsc, qURL)
	if strings.Contains(log.String(), canary) {
		t.Fatalf("the log shows a message body:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "malformed message deleted") {
		t.Fatalf("the log does not report the malformed messages:\n%s", log.String())
	}
}

func TestPushQueueMissing(t *testing.T) {
	_, sqsc, _ := newPushEnv(t)
	qURL, _ := emu.CreateQueue(t, sqsc, emu.QueueName(t, "gone"))
	emu.DeleteQueue(t, sqsc, qURL)
	r := runFeed(t, push.Queue(sqsc, qURL, fastFeed(nil)), "app/db")
	select {
	case <-r.done:
		err := r.err
		if !errors.Is(err, config.ErrNotFound) || !strings.Contains(err.Error(), qURL) {
			t.Fatalf("Run = %v, want ErrNotFound naming the queue", err)
		}
		var pe *push.Error
		if !errors.As(err, &pe) || pe.Op != "GetQueueAttributes" {
			t.Fatalf("Run = %#v, want a *push.Error of GetQueueAttributes", err)
		}
	case <-time.After(rfWait):
		t.Fatal("Run did not fail on a missing queue")
	}
	if w := r.last(); w.Connected || !errors.Is(w.Err, config.ErrNotFound) {
		t.Fatalf("report = %+v, want not connected with the error", w)
	}
}

// TestPushQueueDeletedMidRun deletes the queue during a long poll: the run
// ends with the error, reported; a run on the queue once it is back works.
func TestPushQueueDeletedMidRun(t *testing.T) {
	_, sqsc, _ := newPushEnv(t)
	name := emu.QueueName(t, "midrun")
	qURL, _ := emu.CreateQueue(t, sqsc, name)
	f := push.Queue(sqsc, qURL, &push.Options{WaitTime: time.Second, Timeout: 2 * time.Second})
	r := runFeed(t, f, "app/db")
	r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	emu.DeleteQueue(t, sqsc, qURL)
	select {
	case <-r.done:
		err := r.err
		if !errors.Is(err, config.ErrNotFound) {
			t.Fatalf("Run = %v, want ErrNotFound", err)
		}
	case <-time.After(rfWait):
		t.Fatal("Run did not end once its queue was deleted")
	}
	emu.CreateQueue(t, sqsc, name)
	r2 := runFeed(t, f, "app/db")
	r2.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	emu.SendMessage(t, sqsc, qURL, emu.SecretEvent{Name: "app/db", VersionID: "v2"}.Envelope())
	if e := r2.next(t); e.Version != "v2" {
		t.Fatalf("event = %+v", e)
	}
}

// TestPushSQSFaults throttles and fails ReceiveMessage through the fault
// proxy: a blip is retried by the SDK unseen; a lasting fault ends the run
// with a coded error, reported.
func TestPushSQSFaults(t *testing.T) {
	for _, tc := range []struct {
		fault faultproxy.Fault
		code  error
	}{
		{faultproxy.Throttle, config.ErrThrottled},
		{faultproxy.InternalError, config.ErrTransient},
		{faultproxy.Unavailable, config.ErrTransient},
		{faultproxy.AccessDenied, config.ErrAccessDenied},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			url, sqsc, _ := newPushEnv(t)
			p, err := faultproxy.New(url, faultproxy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Close() })
			via := emu.SQSClient(p.URL())
			qURL, _ := emu.CreateQueue(t, sqsc, emu.QueueName(t, "faults"))

			// A blip: the SDK's retry hides it.
			p.Add(faultproxy.Rule{Op: "ReceiveMessage", Fault: tc.fault, Times: 1})
			r := runFeed(t, push.Queue(via, qURL, fastFeed(nil)), "app/db")
			r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
			emu.SendMessage(t, sqsc, qURL, emu.SecretEvent{Name: "app/db", VersionID: "v2"}.Envelope())
			if tc.fault != faultproxy.AccessDenied {
				if e := r.next(t); e.Version != "v2" {
					t.Fatalf("event = %+v", e)
				}
			}

			// A lasting fault ends the run.
			p.Add(faultproxy.Rule{Op: "ReceiveMessage", Fault: tc.fault})
			select {
			case <-r.done:
				err := r.err
				if !errors.Is(err, tc.code) || !strings.Contains(err.Error(), "ReceiveMessage") {
					t.Fatalf("Run = %v, want %v naming ReceiveMessage", err, tc.code)
				}
			case <-time.After(2 * rfWait):
				t.Fatal("Run did not end under a lasting fault")
			}
			if w := r.last(); w.Connected || !errors.Is(w.Err, tc.code) {
				t.Fatalf("report = %+v, want disconnected with %v", w, tc.code)
			}
		})
	}
}

// TestPushCloseDuringLongPoll ends the ctx of a run in the middle of a 20 s
// long poll: Run returns at once. The package's TestMain checks that no
// goroutine is left.
func TestPushCloseDuringLongPoll(t *testing.T) {
	url, sqsc, _ := newPushEnv(t)
	p, err := faultproxy.New(url, faultproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	qURL, _ := emu.CreateQueue(t, sqsc, emu.QueueName(t, "close"))
	r := runFeed(t, push.Queue(emu.SQSClient(p.URL()), qURL, nil), "app/db") // 20 s polls
	r.waitReport(t, "Connected", func(w config.WatchReport) bool { return w.Connected })
	if err := p.WaitCalls(t.Context(), "ReceiveMessage", 1); err != nil { // the poll is on its way
		t.Fatal(err)
	}
	start := time.Now()
	r.cancel()
	select {
	case <-r.done:
		err := r.err
		if err != nil {
			t.Fatalf("Run = %v, want nil once its ctx ended", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not return within 1 s of its ctx ending")
	}
	t.Logf("Run returned %v after its ctx ended", time.Since(start))
}
