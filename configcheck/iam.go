package configcheck

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// policyDoc is an IAM policy document.
type policyDoc struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// arnSuffix matches the six random characters Secrets Manager appends to a
// secret's name in its ARN.
var arnSuffix = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)

// partition returns the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// secretARN returns the resource pattern of a secret named by id: the ARN as
// given when id is a complete ARN; otherwise the ARN of the name (or of the
// partial ARN) with "-??????" for the random suffix, so the policy matches
// this secret and not one whose name merely starts the same way.
func secretARN(id, region, account string) string {
	if strings.HasPrefix(id, "arn:") {
		if arnSuffix.MatchString(id) {
			return id
		}
		return id + "-??????"
	}
	return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-??????", partition(region), region, account, id)
}

// buildPolicy returns the least-privilege policy for reading sources, and
// notes to print beside it. kmsKeys are customer managed KMS keys that
// encrypt the secrets.
func buildPolicy(sources []secretSource, region, account string, kmsKeys []string) (policyDoc, []string) {
	var read, list []string
	hasPrefix, batch := false, false
	for _, s := range sources {
		if s.kind == "prefix" {
			hasPrefix = true
			p := strings.TrimSuffix(s.id, "/")
			// The prefix itself may name a JSON secret mounted at the root.
			read = append(read, secretARN(p, region, account),
				fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s/*", partition(region), region, account, p))
			list = append(list, p)
			if !s.pinned() {
				batch = true
			}
			continue
		}
		read = append(read, secretARN(s.id, region, account))
		if !s.pinned() {
			batch = true
		}
	}
	slices.Sort(read)
	read = slices.Compact(read)

	doc := policyDoc{Version: "2012-10-17"}
	doc.Statement = append(doc.Statement, statement{
		Sid:    "ReadConfiguredSecrets",
		Effect: "Allow",
		// GetSecretValue reads a value (also for each secret of a batch);
		// DescribeSecret is the refresh's cheap version check.
		Action:   []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"},
		Resource: read,
	})
	var notes []string
	if batch {
		// BatchGetSecretValue supports no resource-level permissions (the
		// Service Authorization Reference lists no resource type for it), so
		// its Resource must be "*". It grants nothing by itself: each secret
		// in a batch still needs GetSecretValue on that secret, which the
		// statement above limits to the configured secrets.
		doc.Statement = append(doc.Statement, statement{
			Sid:      "BatchReadAtStartUp",
			Effect:   "Allow",
			Action:   []string{"secretsmanager:BatchGetSecretValue"},
			Resource: []string{"*"},
		})
		notes = append(notes, `BatchGetSecretValue does not support resource-level permissions, so its Resource is "*"; each secret in a batch still needs GetSecretValue on it, which the first statement limits to the configured secrets`)
	}
	if hasPrefix {
		// ListSecrets supports no resource-level permissions either.
		doc.Statement = append(doc.Statement, statement{
			Sid:      "DiscoverSecretsUnderPrefix",
			Effect:   "Allow",
			Action:   []string{"secretsmanager:ListSecrets"},
			Resource: []string{"*"},
		})
		notes = append(notes, fmt.Sprintf(`ListSecrets, needed to discover secrets under %s, does not support resource-level permissions, so its Resource is "*"; it lists names and metadata, never values`,
			strings.Join(list, ", ")))
	}
	if len(kmsKeys) > 0 {
		doc.Statement = append(doc.Statement, statement{
			Sid:      "DecryptWithCustomerManagedKey",
			Effect:   "Allow",
			Action:   []string{"kms:Decrypt"},
			Resource: kmsKeys,
			Condition: map[string]any{
				"StringEquals": map[string]string{"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", region)},
			},
		})
		if region == "*" {
			notes = append(notes, "give --region so that the kms:ViaService condition names the Secrets Manager endpoint of your region")
		}
	} else {
		notes = append(notes, "secrets encrypted with the AWS managed key aws/secretsmanager need no KMS statement; for a customer managed key, give its ARN with --kms-key-arn to add kms:Decrypt (limited to use through Secrets Manager)")
	}
	if account == "*" {
		notes = append(notes, "give --account to name your AWS account instead of *")
	}
	return doc, notes
}

func iamCommand() *command {
	var (
		secrets     listFlag
		environment string
		region      string
		account     string
		kmsKeys     listFlag
	)
	return &command{
		name:    "iam",
		summary: "print the least-privilege IAM policy for the configured secret sources",
		details: `
Prints an IAM policy document (JSON, on standard output) that allows exactly
what the service's Secrets Manager layer does: GetSecretValue and
DescribeSecret on each configured secret, BatchGetSecretValue for the start-up
batch, ListSecrets when a prefix source exists, and kms:Decrypt on the
customer managed keys given with --kms-key-arn. Notes about the policy go to
standard error, so the output can be redirected to a file as it is.`,
		flags: func(r *runner, fs *flag.FlagSet) {
			fs.Var(&secrets, "secret", secretSpecHelp+r.defaultSources())
			fs.StringVar(&environment, "environment", r.opts.Environment, "the environment `name` whose secrets the service reads")
			fs.StringVar(&region, "region", "", "the AWS `region` of the secrets (default: AWS_REGION, else *)")
			fs.StringVar(&account, "account", "*", "the AWS `account` id that owns the secrets")
			fs.Var(&kmsKeys, "kms-key-arn", "the `ARN` of a customer managed KMS key that encrypts the secrets, repeatable")
		},
		run: func(r *runner, _ context.Context, _ []string) int {
			sources, err := r.secretSources(&secrets, environment)
			if err != nil {
				return r.fail(usageError{err})
			}
			if len(sources) == 0 {
				return r.fail(usageError{errors.New("no Secrets Manager source: give --secret")})
			}
			if region == "" {
				region = r.lookupEnv("AWS_REGION", "AWS_DEFAULT_REGION")
			}
			if region == "" {
				region = "*"
			}
			for _, k := range kmsKeys.values {
				if !strings.HasPrefix(k, "arn:") {
					return r.fail(usageError{fmt.Errorf("--kms-key-arn %q: expected a key ARN such as arn:aws:kms:eu-west-1:123456789012:key/...", k)})
				}
			}
			doc, notes := buildPolicy(sources, region, account, kmsKeys.values)
			enc := json.NewEncoder(r.stdout)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(doc); err != nil {
				return r.fail(err)
			}
			for _, n := range notes {
				fmt.Fprintf(r.stderr, "note: %s\n", n)
			}
			return ExitOK
		},
	}
}

// lookupEnv returns the value of the first of names set in the environment.
func (r *runner) lookupEnv(names ...string) string {
	env := r.opts.Environ()
	for _, name := range names {
		for _, kv := range env {
			if k, v, ok := strings.Cut(kv, "="); ok && k == name && v != "" {
				return v
			}
		}
	}
	return ""
}
