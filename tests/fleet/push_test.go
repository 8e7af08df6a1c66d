package fleet_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
	"github.com/strata-go/strata/tests/internal/emu"
)

// sqsRecorder is the feed's SQS client, counting requests by operation.
type sqsRecorder struct {
	push.SQSAPI
	mu    sync.Mutex
	calls map[string]int
}

func (r *sqsRecorder) count(op string) {
	r.mu.Lock()
	r.calls[op]++
	r.mu.Unlock()
}

func (r *sqsRecorder) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, o ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	r.count("ReceiveMessage")
	return r.SQSAPI.ReceiveMessage(ctx, in, o...)
}

func (r *sqsRecorder) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, o ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	r.count("DeleteMessageBatch")
	return r.SQSAPI.DeleteMessageBatch(ctx, in, o...)
}

func (r *sqsRecorder) GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, o ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	r.count("GetQueueAttributes")
	return r.SQSAPI.GetQueueAttributes(ctx, in, o...)
}

func (r *sqsRecorder) CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, o ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error) {
	r.count("CreateQueue")
	return r.SQSAPI.CreateQueue(ctx, in, o...)
}

func (r *sqsRecorder) SetQueueAttributes(ctx context.Context, in *sqs.SetQueueAttributesInput, o ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error) {
	r.count("SetQueueAttributes")
	return r.SQSAPI.SetQueueAttributes(ctx, in, o...)
}

func (r *sqsRecorder) DeleteQueue(ctx context.Context, in *sqs.DeleteQueueInput, o ...func(*sqs.Options)) (*sqs.DeleteQueueOutput, error) {
	r.count("DeleteQueue")
	return r.SQSAPI.DeleteQueue(ctx, in, o...)
}

func (r *sqsRecorder) TagQueue(ctx context.Context, in *sqs.TagQueueInput, o ...func(*sqs.Options)) (*sqs.TagQueueOutput, error) {
	r.count("TagQueue")
	return r.SQSAPI.TagQueue(ctx, in, o...)
}

func (r *sqsRecorder) ListQueues(ctx context.Context, in *sqs.ListQueuesInput, o ...func(*sqs.Options)) (*sqs.ListQueuesOutput, error) {
	r.count("ListQueues")
	return r.SQSAPI.ListQueues(ctx, in, o...)
}

func (r *sqsRecorder) ListQueueTags(ctx context.Context, in *sqs.ListQueueTagsInput, o ...func(*sqs.Options)) (*sqs.ListQueueTagsOutput, error) {
	r.count("ListQueueTags")
	return r.SQSAPI.ListQueueTags(ctx, in, o...)
}

func (r *sqsRecorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		n += c
	}
	return n
}

// pushWait bounds each wait of the push run for every store.
const pushWait = 30 * time.Second

// runPush simulates push with an hourly safety net gated by ListSecrets, on
// the real clock, as SQS long polls need: the stores share one fan-out feed,
// so each creates its own queue on one SNS topic at start. Each rotation is
// published to the topic in the shape EventBridge delivers (standing in for
// the Secret Label Updated event and the rule that targets the topic, which
// the emulator has not), and the run waits until every store serves it
// before the next. The safety net does not fire in the run (it is an hour);
// its cost is that of a listing-gated refresh, measured by the polling run
// with the same layer options (gated).
func runPush(t *testing.T, e *emulator, z size, gated result) result {
	t.Helper()
	wallStart := time.Now()
	s := setup{name: "push (fan-out) + safety net", ttl: time.Hour, gate: secretsmanager.ListGateAuto, push: true}
	snsc := emu.SNSClient(e.url)
	topic := emu.CreateTopic(t, snsc, emu.QueueName(t, "topic"))
	rq := &sqsRecorder{SQSAPI: emu.SQSClient(e.url), calls: map[string]int{}}
	feed := push.FanOut(rq, snsc, topic, emu.QueueName(t, "fleet")+"-", nil)
	rec := &recorder{Client: e.client, clock: nil}
	specs := make([]secretsmanager.Spec, z.secrets)
	for i := range z.secrets {
		specs[i] = secretsmanager.String(e.names[i], fmt.Sprintf("s%02d", i), nil)
	}
	layer := secretsmanager.NewWithClient(rec, &secretsmanager.Options{ListGate: secretsmanager.ListGateAuto, Push: feed, Timeout: time.Minute}, specs...)
	opts := config.Options{RefreshInterval: 5 * time.Minute, WatchInterval: time.Hour, Logger: slog.New(slog.DiscardHandler)}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stores := make([]*config.Store[fleetConfig], 0, z.stores)
	defer func() {
		for _, st := range stores {
			_ = st.Close()
		}
	}()
	rec.setStarting(true)
	for i := range z.stores {
		st, err := config.Load[fleetConfig](ctx, &opts, layer)
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		stores = append(stores, st)
	}
	// Each store reads everything once its watch connects: events may have
	// been missed before. That read belongs to the start.
	for i, st := range stores {
		waitFor(t, fmt.Sprintf("store %d connected and read", i), func() bool {
			ls := st.Status()
			for _, l := range ls.Layers {
				if l.Watch != nil {
					return l.Watch.Connected && ls.Refreshes >= 1 && !ls.LastSuccess.Before(ls.LastAttempt)
				}
			}
			return false
		})
	}
	rec.setStarting(false)
	sqsAtStart := rq.total()

	lags := make([][]time.Duration, z.rotations)
	var mu sync.Mutex
	var current struct {
		k, secret int
		value     string
		at        time.Time
		seen      []bool
	}
	for i, st := range stores {
		stop := st.Subscribe(func(c config.Change[fleetConfig]) {
			mu.Lock()
			defer mu.Unlock()
			if current.value == "" || current.seen[i] || reflect.ValueOf(*c.New).Field(current.secret).String() != current.value {
				return
			}
			current.seen[i] = true
			lags[current.k] = append(lags[current.k], time.Since(current.at))
		})
		defer stop()
	}
	for k := range z.rotations {
		secret := k % z.secrets
		name := e.names[secret]
		e.version[name]++
		v := value(name, e.version[name])
		mu.Lock()
		current.k, current.secret, current.value, current.seen = k, secret, v, make([]bool, z.stores)
		current.at = time.Now()
		mu.Unlock()
		id := emu.Rotate(t, e.client, name, v)
		emu.PublishSecretEvent(t, snsc, topic, emu.SecretEvent{Name: name, VersionID: id})
		waitFor(t, fmt.Sprintf("rotation %d picked up by every store", k), func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(lags[k]) == z.stores
		})
	}
	res := summarizePush(rec.calls, s, z, gated)
	for _, l := range lags {
		res.lags = append(res.lags, l...)
	}
	res.lags = sortedCopy(res.lags)
	res.lagP50, res.lagP99, res.lagMax = quantile(res.lags, 0.50), quantile(res.lags, 0.99), quantile(res.lags, 1)
	for _, st := range stores {
		res.refreshes += st.Status().Refreshes
	}
	res.sqsRequests = rq.total()
	res.sqsStart = float64(sqsAtStart) / float64(z.stores)
	res.sqsPerChange = float64(rq.total()-sqsAtStart) / float64(z.stores*z.rotations)
	res.wall = time.Since(wallStart)
	res.simulated = res.wall
	return res
}

// summarizePush derives a push run's result: calls at start (loads and the
// read each connection causes), calls per rotation picked up (the reads
// events cause), and the safety net's quiet refresh from gated.
func summarizePush(calls []call, s setup, z size, gated result) result {
	res := result{setup: s, size: z, starts: map[string]float64{}, perRefresh: gated.perRefresh,
		perChange: map[string]float64{}, calls: map[string]int{}}
	perSecond := map[int64]int{}
	for _, c := range calls {
		res.calls[c.op]++
		perSecond[c.at.Unix()]++
		if c.start {
			res.starts[c.op] += 1 / float64(z.stores)
		} else {
			res.perChange[c.op] += 1 / float64(z.stores*z.rotations)
		}
	}
	for _, n := range perSecond {
		res.peakPerSec = max(res.peakPerSec, n)
	}
	return res
}

// waitFor waits until ok holds, polling: Status and the subscribers' records
// have no change notification to wait on.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(pushWait)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, pushWait)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
