package configcheck

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/strata-go/strata/config"
)

// wiring is what infra prints the resources of.
type wiring struct {
	mode     string           // config.PushQueue or config.PushFanout
	queue    string           // the queue's name (queue mode)
	topic    string           // the topic's name (fanout)
	patterns []map[string]any // one rule each
}

// awsName matches the names SQS and SNS accept: letters, digits, - and _,
// 1 to 80 characters (a FIFO queue's .fifo suffix aside, which push does not
// use).
var awsName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func infraCommand() *command {
	var (
		environment string
		push        *choice
		format      *choice
		queue       string
		topic       string
	)
	return &command{
		name:    "infra",
		summary: "print the EventBridge rule and the topic and queue wiring of push refresh",
		details: `
Prints what push refresh needs in the AWS account, for the layers of the
service's setup that can learn of changes from EventBridge events (see
configcheck.EventPatterner; for Secrets Manager, the Secret Label Updated
event of each secret in use): the rule's event pattern, and the resources as
a CloudFormation template and as Terraform. --push chooses the wiring:
"queue" is one SQS queue that the rule targets, for a replica the platform
gives its own queue (a rule takes at most 5 targets); "fanout" is an SNS
topic that the rule targets, to which each replica subscribes a queue it
creates at start and deletes on Close (the replicas create their queues, so
they are not in the template). --format pattern, cloudformation or terraform
prints one part alone. No layer is read.`,
		flags: func(r *runner, fs *flag.FlagSet) {
			r.environmentFlag(fs, &environment)
			push = &choice{allowed: []string{config.PushFanout, config.PushQueue}, value: config.PushFanout}
			fs.Var(push, "push", "the wiring: fanout (a topic, a queue per replica made by the replica) or queue (one queue)")
			fs.StringVar(&queue, "queue", "strata-secret-changes", "the queue's `name` (--push queue)")
			fs.StringVar(&topic, "topic", "strata-secret-changes", "the topic's `name` (--push fanout)")
			format = formatFlag(fs, "text", "pattern", "cloudformation", "terraform")
		},
		run: func(r *runner, ctx context.Context, _ []string) int {
			for flagName, v := range map[string]string{"--queue": queue, "--topic": topic} {
				if !awsName.MatchString(v) {
					return r.fail(usageError{fmt.Errorf("%s %q: expected 1 to 80 letters, digits, - or _", flagName, v)})
				}
			}
			_, layers, err := r.setup(ctx, environment)
			if err != nil {
				return r.fail(err)
			}
			w := wiring{mode: push.value, queue: queue, topic: topic}
			for _, l := range layers {
				if ep, ok := l.(EventPatterner); ok {
					if p := ep.EventPattern(); p != nil {
						w.patterns = append(w.patterns, p)
					}
				}
			}
			if len(w.patterns) == 0 {
				return r.fail(usageError{errors.New("no layer of the service learns of changes from events (none is a configcheck.EventPatterner with a pattern)")})
			}
			if err := writeInfra(r.stdout, w, format.value); err != nil {
				return r.fail(err)
			}
			for _, p := range w.patterns {
				if n := patternSize(p); n > maxPatternSize {
					fmt.Fprintf(r.stderr, "warning: the event pattern is %d characters, over EventBridge's default quota of %d (adjustable up to %d): read the secrets under a name prefix, or ask for a quota increase\n",
						n, maxPatternSize, maxPatternQuota)
				}
			}
			return ExitOK
		},
	}
}

// writeInfra prints the parts of w that format asks for.
func writeInfra(out io.Writer, w wiring, format string) error {
	var b strings.Builder
	switch format {
	case "pattern":
		for _, p := range w.patterns {
			b.WriteString(patternJSON(p, ""))
			b.WriteByte('\n')
		}
	case "cloudformation":
		writeCloudFormation(&b, w)
	case "terraform":
		writeTerraform(&b, w)
	default:
		b.WriteString("# EventBridge event pattern (default bus)\n")
		for _, p := range w.patterns {
			b.WriteString(patternJSON(p, ""))
			b.WriteByte('\n')
		}
		b.WriteString("\n# CloudFormation\n")
		writeCloudFormation(&b, w)
		b.WriteString("\n# Terraform\n")
		writeTerraform(&b, w)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// EventBridge's quota on the size of an event pattern: 2,048 characters by
// default, adjustable up to 4,096.
const (
	maxPatternSize  = 2048
	maxPatternQuota = 4096
)

// patternSize is the size of a pattern as EventBridge counts it: its JSON
// text without spaces.
func patternSize(p map[string]any) int {
	data, err := json.Marshal(p)
	if err != nil {
		return 0
	}
	return len(data)
}

// patternJSON renders a pattern as indented JSON, each line after the first
// starting with indent.
func patternJSON(p map[string]any, indent string) string {
	data, err := json.MarshalIndent(p, indent, "  ")
	if err != nil {
		return "{}" // a pattern is built of maps, slices and strings
	}
	return string(data)
}

// ruleName is the logical name of the i-th rule.
func ruleName(i int) string {
	if i == 0 {
		return "SecretChangesRule"
	}
	return fmt.Sprintf("SecretChangesRule%d", i+1)
}

func writeCloudFormation(b *strings.Builder, w wiring) {
	b.WriteString("AWSTemplateFormatVersion: \"2010-09-09\"\nDescription: Push refresh of secrets (Secret Label Updated events)\nResources:\n")
	target, targetArn := "SecretChangesQueue", "!GetAtt SecretChangesQueue.Arn"
	if w.mode == config.PushFanout {
		target, targetArn = "SecretChangesTopic", "!Ref SecretChangesTopic"
	}
	for i, p := range w.patterns {
		fmt.Fprintf(b, "  %s:\n    Type: AWS::Events::Rule\n    Properties:\n      EventBusName: default\n      EventPattern: %s\n      Targets:\n        - Id: %s\n          Arn: %s\n",
			ruleName(i), patternJSON(p, "        "), target, targetArn)
	}
	var sources []string
	for i := range w.patterns {
		sources = append(sources, fmt.Sprintf("!GetAtt %s.Arn", ruleName(i)))
	}
	sourceArns := "[" + strings.Join(sources, ", ") + "]"
	if w.mode == config.PushQueue {
		fmt.Fprintf(b, `  SecretChangesQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: %s
      ReceiveMessageWaitTimeSeconds: 20
      MessageRetentionPeriod: 3600
  SecretChangesQueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref SecretChangesQueue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt SecretChangesQueue.Arn
            Condition: {ArnEquals: {"aws:SourceArn": %s}}
`, w.queue, sourceArns)
		return
	}
	fmt.Fprintf(b, `  SecretChangesTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: %s
  SecretChangesTopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref SecretChangesTopic]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: sns:Publish
            Resource: !Ref SecretChangesTopic
            Condition: {ArnEquals: {"aws:SourceArn": %s}}
# Each replica creates its own queue at start (a unique name under its prefix,
# a queue policy allowing this topic, a subscription with raw message
# delivery) and deletes it on Close; crashed replicas' queues are swept by
# their heartbeat tag. The replicas' role needs the statements of
# "configcheck iam --push fanout".
`, w.topic, sourceArns)
}

func writeTerraform(b *strings.Builder, w wiring) {
	target := "aws_sqs_queue.secret_changes.arn"
	if w.mode == config.PushFanout {
		target = "aws_sns_topic.secret_changes.arn"
	}
	var rules []string
	for i, p := range w.patterns {
		name := "secret_changes"
		if i > 0 {
			name = fmt.Sprintf("secret_changes_%d", i+1)
		}
		rules = append(rules, "aws_cloudwatch_event_rule."+name+".arn")
		fmt.Fprintf(b, `resource "aws_cloudwatch_event_rule" %q {
  name           = %q
  event_bus_name = "default"
  event_pattern  = <<-PATTERN
    %s
  PATTERN
}

resource "aws_cloudwatch_event_target" %q {
  rule = aws_cloudwatch_event_rule.%s.name
  arn  = %s
}

`, name, strings.ReplaceAll(name, "_", "-"), patternJSON(p, "    "), name, name, target)
	}
	sources := "[" + strings.Join(rules, ", ") + "]"
	if w.mode == config.PushQueue {
		fmt.Fprintf(b, `resource "aws_sqs_queue" "secret_changes" {
  name                       = %q
  receive_wait_time_seconds  = 20
  message_retention_seconds  = 3600
}

resource "aws_sqs_queue_policy" "secret_changes" {
  queue_url = aws_sqs_queue.secret_changes.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.secret_changes.arn
      Condition = { ArnEquals = { "aws:SourceArn" = %s } }
    }]
  })
}
`, w.queue, sources)
		return
	}
	fmt.Fprintf(b, `resource "aws_sns_topic" "secret_changes" {
  name = %q
}

resource "aws_sns_topic_policy" "secret_changes" {
  arn = aws_sns_topic.secret_changes.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.secret_changes.arn
      Condition = { ArnEquals = { "aws:SourceArn" = %s } }
    }]
  })
}
# Each replica creates its own queue at start (a unique name under its prefix,
# a queue policy allowing this topic, a subscription with raw message
# delivery) and deletes it on Close; crashed replicas' queues are swept by
# their heartbeat tag. The replicas' role needs the statements of
# "configcheck iam --push fanout".
`, w.topic, sources)
}
