package configcheck

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-go/strata/config"
)

// policyDoc is an IAM policy document.
type policyDoc struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Action    []string                     `json:"Action"`
	Resource  []string                     `json:"Resource"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// buildPolicy merges the Permissions of every layer that is a Permissioner
// into one policy document, with the notes to print beside it. A statement
// equal to an earlier one is left out; a Sid already used gets a number.
func buildPolicy(layers []config.Layer, scope config.PermissionScope) (policyDoc, []string) {
	doc := policyDoc{Version: "2012-10-17"}
	var notes []string
	sids := map[string]bool{}
	for _, l := range layers {
		p, ok := l.(Permissioner)
		if !ok {
			continue
		}
		for _, perm := range p.Permissions(scope) {
			for _, n := range perm.Notes {
				if !slices.Contains(notes, n) {
					notes = append(notes, n)
				}
			}
			st := statement{Sid: perm.Sid, Effect: "Allow", Action: perm.Actions, Resource: perm.Resources, Condition: perm.Condition}
			if len(st.Action) == 0 || len(st.Resource) == 0 || slices.ContainsFunc(doc.Statement, st.sameGrant) {
				continue
			}
			st.Sid = uniqueSid(sids, st.Sid)
			doc.Statement = append(doc.Statement, st)
		}
	}
	return doc, notes
}

// sameGrant reports whether two statements allow the same.
func (s statement) sameGrant(o statement) bool {
	if !slices.Equal(s.Action, o.Action) || !slices.Equal(s.Resource, o.Resource) || len(s.Condition) != len(o.Condition) {
		return false
	}
	for k, v := range s.Condition {
		w, ok := o.Condition[k]
		if !ok || len(v) != len(w) {
			return false
		}
		for k2, v2 := range v {
			if w2, ok := w[k2]; !ok || w2 != v2 {
				return false
			}
		}
	}
	return true
}

// uniqueSid returns sid, or sid with the first number that makes it unique,
// and records it. IAM allows only letters and digits in a Sid.
func uniqueSid(used map[string]bool, sid string) string {
	if sid == "" {
		sid = "Statement"
	}
	name := sid
	for i := 2; used[name]; i++ {
		name = sid + strconv.Itoa(i)
	}
	used[name] = true
	return name
}

func iamCommand() *command {
	var (
		environment string
		account     string
		kmsKeys     listFlag
		push        *choice
		queue       string
		topic       string
	)
	return &command{
		name:    "iam",
		summary: "print the least-privilege IAM policy for the layers the service reads",
		details: `
Prints an IAM policy document (JSON, on standard output) that allows exactly
what the layers of the service's setup for --environment do, merged from
each layer that can say (see configcheck.Permissioner). For Secrets Manager:
GetSecretValue and DescribeSecret on each configured secret,
BatchGetSecretValue for the start-up batch, ListSecrets when a prefix source
exists, and kms:Decrypt on the customer managed keys given with
--kms-key-arn; with --push queue, sqs:ReceiveMessage, sqs:DeleteMessage and
sqs:GetQueueAttributes on the queue; with --push fanout, the SQS actions
that create, tag, read, sweep and delete each replica's queue (named under
the --queue prefix), sqs:ListQueues, and sns:Subscribe and sns:Unsubscribe
on the topic; the region is that of the service's AWS configuration
(AWS_REGION). Notes about the policy go to standard error, so the output can
be redirected to a file as it is. No layer is read.`,
		flags: func(r *runner, fs *flag.FlagSet) {
			r.environmentFlag(fs, &environment)
			fs.StringVar(&account, "account", "*", "the AWS `account` id that owns the resources")
			fs.Var(&kmsKeys, "kms-key-arn", "the `ARN` of a customer managed KMS key that encrypts the values, repeatable")
			push = &choice{allowed: []string{"none", config.PushQueue, config.PushFanout}, value: "none"}
			fs.Var(push, "push", "add what push refresh needs: none, queue (read a queue the platform provides) or\nfanout (create, subscribe, tag and delete a queue per replica)")
			fs.StringVar(&queue, "queue", "", "the queue's `name` (--push queue), or the prefix of the replicas' queue names (--push fanout)\n(default: the layer's)")
			fs.StringVar(&topic, "topic", "", "the topic's `name` (--push fanout) (default: the layer's)")
		},
		run: func(r *runner, ctx context.Context, _ []string) int {
			for _, k := range kmsKeys.values {
				if !strings.HasPrefix(k, "arn:") {
					return r.fail(usageError{fmt.Errorf("--kms-key-arn %q: expected a key ARN such as arn:aws:kms:eu-west-1:123456789012:key/...", k)})
				}
			}
			_, layers, err := r.setup(ctx, environment)
			if err != nil {
				return r.fail(err)
			}
			scope := config.PermissionScope{Account: account, KeyIDs: kmsKeys.values,
				Push: config.PushWiring{Queue: queue, Topic: topic}}
			if push.value != "none" {
				scope.Push.Mode = push.value
			}
			for flagName, v := range map[string]string{"--queue": queue, "--topic": topic} {
				if v != "" && !awsName.MatchString(v) {
					return r.fail(usageError{fmt.Errorf("%s %q: expected 1 to 80 letters, digits, - or _", flagName, v)})
				}
			}
			doc, notes := buildPolicy(layers, scope)
			if len(doc.Statement) == 0 {
				return r.fail(usageError{errors.New("no layer of the service needs IAM permissions (none is a configcheck.Permissioner)")})
			}
			enc := json.NewEncoder(r.stdout)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(doc); err != nil {
				return r.fail(err)
			}
			if account == "*" {
				notes = append(notes, "give --account to name your AWS account instead of *")
			}
			for _, n := range notes {
				fmt.Fprintf(r.stderr, "note: %s\n", n)
			}
			return ExitOK
		},
	}
}
