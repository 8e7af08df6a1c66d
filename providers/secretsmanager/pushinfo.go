package secretsmanager

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/secretsmanager/push"
)

// This file describes push refresh to tools that check a configuration
// before a deploy: the EventBridge event pattern of the secrets in use, the
// SQS and SNS actions each way of wiring a fleet needs, and the calls it
// makes. None of it calls AWS.

// eventSource and eventDetailType are those of the event Secrets Manager
// sends to the EventBridge default bus when a staging label moves (every
// label but AWSPENDING and AWSPREVIOUS).
const (
	eventSource     = "aws.secretsmanager"
	eventDetailType = "Secret Label Updated"
)

// Defaults of the wiring names, when a config.PushWiring leaves them empty.
const (
	defaultPushQueue       = "strata-secret-changes"
	defaultPushQueuePrefix = "strata-"
	defaultPushTopic       = "strata-secret-changes"
)

// SQS and SNS prices, per 10,000 requests (standard queues, after the free
// tier): $0.40 and $0.50 per million.
const (
	sqsPricePer10k = 0.004
	snsPricePer10k = 0.005
	costMonth      = 30 * 24 * time.Hour
)

// EventPattern returns the EventBridge event pattern that matches the
// Secret Label Updated events of the secrets the reader follows: the names of
// the secrets read by id (an ARN's name without its random suffix) and a
// name prefix per prefix source, for the stages they follow. Sources pinned to
// a VersionId never change, and AWSPREVIOUS and AWSPENDING send no event, so
// they are left out; nil when nothing is left.
func (l *Reader) EventPattern() map[string]any {
	var names []any
	var stages []string
	for _, s := range l.sources {
		stage := s.Stage()
		if s.VersionID() != "" || stage == StagePrevious || stage == StagePending {
			continue
		}
		if stage == "" {
			stage = StageCurrent
		}
		if !slices.Contains(stages, stage) {
			stages = append(stages, stage)
		}
		if s.Kind() == "prefix" {
			names = append(names, map[string]any{"prefix": strings.TrimSuffix(s.ID(), "/") + "/"})
			continue
		}
		if n := filterName(s.ID()); !slices.Contains(names, any(n)) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(stages)
	return map[string]any{
		"source":      []string{eventSource},
		"detail-type": []string{eventDetailType},
		"detail":      map[string]any{"name": names, "labelUpdated": stages},
	}
}

// pushWiring returns the wiring to describe: w, or the reader's own feed
// (Options.Push) when w names no mode, with default names for those left
// empty.
func (l *Reader) pushWiring(w config.PushWiring) config.PushWiring {
	if w.Mode == config.PushNone && l.opts.Push != nil {
		f := l.opts.Push
		switch f.Mode() {
		case push.ModeQueue:
			w.Mode = config.PushQueue
			if w.Queue == "" {
				w.Queue = f.QueueURL()[strings.LastIndexByte(f.QueueURL(), '/')+1:]
			}
		case push.ModeFanOut:
			w.Mode = config.PushFanout
			if w.Queue == "" {
				w.Queue = f.Prefix()
			}
			if w.Topic == "" {
				w.Topic = f.TopicARN()[strings.LastIndexByte(f.TopicARN(), ':')+1:]
			}
		}
	}
	if w.Queue == "" {
		w.Queue = defaultPushQueue
		if w.Mode == config.PushFanout {
			w.Queue = defaultPushQueuePrefix
		}
	}
	if w.Topic == "" {
		w.Topic = defaultPushTopic
	}
	return w
}

// pushPermissions returns the statements push needs in the wiring of scope
// (or of the reader's feed), with the actions of push.Actions: none without
// push.
func (l *Reader) pushPermissions(scope config.PermissionScope, region, account string) []config.Permission {
	w := l.pushWiring(scope.Push)
	arn := func(service, name string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", partition(region), service, region, account, name)
	}
	switch w.Mode {
	case config.PushQueue:
		return []config.Permission{{
			Sid: "ReceiveSecretChanges", Actions: push.Actions(push.ModeQueue), Resources: []string{arn("sqs", w.Queue)},
			Notes: []string{"the queue is the platform's: the replica reads and deletes its messages only"},
		}}
	case config.PushFanout:
		var queues, topic []string
		for _, a := range push.Actions(push.ModeFanOut) {
			switch {
			case a == "sqs:ListQueues":
			case strings.HasPrefix(a, "sns:"):
				topic = append(topic, a)
			default:
				queues = append(queues, a)
			}
		}
		return []config.Permission{
			{Sid: "OwnReplicaQueues", Actions: queues, Resources: []string{arn("sqs", w.Queue+"*")},
				Notes: []string{fmt.Sprintf("each replica creates, tags, reads and deletes a queue named %s<unique>, and sweeps those of crashed replicas", w.Queue)}},
			{Sid: "FindReplicaQueues", Actions: []string{"sqs:ListQueues"}, Resources: []string{"*"},
				Notes: []string{`sqs:ListQueues supports no resource-level permission, so its Resource is "*"; the sweep lists only the queues under the prefix and returns names, never messages`}},
			{Sid: "SubscribeToSecretChanges", Actions: topic, Resources: []string{arn("sns", w.Topic)}},
		}
	}
	return nil
}

// pushCalls returns the SQS and SNS calls of one replica in the wiring of
// scope (or of the reader's feed): none without push. An idle replica
// long-polls once every 20 seconds (push.DefaultWaitTime); a change costs each
// replica the poll that brought it (a new one follows at once) and one
// DeleteMessageBatch. A fan-out replica also creates, allows, subscribes and
// deletes its queue once per start, renews its heartbeat tag every 5 minutes
// (push.DefaultHeartbeat), and sweeps at start: one ListQueues page and
// ListQueueTags on up to 20 other replicas' queues (push.DefaultSweepLimit).
func (l *Reader) pushCalls(scope config.CostScope) []config.APICall {
	w := l.pushWiring(scope.Push)
	if w.Mode != config.PushQueue && w.Mode != config.PushFanout {
		return nil
	}
	sqs := func(op string) config.APICall {
		return config.APICall{Service: "sqs", Operation: op, PricePer10k: sqsPricePer10k}
	}
	receive := sqs("ReceiveMessage")
	receive.PerMonth, receive.PerChange = float64(costMonth/push.DefaultWaitTime), 1
	receive.Note = "one long poll of 20 s at a time, all month"
	del := sqs("DeleteMessageBatch")
	del.PerChange = 1
	attrs := sqs("GetQueueAttributes")
	attrs.AtStart = 1
	calls := []config.APICall{receive, del, attrs}
	if w.Mode == config.PushQueue {
		return calls
	}
	others := float64(min(push.DefaultSweepLimit, max(0, scope.Replicas-1)))
	create, set, tag, drop := sqs("CreateQueue"), sqs("SetQueueAttributes"), sqs("TagQueue"), sqs("DeleteQueue")
	create.AtStart, set.AtStart, drop.AtStart = 1, 1, 1
	drop.Note = "on Close, and for queues of crashed replicas"
	tag.PerMonth = float64(costMonth / push.DefaultHeartbeat)
	tag.Note = "the heartbeat tag, renewed every 5 minutes"
	list := sqs("ListQueues")
	list.AtStart = 1
	list.Note = "the start-up sweep, one page"
	tags := sqs("ListQueueTags")
	tags.AtStart = others
	tags.Note = "the sweep reads the heartbeat of up to 20 other queues"
	sub := config.APICall{Service: "sns", Operation: "Subscribe", AtStart: 1, PricePer10k: snsPricePer10k}
	unsub := config.APICall{Service: "sns", Operation: "Unsubscribe", AtStart: 1, PricePer10k: snsPricePer10k, Note: "on Close"}
	return append(calls, create, set, tag, list, tags, drop, sub, unsub)
}

// costGate sets the per-refresh counts of describe and list for the way of
// checking in scope (or the reader's ListGate) and reports whether
// ListSecrets gates the refresh: then each listing page takes up to 10
// secrets named by id (ids of them), and a change costs a DescribeSecret that
// confirms it.
func (l *Reader) costGate(scope config.CostScope, describe, list *config.APICall, ids int) bool {
	gate := l.opts.ListGate.with(l.pushWiring(scope.Push).Mode != config.PushNone) == ListGateAuto
	switch scope.Check {
	case config.CheckEach:
		gate = false
	case config.CheckListed:
		gate = true
	}
	groups := (ids + maxFilterValues - 1) / maxFilterValues
	if !gate || groups >= ids {
		return false
	}
	describe.PerRefresh, describe.PerChange = 0, 1
	describe.Note = "only to confirm a change the listing shows"
	list.PerRefresh += float64(groups)
	list.Note = ""
	return true
}

// gatePermission is the statement Options.ListGate needs.
func gatePermission() config.Permission {
	return config.Permission{
		Sid: "CheckVersionsByListing", Actions: []string{opList.action()}, Resources: []string{"*"},
		Notes: []string{`ListSecrets, which Options.ListGate uses to check many secrets at once, does not support resource-level permissions, so its Resource is "*"; it lists names and metadata, never values; without it refreshes fall back to DescribeSecret`},
	}
}

// costConnectRead adds, with push, the read the store makes once the watch
// connects at start (events may have been missed before): a scheduled read,
// so gated like the others.
func (l *Reader) costConnectRead(scope config.CostScope, gated bool, describe, list *config.APICall, ids int) {
	if l.pushWiring(scope.Push).Mode == config.PushNone {
		return
	}
	if gated {
		list.AtStart += float64((ids + maxFilterValues - 1) / maxFilterValues)
		return
	}
	describe.AtStart += float64(ids)
}
