package configcheck

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Secrets Manager prices and request quotas (per account and Region), as
// published by AWS; see docs/configcheck.md.
const (
	pricePerCall         = 0.05 / 10000 // dollars per API call
	pricePerSecretMonth  = 0.40         // dollars per secret per month
	quotaBatchGet        = 100          // BatchGetSecretValue requests per second
	quotaGet             = 10000        // GetSecretValue requests per second
	quotaDescribe        = 40000        // DescribeSecret requests per second
	quotaList            = 100          // ListSecrets requests per second
	batchSize            = 20           // secrets per BatchGetSecretValue call
	listPageSize         = 100          // secrets per ListSecrets page
	month                = 30 * 24 * time.Hour
	naivePollInterval    = 30 * time.Second
	refreshJitterSpread  = 0.2 // a TTL jittered by ±10 % spreads refreshes over a fifth of it
	opBatchGetSecretVal  = "BatchGetSecretValue"
	opGetSecretValue     = "GetSecretValue"
	opDescribeSecret     = "DescribeSecret"
	opListSecrets        = "ListSecrets"
	defaultSecretsPrefix = 5
)

// fleet is the input of the cost model.
type fleet struct {
	sources          []secretSource
	replicas         int
	ttl              time.Duration
	startsPerMonth   float64 // times each replica starts in a month
	rotationsPerMon  float64 // rotations of each secret in a month
	secretsPerPrefix int
	startupWindow    time.Duration
}

// costLine is the monthly use of one operation.
type costLine struct {
	Operation    string  `json:"operation"`
	When         string  `json:"when"`
	CallsMonth   float64 `json:"calls_per_month"`
	DollarsMonth float64 `json:"usd_per_month"`
}

// peakLine is the highest request rate of one operation.
type peakLine struct {
	Operation string  `json:"operation"`
	When      string  `json:"when"`
	PerSecond float64 `json:"requests_per_second"`
	Quota     float64 `json:"quota_per_second"`
	// Near is true from nearQuota of the quota on, Over above the quota.
	Near bool `json:"near_quota"`
	Over bool `json:"over_quota"`
}

// nearQuota is the share of a quota from which cost warns: a fleet that
// grows, or starts at a bad moment, would be throttled.
const nearQuota = 0.8

// atLeastShare reports whether rate is at least share of quota, without the
// rounding of share*quota deciding a rate exactly on the line.
func atLeastShare(rate, quota, share float64) bool {
	return rate*100 >= quota*math.Round(share*100)
}

// costEstimate is the output of the cost model.
type costEstimate struct {
	Replicas         int        `json:"replicas"`
	Secrets          int        `json:"secrets"`
	Sources          int        `json:"sources"`
	TTL              string     `json:"ttl"`
	StartsPerMonth   float64    `json:"starts_per_replica_per_month"`
	RotationsPerMon  float64    `json:"rotations_per_secret_per_month"`
	SecretsPerPrefix int        `json:"secrets_per_prefix,omitempty"`
	Calls            []costLine `json:"calls"`
	TotalCalls       float64    `json:"total_calls_per_month"`
	CallDollars      float64    `json:"calls_usd_per_month"`
	StorageDollars   float64    `json:"secrets_usd_per_month"`
	TotalDollars     float64    `json:"total_usd_per_month"`
	Peaks            []peakLine `json:"peaks"`
	NaiveCalls       float64    `json:"naive_polling_calls_per_month"`
	NaiveDollars     float64    `json:"naive_polling_usd_per_month"` // the same secrets stored included
	NaivePerSecond   float64    `json:"naive_polling_requests_per_second"`
	Warnings         []string   `json:"warnings"`
	Notes            []string   `json:"notes"`
}

// estimate applies the layer's call pattern to a fleet: at start-up, secrets
// read by AWSCURRENT go in BatchGetSecretValue calls of up to 20 (a lone one
// uses GetSecretValue) and pinned ones use GetSecretValue; each prefix costs
// a ListSecrets page per 100 secrets at start-up and at each refresh; each
// refresh costs one DescribeSecret per secret read by id (none for a pinned
// VersionId); a rotation costs one GetSecretValue per replica.
func estimate(f fleet) costEstimate {
	n := countSources(f)
	ids, describeIDs, batched, pinned, followed := n.ids, n.describeIDs, n.batched, n.pinned, n.followed
	listPages, prefixSecrets := n.listPages, n.prefixSecrets

	replicas := float64(f.replicas)
	starts := replicas * f.startsPerMonth
	refreshes := replicas * float64(month) / float64(f.ttl)
	batchCalls, loneGets := 0, 0
	switch {
	case batched == 1:
		loneGets = 1
	case batched > 1:
		batchCalls = ceilDiv(batched, batchSize)
	}

	e := costEstimate{
		Replicas: f.replicas, Secrets: len(ids) + prefixSecrets, Sources: len(f.sources), TTL: f.ttl.String(),
		StartsPerMonth: f.startsPerMonth, RotationsPerMon: f.rotationsPerMon,
		Warnings: []string{}, Notes: []string{},
	}
	if prefixSecrets > 0 {
		e.SecretsPerPrefix = f.secretsPerPrefix
	}
	add := func(op, when string, calls float64) {
		e.Calls = append(e.Calls, costLine{Operation: op, When: when, CallsMonth: calls, DollarsMonth: roundTo(calls*pricePerCall, 4)})
		e.TotalCalls += calls
	}
	switch {
	case batchCalls > 0:
		add(opBatchGetSecretVal, fmt.Sprintf("%d per replica start (up to %d secrets a call)", batchCalls, batchSize), starts*float64(batchCalls))
	case loneGets > 0:
		add(opBatchGetSecretVal, "none: a lone secret is read with GetSecretValue", 0)
	default:
		add(opBatchGetSecretVal, "none: every secret is pinned to a version", 0)
	}
	var gets []string
	if n := pinned + loneGets; n > 0 {
		gets = append(gets, fmt.Sprintf("%d per replica start", n))
	}
	if followed > 0 {
		gets = append(gets, "1 per replica after each rotation of a secret")
	}
	if len(gets) == 0 {
		gets = append(gets, "none")
	}
	add(opGetSecretValue, strings.Join(gets, ", "), starts*float64(pinned+loneGets)+replicas*f.rotationsPerMon*float64(followed))
	add(opDescribeSecret, fmt.Sprintf("%d per replica each refresh (every %s)", len(describeIDs), f.ttl), refreshes*float64(len(describeIDs)))
	if listPages > 0 {
		add(opListSecrets, fmt.Sprintf("%d per replica start and each refresh", listPages), (starts+refreshes)*float64(listPages))
	} else {
		add(opListSecrets, "none: no prefix source", 0)
	}
	e.CallDollars = roundTo(e.TotalCalls*pricePerCall, 4)
	e.StorageDollars = roundTo(float64(e.Secrets)*pricePerSecretMonth, 2)
	e.TotalDollars = roundTo(e.CallDollars+e.StorageDollars, 4)

	e.addPeaks(f, callsPerReplica{batch: batchCalls, gets: pinned + loneGets, describes: len(describeIDs), listPages: listPages})

	e.NaiveCalls = replicas * float64(followed+pinned) * float64(month) / float64(naivePollInterval)
	e.NaiveDollars = roundTo(e.NaiveCalls*pricePerCall+e.StorageDollars, 4)
	e.NaivePerSecond = roundTo(replicas*float64(followed+pinned)/naivePollInterval.Seconds(), 3)

	if batchCalls > 0 {
		e.Notes = append(e.Notes, "BatchGetSecretValue is costed as one call; whether AWS bills it as one call or one per secret is not confirmed (CloudTrail logs one GetSecretValue event per secret)")
	}
	if prefixSecrets > 0 {
		e.Notes = append(e.Notes, fmt.Sprintf("each prefix source is assumed to hold %d secrets (--secrets-per-prefix)", f.secretsPerPrefix))
	}
	e.Notes = append(e.Notes, "a month is 30 days; prices are $0.05 per 10,000 API calls and $0.40 per secret per month")
	return e
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

// countSources counts the secrets of the sources, each once.
func countSources(f fleet) sourceCounts {
	type secretRef struct{ id, stage, version string }
	refs := map[secretRef]bool{}
	n := sourceCounts{ids: map[string]bool{}, describeIDs: map[string]bool{}}
	for _, s := range f.sources {
		if s.kind == "prefix" {
			k := f.secretsPerPrefix
			n.prefixSecrets += k
			n.listPages += max(1, ceilDiv(k, listPageSize))
			if s.stage != "" {
				n.pinned += k
			} else {
				n.batched += k
			}
			n.followed += k
			continue
		}
		r := secretRef{s.id, s.stage, s.versionID}
		if refs[r] {
			continue
		}
		refs[r] = true
		n.ids[s.id] = true
		if s.pinned() {
			n.pinned++
		} else {
			n.batched++
		}
		if s.versionID == "" {
			n.describeIDs[s.id] = true
			n.followed++
		}
	}
	return n
}

// callsPerReplica is what one replica calls at a start (batch, gets,
// listPages) and at each refresh (describes, listPages).
type callsPerReplica struct {
	batch, gets, describes, listPages int
}

// addPeaks adds the peak request rate of each operation, compared with its
// quota, and a warning for each from nearQuota of the quota on.
func (e *costEstimate) addPeaks(f fleet, c callsPerReplica) {
	replicas := float64(f.replicas)
	window := f.startupWindow.Seconds()
	spread := f.ttl.Seconds() * refreshJitterSpread
	startWhen := "the whole fleet starts within " + f.startupWindow.String()
	peak := func(op, when string, rate, quota float64) {
		p := peakLine{Operation: op, When: when, PerSecond: roundTo(rate, 3), Quota: quota,
			Near: atLeastShare(rate, quota, nearQuota), Over: rate > quota}
		e.Peaks = append(e.Peaks, p)
		switch {
		case p.Over:
			e.Warnings = append(e.Warnings, fmt.Sprintf("%s peaks at %s requests a second when %s, over its quota of %s a second",
				op, rate2(rate), when, count(quota)))
		case p.Near:
			e.Warnings = append(e.Warnings, fmt.Sprintf("%s peaks at %s requests a second when %s, %s of its quota of %s a second",
				op, rate2(rate), when, percent(rate/quota), count(quota)))
		}
	}
	perReplicaBatch := float64(c.batch)
	batchRate := replicas * perReplicaBatch / window
	peak(opBatchGetSecretVal, startWhen, batchRate, quotaBatchGet)
	peak(opGetSecretValue, startWhen, replicas*float64(c.gets)/window, quotaGet)
	peak(opDescribeSecret, "refreshes of a fleet started together (spread by the ±10 % jitter)", replicas*float64(c.describes)/spread, quotaDescribe)
	peak(opListSecrets, startWhen, replicas*float64(c.listPages)/window, quotaList)
	if perReplicaBatch > 0 && atLeastShare(batchRate, quotaBatchGet, nearQuota) {
		e.Warnings = append(e.Warnings, fmt.Sprintf(
			"start at most %d replicas a second (a rolling deploy) to stay under the BatchGetSecretValue quota; beyond it the layer falls back to GetSecretValue after throttling",
			max(1, int(quotaBatchGet/perReplicaBatch))))
	}

}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// roundTo rounds v to the given number of decimals, so the JSON output shows
// cents and fractions of a request rather than binary noise.
func roundTo(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

func costCommand() *command {
	var (
		secrets     listFlag
		environment string
		ttl         time.Duration
		replicas    int
		starts      float64
		rotation    float64
		perPref     int
		window      time.Duration
		format      *choice
	)
	return &command{
		name:    "cost",
		summary: "estimate Secrets Manager API calls, dollars and peak request rates for a fleet",
		details: `
Applies the layer's call pattern to a fleet: at each start, BatchGetSecretValue
for up to 20 secrets a call; at each refresh, one DescribeSecret per secret;
GetSecretValue only when a secret changed. Prints calls and dollars a month by
operation, the peak requests a second when the whole fleet starts at once,
compared with the account's quotas, and what polling with GetSecretValue every
30s would cost instead. A peak from 80 % of its quota on is a warning: the
fleet has little room to grow before calls are throttled.`,
		flags: func(r *runner, fs *flag.FlagSet) {
			fs.Var(&secrets, "secret", secretSpecHelp+r.defaultSources())
			fs.StringVar(&environment, "environment", r.opts.Environment, "the environment `name` whose secrets the service reads")
			fs.DurationVar(&ttl, "ttl", r.opts.RefreshInterval, "the refresh interval of the service")
			fs.IntVar(&replicas, "replicas", 1, "the number of replicas (processes) of the service")
			fs.Float64Var(&starts, "starts-per-month", 30, "how often each replica starts in a month (deploys, restarts, scaling)")
			fs.Float64Var(&rotation, "rotations-per-month", 1, "how often each secret changes in a month")
			fs.IntVar(&perPref, "secrets-per-prefix", defaultSecretsPrefix, "the number of secrets assumed under each prefix source")
			fs.DurationVar(&window, "startup-window", time.Second, "the time over which the whole fleet starts, for the peak rates")
			format = formatFlag(fs, "text", "json")
		},
		run: func(r *runner, _ context.Context, _ []string) int {
			sources, err := r.secretSources(&secrets, environment)
			if err != nil {
				return r.fail(usageError{err})
			}
			var problems []error
			if len(sources) == 0 {
				problems = append(problems, errors.New("no Secrets Manager source: give --secret"))
			}
			if ttl <= 0 {
				problems = append(problems, errors.New("--ttl must be positive"))
			}
			if replicas < 1 {
				problems = append(problems, errors.New("--replicas must be at least 1"))
			}
			if starts < 0 || rotation < 0 || perPref < 0 {
				problems = append(problems, errors.New("--starts-per-month, --rotations-per-month and --secrets-per-prefix must not be negative"))
			}
			if window <= 0 {
				problems = append(problems, errors.New("--startup-window must be positive"))
			}
			if err := errors.Join(problems...); err != nil {
				return r.fail(usageError{err})
			}
			e := estimate(fleet{sources: sources, replicas: replicas, ttl: ttl, startsPerMonth: starts,
				rotationsPerMon: rotation, secretsPerPrefix: perPref, startupWindow: window})
			if format.value == "json" {
				enc := json.NewEncoder(r.stdout)
				enc.SetIndent("", "  ")
				err = enc.Encode(e)
			} else {
				err = writeCostText(r.stdout, e)
			}
			if err != nil {
				return r.fail(err)
			}
			return ExitOK
		},
	}
}

func writeCostText(w io.Writer, e costEstimate) error {
	fmt.Fprintf(w, "Fleet: %s, %s from %s, TTL %s; each replica starts %s and each secret changes %s a month\n\n",
		plural(e.Replicas, "replica"), plural(e.Secrets, "secret"), plural(e.Sources, "source"), e.TTL,
		times(e.StartsPerMonth), times(e.RotationsPerMon))
	// The numbers are right-aligned; padding the names keeps them on the left.
	const name = "%-19s"
	err := writeTable(w, tabwriter.AlignRight, func(tw io.Writer) {
		fmt.Fprintf(tw, name+"\tCALLS/MONTH\tUSD/MONTH\t\n", "OPERATION")
		for _, c := range e.Calls {
			fmt.Fprintf(tw, name+"\t%s\t%s\t  %s\n", c.Operation, count(c.CallsMonth), dollars(c.DollarsMonth), c.When)
		}
		fmt.Fprintf(tw, name+"\t%s\t%s\t\n", "API calls", count(e.TotalCalls), dollars(e.CallDollars))
		fmt.Fprintf(tw, name+"\t%d\t%s\t  $0.40 per secret\n", "Secrets stored", e.Secrets, dollars(e.StorageDollars))
		fmt.Fprintf(tw, name+"\t\t%s\t\n", "Total", dollars(e.TotalDollars))
	})
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "\nPeak requests a second, against the account's quota:\n")
	err = writeTable(w, tabwriter.AlignRight, func(tw io.Writer) {
		fmt.Fprintf(tw, name+"\tPEAK/S\tQUOTA/S\t\n", "OPERATION")
		for _, p := range e.Peaks {
			over := ""
			switch {
			case p.Over:
				over = "OVER QUOTA: "
			case p.Near:
				over = "NEAR QUOTA: "
			}
			fmt.Fprintf(tw, name+"\t%s\t%s\t  %s%s\n", p.Operation, rate(p.PerSecond), count(p.Quota), over, p.When)
		}
	})
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "\nFor comparison, polling every secret with GetSecretValue every %s would make\n", naivePollInterval)
	fmt.Fprintf(w, "%s calls and cost %s a month (%s requests a second)", count(e.NaiveCalls), dollars(e.NaiveDollars), rate(e.NaivePerSecond))
	if e.NaiveDollars > 0 {
		fmt.Fprintf(w, "; this set-up costs %s of that", percent(e.TotalDollars/e.NaiveDollars))
	}
	fmt.Fprintln(w, ".")
	if len(e.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range e.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
	}
	for _, warn := range e.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	return nil
}

// times renders a frequency: "once", "twice", "30 times".
func times(v float64) string {
	switch v {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return num(v) + " times"
}

// count renders a whole number with thousands separators: 1,234,567.
func count(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// rate2 renders a rate in a sentence: whole from 10 up, else with up to two
// decimals.
func rate2(v float64) string {
	if v >= 10 {
		return count(v)
	}
	return strconv.FormatFloat(roundTo(v, 2), 'f', -1, 64)
}

// rate renders requests a second: whole above 10, else with two decimals.
func rate(v float64) string {
	if v >= 10 {
		return count(v)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// dollars renders an amount as $1,234.56.
func dollars(v float64) string {
	cents := math.Round(v * 100)
	whole := math.Trunc(cents / 100)
	return fmt.Sprintf("$%s.%02d", count(whole), int(math.Abs(cents-whole*100)))
}

func percent(v float64) string {
	p := v * 100
	if p < 1 {
		return strconv.FormatFloat(p, 'f', 2, 64) + " %"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + " %"
}

// num renders a small count without a needless decimal point.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
