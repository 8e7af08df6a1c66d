package secretsmanager

import (
	"slices"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager/push"
)

// A reader with a push feed asks for the feed's SQS and SNS actions on its
// queues and topic, and its cost model counts the long polls, without being
// told the wiring; a scope's wiring overrides the feed's.
func TestPushPermissionsAndCostFollowTheFeed(t *testing.T) {
	t.Parallel()
	fan := push.FanOut(nil, nil, "arn:aws:sns:eu-west-1:123456789012:orders-changes", "orders-", nil)
	queue := push.Queue(nil, "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-q", nil)
	for _, tc := range []struct {
		name  string
		feed  *push.Feed
		scope config.PushWiring
		want  map[string]string // action -> resource
	}{
		{"fan-out feed", fan, config.PushWiring{}, map[string]string{
			"sqs:CreateQueue": "arn:aws:sqs:eu-west-1:123456789012:orders-*", "sqs:ListQueues": "*",
			"sns:Subscribe": "arn:aws:sns:eu-west-1:123456789012:orders-changes"}},
		{"queue feed", queue, config.PushWiring{}, map[string]string{
			"sqs:ReceiveMessage": "arn:aws:sqs:eu-west-1:123456789012:orders-q"}},
		{"scope over feed", fan, config.PushWiring{Mode: config.PushQueue, Queue: "other"}, map[string]string{
			"sqs:ReceiveMessage": "arn:aws:sqs:eu-west-1:123456789012:other"}},
		{"no feed, no scope", nil, config.PushWiring{}, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := NewWithClient(newFake(), &Options{Push: tc.feed}, String("app/a", "a", nil))
			l.region = "eu-west-1"
			got := map[string]string{}
			sqsActions := 0
			for _, p := range l.Permissions(config.PermissionScope{Account: "123456789012", Push: tc.scope}) {
				for _, a := range p.Actions {
					got[a] = p.Resources[0]
					if a[:4] == "sqs:" || a[:4] == "sns:" {
						sqsActions++
					}
				}
			}
			for a, r := range tc.want {
				if got[a] != r {
					t.Errorf("%s on %q, want on %q", a, got[a], r)
				}
			}
			if len(tc.want) == 0 && sqsActions > 0 {
				t.Errorf("%d SQS or SNS actions without push", sqsActions)
			}
			ops := []string{}
			for _, c := range l.CostModel(config.CostScope{Replicas: 10, Push: tc.scope}).Calls {
				ops = append(ops, c.Operation)
			}
			if slices.Contains(ops, "ReceiveMessage") != (len(tc.want) > 0) {
				t.Errorf("cost model operations %v", ops)
			}
		})
	}
}

// The event pattern names the secrets the reader follows, by name, and the
// prefixes, for the stages that send events.
func TestEventPattern(t *testing.T) {
	t.Parallel()
	l := NewWithClient(newFake(), nil,
		String("arn:aws:secretsmanager:eu-west-1:1:secret:app/a-AbCdEf", "a", nil),
		JSON("app/b", "b", nil), JSON("app/b", "old", &SpecOptions{Stage: StagePrevious}),
		JSON("app/c", "c", &SpecOptions{VersionID: "v1"}), Prefix("app/flags/", nil))
	p := l.EventPattern()
	detail := p["detail"].(map[string]any)
	names := detail["name"].([]any)
	if len(names) != 3 || names[0] != "app/a" || names[1] != "app/b" || names[2].(map[string]any)["prefix"] != "app/flags/" {
		t.Errorf("names = %v", names)
	}
	if st := detail["labelUpdated"].([]string); !slices.Equal(st, []string{StageCurrent}) {
		t.Errorf("labelUpdated = %v", st)
	}
	if NewWithClient(newFake(), nil, JSON("app/c", "c", &SpecOptions{VersionID: "v1"})).EventPattern() != nil {
		t.Error("a reader of a pinned version alone has a pattern")
	}
}
