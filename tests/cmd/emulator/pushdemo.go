package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	smapi "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
)

// pushDemoWait bounds each wait of push-demo.
const pushDemoWait = 15 * time.Second

// pushDemoConfig is what the demo's stores read.
type pushDemoConfig struct {
	API struct {
		Key config.Secret
	}
}

func pushDemoCommand(ctx context.Context, args []string, e *env) int {
	cf := newClientFlags("push-demo", e)
	poll := cf.fs.Duration("poll", 3*time.Second, "the refresh interval of the store without push")
	if err := cf.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch {
	case cf.fs.NArg() > 0:
		e.errorf("push-demo: unexpected arguments %q", cf.fs.Args())
		return exitUsage
	case cf.endpoint == "":
		e.errorf("push-demo: no emulator: give -endpoint URL or set STRATA_EMULATOR_URL")
		return exitUsage
	case *poll < 100*time.Millisecond || *poll > time.Minute:
		e.errorf("push-demo: -poll %s: expected 100ms to 1m", *poll)
		return exitUsage
	}
	if err := pushDemo(ctx, e, cf.endpoint, *poll); err != nil {
		e.errorf("push-demo: %v", err)
		return exitFail
	}
	return exitOK
}

// pushDemo rotates one secret twice: first with a store that learns of the
// rotation from an SQS queue, then with a store that polls. It prints
// versions and times, never a value.
func pushDemo(ctx context.Context, e *env, endpoint string, poll time.Duration) error {
	awsCfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("emulator", "emulator", "")}
	smc, sqsc := client(endpoint), sqs.NewFromConfig(awsCfg)
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	name := "strata-demo/push/api-key-" + tag
	if _, err := put(ctx, smc, name, "demo-key-"+tag+"-1"); err != nil {
		return err
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("strata-demo-push-" + tag)})
	if err != nil {
		return fmt.Errorf("CreateQueue: %w", err)
	}
	defer sqsc.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})

	fmt.Fprintf(e.stdout, "push on: a store reads %s and long-polls the SQS queue strata-demo-push-%s (it polls Secrets Manager only hourly while connected)\n", name, tag)
	feed := push.Queue(sqsc, aws.ToString(q.QueueUrl), nil)
	took, version, err := demoRotation(ctx, e, awsCfg, name, &secretsmanager.Options{Push: feed}, time.Hour, func(v string) error {
		// Secrets Manager sends the Secret Label Updated event itself, and
		// an EventBridge rule puts it on the queue; the emulator does
		// neither, so the demo sends the event as the rule would deliver it.
		_, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(secretEvent(name, v))})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "  rotated to version %s: picked up by push in %s\n", version, took.Round(time.Millisecond))

	fmt.Fprintf(e.stdout, "push off: another rotation of the same secret, with a store that polls every %s instead\n", poll)
	took, version, err = demoRotation(ctx, e, awsCfg, name, nil, poll, func(string) error { return nil })
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "  rotated to version %s: picked up by the next poll in %s\n", version, took.Round(time.Millisecond))
	fmt.Fprintln(e.stdout, "  (polling picks a rotation up half a refresh interval later on average: 2.5 minutes at the 5-minute default, 30 at an hour)")
	return nil
}

// demoRotation loads a store of the secret name with opts and interval,
// rotates the secret once the store is ready, calls announce with the new
// version, and returns how long the store took to serve it.
func demoRotation(ctx context.Context, e *env, awsCfg aws.Config, name string, opts *secretsmanager.Options, interval time.Duration, announce func(version string) error) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, pushDemoWait)
	defer cancel()
	layer := secretsmanager.New(awsCfg, opts, secretsmanager.String(name, "api.key", nil))
	store, err := config.Load[pushDemoConfig](ctx, &config.Options{
		RefreshInterval: interval, MinRefreshInterval: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	}, layer)
	if err != nil {
		return 0, "", err
	}
	defer store.Close()
	if opts != nil && opts.Push != nil {
		if err := waitConnected(ctx, store); err != nil {
			return 0, "", err
		}
	}
	changed := make(chan time.Time, 1)
	stop := store.Subscribe(func(c config.Change[pushDemoConfig]) {
		if c.Err == nil {
			select {
			case changed <- time.Now():
			default:
			}
		}
	})
	defer stop()
	start := time.Now()
	out, err := client(aws.ToString(awsCfg.BaseEndpoint)).PutSecretValue(ctx, &smapi.PutSecretValueInput{
		SecretId: aws.String(name), SecretString: aws.String("demo-key-" + strconv.FormatInt(start.UnixNano(), 36)),
	})
	if err != nil {
		return 0, "", fmt.Errorf("PutSecretValue: %w", err)
	}
	version := aws.ToString(out.VersionId)
	if err := announce(version); err != nil {
		return 0, "", fmt.Errorf("send the event: %w", err)
	}
	select {
	case at := <-changed:
		return at.Sub(start), version, nil
	case <-ctx.Done():
		return 0, "", fmt.Errorf("the rotation was not picked up within %s", pushDemoWait)
	}
}

// waitConnected waits until the store's watch reports it receives events.
func waitConnected(ctx context.Context, store *config.Store[pushDemoConfig]) error {
	tick := time.NewTicker(10 * time.Millisecond) // Status has no change notification
	defer tick.Stop()
	for {
		for _, l := range store.Status().Layers {
			if l.Watch != nil && l.Watch.Connected {
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("the store's watch did not connect within %s", pushDemoWait)
		}
	}
}

// secretEvent is the Secret Label Updated event of a new AWSCURRENT version,
// as an EventBridge rule delivers it to an SQS target.
func secretEvent(name, version string) string {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": strconv.FormatInt(time.Now().UnixNano(), 36), "detail-type": "Secret Label Updated",
		"source": "aws.secretsmanager", "account": "000000000000", "time": time.Now().UTC().Format(time.RFC3339Nano),
		"region": "us-east-1", "resources": []string{},
		"detail": map[string]string{"name": name, "labelUpdated": "AWSCURRENT", "versionId": version},
	})
	return string(b)
}
