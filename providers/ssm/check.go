package ssm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/strata-go/strata/config"
)

// This file describes the layer to tools that check a configuration before a
// deploy (the configcheck package) without reading any parameter: the IAM
// policy it needs, the API calls it makes and where it reads each key. None
// of the methods calls AWS.

// Parameter Store prices and request quotas (per account and Region), as
// published by AWS (AWS Systems Manager pricing; the AWS General Reference,
// "AWS Systems Manager endpoints and quotas"); see docs/ssm.md.
const (
	// Standard parameters and standard throughput are free.
	priceStandardPer10k = 0.0
	// Higher throughput bills $0.05 per 10,000 API interactions.
	priceHigherPer10k = 0.05
	// Default throughput: 40 transactions a second, shared by GetParameter,
	// GetParameters and GetParametersByPath.
	quotaStandard = 40
	// Higher throughput: 3,000 a second shared by GetParameter and
	// GetParameters; 100 for GetParametersByPath.
	quotaHigherGet    = 3000
	quotaHigherByPath = 100
)

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

// parameterARN returns the ARN of a parameter or path: Parameter Store ARNs
// hold the name without its leading slash ("parameter/my-app/x"); a name
// without one ("my-param") is a parameter at the root.
func parameterARN(partition, region, account, name string) string {
	return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s", partition, region, account, strings.TrimPrefix(name, "/"))
}

// Permissions returns the least-privilege IAM statements the layer needs:
// ssm:GetParameters on each named parameter and on the parameters under each
// path (a refresh reads changed parameters by name), ssm:GetParametersByPath
// on each path, ssm:DescribeParameters (the refresh's version check, which
// supports no resource-level permission) and kms:Decrypt through Parameter
// Store on the keys of scope.KeyIDs. ARNs name the region of the layer's
// client ("*" when it has none) and scope.Account ("*" when empty).
func (l *Reader) Permissions(scope config.PermissionScope) []config.Permission {
	region, account := "*", scope.Account
	if l.region != "" {
		region = l.region
	}
	if account == "" {
		account = "*"
	}
	part := partition(region)
	var get, byPath []string
	for _, s := range l.sources {
		for _, n := range s.ParameterNames() {
			get = append(get, parameterARN(part, region, account, n))
		}
		if s.kind == kindPath {
			all := parameterARN(part, region, account, strings.TrimSuffix(s.root, "/")+"/*")
			if s.root == "/" {
				all = parameterARN(part, region, account, "*")
			}
			get = append(get, all)
			byPath = append(byPath, parameterARN(part, region, account, s.root), all)
		}
	}
	if len(get) == 0 {
		return nil
	}
	slices.Sort(get)
	get = slices.Compact(get)
	read := config.Permission{Sid: "ReadParameters", Actions: []string{opGet.action()}, Resources: get}
	if len(scope.KeyIDs) == 0 {
		read.Notes = append(read.Notes, "SecureStrings encrypted with the AWS managed key aws/ssm need no KMS statement; for a customer managed key, give its ARN (configcheck iam --kms-key-arn) to add kms:Decrypt, limited to use through Parameter Store")
	}
	out := []config.Permission{read}
	if len(byPath) > 0 {
		slices.Sort(byPath)
		out = append(out, config.Permission{Sid: "ReadParametersByPath", Actions: []string{opByPath.action()}, Resources: slices.Compact(byPath),
			Notes: []string{"GetParametersByPath is authorized on the path; each parameter it returns is granted by ssm:GetParameters above"}})
	}
	out = append(out, config.Permission{Sid: "CheckParameterVersions", Actions: []string{opDescribe.action()}, Resources: []string{"*"},
		Notes: []string{`DescribeParameters, the refresh's version check, does not support resource-level permissions, so its Resource is "*"; it returns names and metadata, never values`}})
	if len(scope.KeyIDs) > 0 {
		kms := config.Permission{
			Sid: "DecryptSecureStrings", Actions: []string{"kms:Decrypt"}, Resources: slices.Clone(scope.KeyIDs),
			Condition: map[string]map[string]string{"StringEquals": {"kms:ViaService": fmt.Sprintf("ssm.%s.amazonaws.com", region)}},
		}
		if region == "*" {
			kms.Notes = append(kms.Notes, "the AWS configuration names no region: set AWS_REGION so that the kms:ViaService condition names the Parameter Store endpoint of your region")
		}
		out = append(out, kms)
	}
	return out
}

// ceilDiv returns ceil(n/d) for n >= 0.
func ceilDiv(n, d int) int { return (n + d - 1) / d }

// CostModel returns the layer's call pattern: at start-up, one
// GetParametersByPath page per 10 parameters under each path (assumed to
// hold scope.ItemsPerListing) and one GetParameters call per 10 named
// parameters; at each refresh, one DescribeParameters page per 50
// parameters under each path and one call per 50 named parameters; a change
// of one parameter costs one GetParameters call. Prices and quotas follow
// Options.Throughput.
func (l *Reader) CostModel(scope config.CostScope) config.CostModel {
	perPath := max(0, scope.ItemsPerListing)
	named := len(l.named())
	paths := len(l.paths())
	higher := l.opts.Throughput == HigherThroughput
	price, quotaGet, quotaByPath := priceStandardPer10k, float64(quotaStandard), float64(quotaStandard)
	if higher {
		price, quotaGet, quotaByPath = priceHigherPer10k, quotaHigherGet, quotaHigherByPath
	}
	call := func(o op, quota float64) config.APICall {
		return config.APICall{Service: "ssm", Operation: o.String(), PricePer10k: price, QuotaPerSecond: quota}
	}
	get := call(opGet, quotaGet)
	get.AtStart, get.PerChange, get.BatchSize = float64(ceilDiv(named, maxNamesPerGet)), 1, maxNamesPerGet
	byPath := call(opByPath, quotaByPath)
	byPath.AtStart, byPath.BatchSize = float64(paths*max(1, ceilDiv(perPath, pageByPath))), pageByPath
	if paths == 0 {
		byPath.AtStart, byPath.Note = 0, "no Path spec"
	}
	describe := call(opDescribe, 0)
	describe.PerRefresh = float64(paths*max(1, ceilDiv(perPath, pageDescribe)) + ceilDiv(named, maxFilterValues))
	describe.BatchSize = pageDescribe
	describe.Note = "AWS publishes no separate quota figure for DescribeParameters"
	followed := named + paths*perPath
	m := config.CostModel{
		Calls: []config.APICall{get, byPath, describe},
		// Standard parameters are free to store: counted, at no price.
		Stored: followed, StoredUnit: "parameter",
		Followed:  followed,
		PollCalls: float64(ceilDiv(named, maxNamesPerGet) + paths*max(1, ceilDiv(perPath, pageByPath))), PollOperation: OpGetParameters,
	}
	if paths > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("each Path spec is assumed to hold %d parameters (configcheck cost --items-per-listing)", perPath))
	}
	if higher {
		m.Notes = append(m.Notes, "higher throughput: $0.05 per 10,000 API interactions; quotas 3,000 a second for GetParameter and GetParameters (shared), 100 for GetParametersByPath")
	} else {
		m.Notes = append(m.Notes, "standard throughput: API calls are free, and GetParameter, GetParameters and GetParametersByPath share a quota of 40 a second per account and Region; with higher throughput (Options.Throughput) calls cost $0.05 per 10,000")
	}
	m.Notes = append(m.Notes, "standard parameters are not billed; advanced parameters cost $0.05 each a month (not modelled), and each SecureString read calls KMS on your behalf ($0.03 per 10,000 requests for a customer managed key)")
	return m
}

// HoldsSecrets returns true: the layer is not sensitive as a whole, but its
// SecureString values are marked Sensitive, so configcheck env names it as
// the source of the secrets it locates.
func (l *Reader) HoldsSecrets() bool { return true }

// Locate returns where the layer would read the field key: the last spec
// that maps a parameter to it, as in Load; a Path only as the name a
// parameter would have under it. No parameter is read.
func (l *Reader) Locate(_ *config.Schema, key string) (config.Source, bool) {
	where := ""
	for _, s := range l.sources {
		switch s.kind {
		case kindParameter:
			if s.key == key {
				where = s.root
			}
		case kindNames:
			for _, n := range s.ParameterNames() {
				rel, _ := under(n, s.root)
				if k, _ := keyOf(nil, s.key, rel); k == key {
					where = n
				}
			}
		case kindPath:
			if n, ok := nameOf(s.root, s.key, key); ok && key != s.key {
				where = n
			}
		}
	}
	if where == "" {
		return config.Source{}, false
	}
	return config.Source{Layer: LayerName, Location: where}, true
}
