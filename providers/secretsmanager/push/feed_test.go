package push

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/strata-go/strata/config"
)

func TestRunRejectsUnusableFeeds(t *testing.T) {
	target := Target{Resolve: func(Change) []config.Event { return nil }, Notify: func(config.Event) {}}
	var nilSQS *sqs.Client
	var nilSNS *sns.Client
	c := sqs.New(sqs.Options{Region: "us-east-1"})
	for _, tc := range []struct {
		name string
		f    *Feed
		t    Target
		want string
	}{
		{"nil feed", nil, target, "nil Feed"},
		{"no target", Queue(c, "https://q", nil), Target{}, "Target"},
		{"nil client", Queue(nil, "https://q", nil), target, "no SQS client"},
		{"typed nil client", Queue(nilSQS, "https://q", nil), target, "no SQS client"},
		{"no queue URL", Queue(c, "", nil), target, "queue URL"},
		{"no SNS client", FanOut(c, nilSNS, "arn:aws:sns:us-east-1:1:t", "app-", nil), target, "no SNS client"},
		{"no topic", FanOut(c, sns.New(sns.Options{}), "", "app-", nil), target, "topic"},
		{"bad prefix", FanOut(c, sns.New(sns.Options{}), "arn:aws:sns:us-east-1:1:t", "app/prod", nil), target, `"app/prod"`},
		{"empty prefix", FanOut(c, sns.New(sns.Options{}), "arn:aws:sns:us-east-1:1:t", "", nil), target, "prefix"},
		{"long prefix", FanOut(c, sns.New(sns.Options{}), "arn:aws:sns:us-east-1:1:t", strings.Repeat("a", 61), nil), target, "prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Run(context.Background(), tc.t)
			if !errors.Is(err, ErrFeed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v; want ErrFeed mentioning %s", err, tc.want)
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := optionsOf(&Options{WaitTime: 90 * 1e9})
	if o.WaitTime != DefaultWaitTime || o.Timeout != DefaultTimeout || o.Heartbeat != DefaultHeartbeat || o.SweepLimit != DefaultSweepLimit || o.Logger == nil {
		t.Fatalf("defaults = %+v", o)
	}
	if o := optionsOf(&Options{WaitTime: 1}); o.WaitTime != 1e9 {
		t.Fatalf("a wait below 1 s became %v; want 1 s", o.WaitTime)
	}
}
