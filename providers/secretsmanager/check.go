package secretsmanager

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/strata-go/strata/config"
)

// This file describes the layer to tools that check a configuration before a
// deploy (the configcheck package) without reading any secret: the IAM policy
// it needs, the API calls it makes and where it reads each key. None of the
// methods calls AWS.

// Secrets Manager prices and request quotas (per account and Region), as
// published by AWS; see docs/configcheck.md.
const (
	pricePer10kCalls    = 0.05 // dollars per 10,000 API calls
	pricePerSecretMonth = 0.40 // dollars per secret per month
	quotaBatchGet       = 100  // BatchGetSecretValue requests per second
	quotaGet            = 10000
	quotaDescribe       = 40000
	quotaList           = 100
)

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

// policyRegion is the region in the layer's ARNs: the client's, or "*".
func (l *Reader) policyRegion() string {
	if l.region == "" {
		return "*"
	}
	return l.region
}

// listsToGate reports whether the reader's refreshes, with the push wiring w
// or its own feed, may check versions with ListSecrets: the gate is in effect
// and a listing can take the place of several DescribeSecret calls.
func (l *Reader) listsToGate(w config.PushWiring) bool {
	gate := l.opts.ListGate.with(l.pushWiring(w).Mode != config.PushNone)
	return gate == ListGateAuto && len(countSources(l.sources, 0).describeIDs) > 1
}

// Permissions returns the least-privilege IAM statements the layer needs:
// GetSecretValue and DescribeSecret on each configured secret,
// BatchGetSecretValue for the start-up batch, ListSecrets when a prefix
// source exists or the listing gate checks several secrets, and kms:Decrypt
// through Secrets Manager on the keys of scope.KeyIDs. ARNs name the region of the layer's client ("*" when it has
// none) and scope.Account ("*" when empty).
func (l *Reader) Permissions(scope config.PermissionScope) []config.Permission {
	region, account := l.policyRegion(), scope.Account
	if account == "" {
		account = "*"
	}
	var read, list []string
	hasPrefix, batch := false, false
	for _, s := range l.sources {
		pinned := s.Stage() != "" || s.VersionID() != ""
		batch = batch || !pinned
		if s.Kind() != "prefix" {
			read = append(read, secretARN(s.ID(), region, account))
			continue
		}
		hasPrefix = true
		p := strings.TrimSuffix(s.ID(), "/")
		// The prefix itself may name a JSON secret mounted at the root.
		read = append(read, secretARN(p, region, account),
			fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s/*", partition(region), region, account, p))
		list = append(list, p)
	}
	if len(read) == 0 {
		return nil
	}
	slices.Sort(read)
	read = slices.Compact(read)

	readPerm := config.Permission{
		Sid: "ReadConfiguredSecrets",
		// GetSecretValue reads a value (also for each secret of a batch);
		// DescribeSecret is the refresh's cheap version check.
		Actions:   []string{opDescribe.action(), opGet.action()},
		Resources: read,
	}
	if len(scope.KeyIDs) == 0 {
		readPerm.Notes = append(readPerm.Notes, "secrets encrypted with the AWS managed key aws/secretsmanager need no KMS statement; for a customer managed key, give its ARN (configcheck iam --kms-key-arn) to add kms:Decrypt, limited to use through Secrets Manager")
	}
	out := []config.Permission{readPerm}
	if batch {
		// BatchGetSecretValue supports no resource-level permissions (the
		// Service Authorization Reference lists no resource type for it).
		out = append(out, config.Permission{
			Sid: "BatchReadAtStartUp", Actions: []string{opBatchGet.action()}, Resources: []string{"*"},
			Notes: []string{`BatchGetSecretValue does not support resource-level permissions, so its Resource is "*"; each secret in a batch still needs GetSecretValue on it, which the first statement limits to the configured secrets`},
		})
	}
	if hasPrefix {
		out = append(out, config.Permission{
			Sid: "DiscoverSecretsUnderPrefix", Actions: []string{opList.action()}, Resources: []string{"*"},
			Notes: []string{fmt.Sprintf(`ListSecrets, needed to discover secrets under %s, does not support resource-level permissions, so its Resource is "*"; it lists names and metadata, never values`,
				strings.Join(list, ", "))},
		})
	} else if l.listsToGate(scope.Push) {
		out = append(out, gatePermission())
	}
	if len(scope.KeyIDs) > 0 {
		kms := config.Permission{
			Sid: "DecryptWithCustomerManagedKey", Actions: []string{"kms:Decrypt"}, Resources: slices.Clone(scope.KeyIDs),
			Condition: map[string]map[string]string{"StringEquals": {"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", region)}},
		}
		if region == "*" {
			kms.Notes = append(kms.Notes, "the AWS configuration names no region: set AWS_REGION so that the kms:ViaService condition names the Secrets Manager endpoint of your region")
		}
		out = append(out, kms)
	}
	return append(out, l.pushPermissions(scope, region, account)...)
}

// sourceCounts is what the cost model needs to know of the sources.
type sourceCounts struct {
	ids, describeIDs map[string]bool // secrets named by id (for billing), and those DescribeSecret is asked about
	batched          int             // secrets read by AWSCURRENT at start-up, in batches
	pinned           int             // secrets pinned to a stage or version, read one by one
	followed         int             // secrets whose changes are followed at each refresh
	listPages        int             // ListSecrets pages of every prefix
	prefixSecrets    int             // secrets assumed under the prefixes
}

// countSources counts the secrets of the sources, each once; perPrefix
// secrets are assumed under each prefix.
func countSources(sources []Spec, perPrefix int) sourceCounts {
	type secretRef struct{ id, stage, version string }
	refs := map[secretRef]bool{}
	n := sourceCounts{ids: map[string]bool{}, describeIDs: map[string]bool{}}
	for _, s := range sources {
		if s.Kind() == "prefix" {
			n.prefixSecrets += perPrefix
			n.listPages += max(1, (perPrefix+listPageSize-1)/listPageSize)
			if s.Stage() != "" {
				n.pinned += perPrefix
			} else {
				n.batched += perPrefix
			}
			n.followed += perPrefix
			continue
		}
		r := secretRef{s.ID(), s.Stage(), s.VersionID()}
		if refs[r] {
			continue
		}
		refs[r] = true
		n.ids[s.ID()] = true
		if s.Stage() != "" || s.VersionID() != "" {
			n.pinned++
		} else {
			n.batched++
		}
		if s.VersionID() == "" {
			n.describeIDs[s.ID()] = true
			n.followed++
		}
	}
	return n
}

// CostModel returns the layer's call pattern: at start-up, secrets read by
// AWSCURRENT go in BatchGetSecretValue calls of up to 20 (a lone one uses
// GetSecretValue) and pinned ones use GetSecretValue; each prefix costs a
// ListSecrets page per 100 secrets at start-up and at each refresh, and is
// assumed to hold scope.ItemsPerListing secrets; each refresh costs one
// DescribeSecret per secret read by id (none for a pinned VersionId); a
// rotation costs one GetSecretValue.
func (l *Reader) CostModel(scope config.CostScope) config.CostModel {
	n := countSources(l.sources, max(0, scope.ItemsPerListing))
	batchCalls, loneGets := 0, 0
	switch {
	case n.batched == 1:
		loneGets = 1
	case n.batched > 1:
		batchCalls = (n.batched + maxBatch - 1) / maxBatch
	}
	call := func(o op, quota float64) config.APICall {
		return config.APICall{Service: "secretsmanager", Operation: o.String(), PricePer10k: pricePer10kCalls, QuotaPerSecond: quota}
	}
	batch := call(opBatchGet, quotaBatchGet)
	batch.AtStart, batch.BatchSize = float64(batchCalls), maxBatch
	switch {
	case loneGets > 0:
		batch.Note = "a lone secret is read with GetSecretValue"
	case batchCalls == 0:
		batch.Note = "every secret is pinned to a version"
	}
	get := call(opGet, quotaGet)
	get.AtStart, get.PerChange = float64(n.pinned+loneGets), 1
	describe := call(opDescribe, quotaDescribe)
	describe.PerRefresh = float64(len(n.describeIDs))
	list := call(opList, quotaList)
	list.AtStart, list.PerRefresh = float64(n.listPages), float64(n.listPages)
	if n.listPages == 0 {
		list.Note = "no prefix source"
	}
	gated := l.costGate(scope, &describe, &list, len(n.describeIDs))
	l.costConnectRead(scope, gated, &describe, &list, len(n.describeIDs))
	calls := append([]config.APICall{batch, get, describe, list}, l.pushCalls(scope)...)
	m := config.CostModel{
		Calls:  calls,
		Stored: len(n.ids) + n.prefixSecrets, StoredUnit: "secret", PricePerStoredMonth: pricePerSecretMonth,
		Followed:  n.followed,
		PollCalls: float64(n.followed + n.pinned), PollOperation: OpGetSecretValue,
		Push: l.pushWiring(scope.Push).Mode,
	}
	if batchCalls > 0 {
		m.Notes = append(m.Notes, "BatchGetSecretValue is costed as one call; whether AWS bills it as one call or one per secret is not confirmed (CloudTrail logs one GetSecretValue event per secret)")
	}
	if n.prefixSecrets > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("each prefix source is assumed to hold %d secrets (configcheck cost --items-per-listing)", scope.ItemsPerListing))
	}
	if gated {
		m.Notes = append(m.Notes, "ListSecrets gates the refresh: one page per 10 secrets named by id, and a DescribeSecret only for a secret the listing shows changed; the listing may lag a rotation by up to five minutes")
	}
	m.Notes = append(m.Notes, "prices are $0.05 per 10,000 API calls and $0.40 per secret per month")
	if len(l.pushCalls(scope)) > 0 {
		m.Notes = append(m.Notes, "push: SQS at $0.40 and SNS at $0.50 per million requests; an idle replica long-polls once every 20 s; EventBridge delivers AWS service events to the default bus free of charge")
	}
	return m
}

// covers returns where the field key is read from under source s, such as
// "my-app/production/database#password", or "" when s does not set it.
func covers(s Spec, key string) string {
	switch s.Kind() {
	case "string":
		if key == s.Key() {
			return s.ID()
		}
	case "json", "binary":
		if key == s.Key() {
			return s.ID()
		}
		if s.Key() == "" {
			return s.ID() + "#" + key
		}
		if rel, ok := strings.CutPrefix(key, s.Key()+"."); ok {
			return s.ID() + "#" + rel
		}
	case "prefix":
		p := strings.TrimSuffix(s.ID(), "/") + "/"
		path := strings.ReplaceAll(key, ".", "/")
		section, leaf := "", path
		if i := strings.LastIndexByte(path, '/'); i >= 0 {
			section, leaf = path[:i], path[i+1:]
		}
		if section == "" {
			return p + path + " or " + strings.TrimSuffix(p, "/") + "#" + leaf
		}
		return p + path + " or " + p + section + "#" + leaf
	}
	return ""
}

// Locate returns where the layer would read the field key: the last source
// naming the field's secret wins, as in Load; a prefix, which may or may not
// hold a secret for the field, only when no other source names it. No secret
// is read.
func (l *Reader) Locate(_ *config.Schema, key string) (config.Source, bool) {
	named, listed := "", ""
	var stage string
	for _, s := range l.sources {
		w := covers(s, key)
		switch {
		case w == "":
		case s.Kind() == "prefix":
			listed = w
		default:
			named, stage = w, s.Stage()
		}
	}
	if named == "" {
		named, stage = listed, ""
	}
	if named == "" {
		return config.Source{}, false
	}
	return config.Source{Layer: LayerName, Location: named, Stage: stage}, true
}
