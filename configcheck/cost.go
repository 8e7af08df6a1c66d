package configcheck

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strata-go/strata/config"
)

const (
	month               = 30 * 24 * time.Hour
	naivePollInterval   = 30 * time.Second
	refreshJitterSpread = 0.2 // a TTL jittered by ±10 % spreads refreshes over a fifth of it
	defaultPerListing   = 5
)

// fleet is the input of the cost model.
type fleet struct {
	models          []config.CostModel
	replicas        int
	ttl             time.Duration
	startsPerMonth  float64 // times each replica starts in a month
	rotationsPerMon float64 // changes of each followed item in a month
	perListing      int
	startupWindow   time.Duration
	checkMode, push string // the scope asked of the layers (config.CostScope)
}

// costLine is the monthly use of one operation.
type costLine struct {
	Service      string  `json:"service"`
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
	Replicas        int         `json:"replicas"`
	Stored          int         `json:"stored"`
	StoredUnit      string      `json:"stored_unit,omitempty"`
	TTL             string      `json:"ttl"`
	StartsPerMonth  float64     `json:"starts_per_replica_per_month"`
	RotationsPerMon float64     `json:"changes_per_item_per_month"`
	PerListing      int         `json:"items_per_listing"`
	Calls           []costLine  `json:"calls"`
	TotalCalls      float64     `json:"total_calls_per_month"`
	CallDollars     float64     `json:"calls_usd_per_month"`
	StoredPrice     float64     `json:"usd_per_stored_month,omitempty"` // when every layer charges the same
	StorageDollars  float64     `json:"stored_usd_per_month"`
	TotalDollars    float64     `json:"total_usd_per_month"`
	Peaks           []peakLine  `json:"peaks"`
	PollOperation   string      `json:"polling_operation,omitempty"`
	NaiveCalls      float64     `json:"naive_polling_calls_per_month"`
	NaiveDollars    float64     `json:"naive_polling_usd_per_month"` // the same items stored included
	NaivePerSecond  float64     `json:"naive_polling_requests_per_second"`
	Setups          []setupLine `json:"setups,omitempty"`
	Warnings        []string    `json:"warnings"`
	Notes           []string    `json:"notes"`
}

// opUse is one operation summed over the layers: per replica at a start, at
// each refresh, and a month of changes.
type opUse struct {
	config.APICall
	perChange float64 // calls after one followed item changed, for the text
	changes   float64 // calls a month per replica for changes
	perMonth  float64 // calls a month per replica, whatever the refreshes
	unit      string
}

// mergeCalls sums the operations of the models by service and operation, in
// the order they first appear: two layers calling one API share its quota.
func mergeCalls(f fleet) []*opUse {
	var ops []*opUse
	for _, m := range f.models {
		for _, c := range m.Calls {
			i := slices.IndexFunc(ops, func(o *opUse) bool { return o.Service == c.Service && o.Operation == c.Operation })
			if i < 0 {
				ops = append(ops, &opUse{APICall: c, perChange: c.PerChange, unit: m.StoredUnit})
				ops[len(ops)-1].AtStart, ops[len(ops)-1].PerRefresh, ops[len(ops)-1].PerChange, ops[len(ops)-1].PerMonth = 0, 0, 0, 0
				i = len(ops) - 1
			}
			o := ops[i]
			o.AtStart += c.AtStart
			o.PerRefresh += c.PerRefresh
			o.changes += c.PerChange * float64(m.Followed) * f.rotationsPerMon
			o.perMonth += c.PerMonth
			if o.Note == "" || c.AtStart+c.PerRefresh+c.PerChange*float64(m.Followed)+c.PerMonth > 0 {
				o.Note = c.Note
			}
		}
	}
	return ops
}

// estimate multiplies the cost models of the layers out for a fleet.
func estimate(f fleet) costEstimate {
	replicas := float64(f.replicas)
	starts := replicas * f.startsPerMonth
	refreshes := replicas * float64(month) / float64(f.ttl)
	e := costEstimate{
		Replicas: f.replicas, TTL: f.ttl.String(), StartsPerMonth: f.startsPerMonth, RotationsPerMon: f.rotationsPerMon,
		PerListing: f.perListing, Warnings: []string{}, Notes: []string{},
	}
	var pollCalls float64
	for i, m := range f.models {
		switch {
		case i == 0:
			e.StoredPrice = m.PricePerStoredMonth
		case m.PricePerStoredMonth != e.StoredPrice:
			e.StoredPrice = 0
		}
		e.Stored += m.Stored
		e.StorageDollars += float64(m.Stored) * m.PricePerStoredMonth
		pollCalls += m.PollCalls
		if e.StoredUnit == "" {
			e.StoredUnit = m.StoredUnit
		} else if m.StoredUnit != "" && m.StoredUnit != e.StoredUnit {
			e.StoredUnit = "item"
		}
		if e.PollOperation == "" {
			e.PollOperation = m.PollOperation
		}
		for _, n := range m.Notes {
			if !slices.Contains(e.Notes, n) {
				e.Notes = append(e.Notes, n)
			}
		}
	}
	ops := mergeCalls(f)
	var naiveDollars float64
	for _, o := range ops {
		calls := starts*o.AtStart + refreshes*o.PerRefresh + replicas*(o.changes+o.perMonth)
		e.Calls = append(e.Calls, costLine{Service: o.Service, Operation: o.Operation, When: o.when(f),
			CallsMonth: calls, DollarsMonth: roundTo(calls*o.PricePer10k/10000, 4)})
		e.TotalCalls += calls
		e.CallDollars += calls * o.PricePer10k / 10000
		if o.Operation == e.PollOperation && naiveDollars == 0 {
			naiveDollars = o.PricePer10k / 10000
		}
	}
	e.CallDollars = roundTo(e.CallDollars, 4)
	e.StorageDollars = roundTo(e.StorageDollars, 2)
	e.TotalDollars = roundTo(e.CallDollars+e.StorageDollars, 4)
	e.addPeaks(f, ops)

	e.NaiveCalls = replicas * pollCalls * float64(month) / float64(naivePollInterval)
	e.NaiveDollars = roundTo(e.NaiveCalls*naiveDollars+e.StorageDollars, 4)
	e.NaivePerSecond = roundTo(replicas*pollCalls/naivePollInterval.Seconds(), 3)
	e.Notes = append(e.Notes, "a month is 30 days")
	return e
}

// when describes how often one replica calls the operation.
func (o *opUse) when(f fleet) string {
	var parts []string
	switch {
	case o.AtStart > 0 && o.AtStart == o.PerRefresh:
		parts = append(parts, num(o.AtStart)+" per replica start and each refresh")
	default:
		if o.AtStart > 0 {
			s := num(o.AtStart) + " per replica start"
			if o.BatchSize > 1 {
				s += fmt.Sprintf(" (up to %d %ss a call)", o.BatchSize, unitOr(o.unit))
			}
			parts = append(parts, s)
		}
		if o.PerRefresh > 0 {
			parts = append(parts, fmt.Sprintf("%s per replica each refresh (every %s)", num(o.PerRefresh), f.ttl))
		}
	}
	if o.changes > 0 {
		parts = append(parts, fmt.Sprintf("%s per replica after each change of a %s", num(o.perChange), unitOr(o.unit)))
	}
	if o.perMonth > 0 {
		parts = append(parts, fmt.Sprintf("%s per replica a month", count(o.perMonth)))
	}
	if len(parts) == 0 {
		if o.Note != "" {
			return "none: " + o.Note
		}
		return "none"
	}
	return strings.Join(parts, ", ")
}

func unitOr(u string) string {
	if u == "" {
		return "item"
	}
	return u
}

// addPeaks adds the peak request rate of each operation, compared with its
// quota, and a warning for each from nearQuota of the quota on. An operation
// called at start peaks when the whole fleet starts within the start-up
// window; one called only at refreshes, when the refreshes of a fleet started
// together fall within the spread of the jitter.
func (e *costEstimate) addPeaks(f fleet, ops []*opUse) {
	replicas := float64(f.replicas)
	window := f.startupWindow.Seconds()
	spread := f.ttl.Seconds() * refreshJitterSpread
	startWhen := "the whole fleet starts within " + f.startupWindow.String()
	for _, o := range ops {
		if o.QuotaPerSecond <= 0 {
			continue
		}
		rate, when := replicas*o.AtStart/window, startWhen
		if r := replicas * o.PerRefresh / spread; r > rate || (o.AtStart == 0 && o.PerRefresh > 0) {
			rate, when = r, "refreshes of a fleet started together (spread by the ±10 % jitter)"
		}
		quota := o.QuotaPerSecond
		p := peakLine{Operation: o.Operation, When: when, PerSecond: roundTo(rate, 3), Quota: quota,
			Near: atLeastShare(rate, quota, nearQuota), Over: rate > quota}
		e.Peaks = append(e.Peaks, p)
		switch {
		case p.Over:
			e.Warnings = append(e.Warnings, fmt.Sprintf("%s peaks at %s requests a second when %s, over its quota of %s a second",
				o.Operation, rate2(rate), when, count(quota)))
		case p.Near:
			e.Warnings = append(e.Warnings, fmt.Sprintf("%s peaks at %s requests a second when %s, %s of its quota of %s a second",
				o.Operation, rate2(rate), when, percent(rate/quota), count(quota)))
		}
		if o.AtStart > 0 && when == startWhen && atLeastShare(rate, quota, nearQuota) {
			e.Warnings = append(e.Warnings, fmt.Sprintf(
				"start at most %d replicas a second (a rolling deploy) to stay under the %s quota",
				max(1, int(quota/o.AtStart)), o.Operation))
		}
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
		environment string
		ttl         time.Duration
		replicas    int
		starts      float64
		rotation    float64
		perListing  int
		window      time.Duration
		format      *choice
		push, check *choice
	)
	return &command{
		name:    "cost",
		summary: "estimate API calls, dollars and peak request rates for a fleet",
		details: `
Multiplies out, for a fleet, the call pattern of each layer of the service's
setup that can say (see configcheck.CostModeler); for Secrets Manager: at
each start, BatchGetSecretValue for up to 20 secrets a call; at each refresh,
one DescribeSecret per secret; GetSecretValue only when a secret changed.
Prints calls and dollars a month by operation, the peak requests a second
when the whole fleet starts at once, compared with the account's quotas, and
what polling every value every 30s would cost instead. A peak from 80 % of
its quota on is a warning: the fleet has little room to grow before calls are
throttled. No layer is read.`,
		flags: func(r *runner, fs *flag.FlagSet) {
			r.environmentFlag(fs, &environment)
			fs.DurationVar(&ttl, "ttl", 0, "the refresh interval of the service (default: the service's config.Options.RefreshInterval, or 5m)")
			fs.IntVar(&replicas, "replicas", 1, "the number of replicas (processes) of the service")
			fs.Float64Var(&starts, "starts-per-month", 30, "how often each replica starts in a month (deploys, restarts, scaling)")
			fs.Float64Var(&rotation, "rotations-per-month", 1, "how often each value (each secret) changes in a month")
			fs.IntVar(&perListing, "items-per-listing", defaultPerListing, "the number of items assumed behind each source a layer discovers by listing,\nsuch as a Secrets Manager prefix")
			fs.DurationVar(&window, "startup-window", time.Second, "the time over which the whole fleet starts, for the peak rates")
			format = formatFlag(fs, "text", "json")
			push = &choice{allowed: []string{"none", config.PushQueue, config.PushFanout}, value: "none"}
			fs.Var(push, "push", "model push refresh: none, queue (a queue per replica) or fanout (a topic fanned out\nto a queue each replica creates); with push, --ttl is the safety-net poll (default 1h)")
			check = &choice{allowed: []string{"own", config.CheckEach, config.CheckListed}, value: "own"}
			fs.Var(check, "check", "how a refresh checks for changes: own (the layer's configuration), each\n(one DescribeSecret per secret) or listed (ListSecrets pages gate the checks)")
		},
		run: func(r *runner, ctx context.Context, _ []string) int {
			f := fleet{replicas: replicas, ttl: ttl, startsPerMonth: starts,
				rotationsPerMon: rotation, perListing: perListing, startupWindow: window}
			if push.value != "none" {
				f.push = push.value
			}
			if check.value != "own" {
				f.checkMode = check.value
			}
			if err := f.check(); err != nil {
				return r.fail(usageError{err})
			}
			opts, layers, err := r.setup(ctx, environment)
			if err != nil {
				return r.fail(err)
			}
			modelers, pushable := costLayers(layers)
			scope := config.CostScope{ItemsPerListing: perListing, Replicas: replicas, Check: f.checkMode, Push: config.PushWiring{Mode: f.push}}
			for _, cm := range modelers {
				m := cm.CostModel(scope)
				if f.push == "" && m.Push != config.PushNone {
					f.push = m.Push // the layer's own feed
				}
				f.models = append(f.models, m)
			}
			f.ttl = serviceTTL(f, opts)
			if len(f.models) == 0 {
				return r.fail(usageError{errors.New("no layer of the service calls a paid API (none is a configcheck.CostModeler)")})
			}
			e := estimate(f)
			for _, s := range compareSetups(serviceTTL(fleet{ttl: ttl}, opts), pushable) {
				e.Setups = append(e.Setups, estimateSetup(f, modelers, s))
			}
			if err := writeCost(r.stdout, format.value, e); err != nil {
				return r.fail(err)
			}
			return ExitOK
		},
	}
}

// writeCost prints the estimate as JSON or as text.
func writeCost(w io.Writer, format string, e costEstimate) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	}
	return writeCostText(w, e)
}

// check reports every flag of cost out of range; a zero TTL stands for the
// service's.
func (f fleet) check() error {
	var problems []error
	if f.ttl < 0 {
		problems = append(problems, errors.New("--ttl must not be negative (unset or 0: the service's refresh interval)"))
	}
	if f.replicas < 1 {
		problems = append(problems, errors.New("--replicas must be at least 1"))
	}
	if f.startsPerMonth < 0 || f.rotationsPerMon < 0 || f.perListing < 0 {
		problems = append(problems, errors.New("--starts-per-month, --rotations-per-month and --items-per-listing must not be negative"))
	}
	if f.startupWindow <= 0 {
		problems = append(problems, errors.New("--startup-window must be positive"))
	}
	return errors.Join(problems...)
}

func writeCostText(w io.Writer, e costEstimate) error {
	unit := unitOr(e.StoredUnit)
	fmt.Fprintf(w, "Fleet: %s, %s, TTL %s; each replica starts %s and each %s changes %s a month\n\n",
		plural(e.Replicas, "replica"), plural(e.Stored, unit), e.TTL,
		times(e.StartsPerMonth), unit, times(e.RotationsPerMon))
	// The numbers are right-aligned; padding the names keeps them on the left.
	const name = "%-19s"
	err := writeTable(w, tabwriter.AlignRight, func(tw io.Writer) {
		fmt.Fprintf(tw, name+"\tCALLS/MONTH\tUSD/MONTH\t\n", "OPERATION")
		for _, c := range e.Calls {
			fmt.Fprintf(tw, name+"\t%s\t%s\t  %s\n", c.Operation, count(c.CallsMonth), dollars(c.DollarsMonth), c.When)
		}
		fmt.Fprintf(tw, name+"\t%s\t%s\t\n", "API calls", count(e.TotalCalls), dollars(e.CallDollars))
		if e.Stored > 0 {
			price := ""
			if e.StoredPrice > 0 {
				price = "  " + dollars(e.StoredPrice) + " per " + unit
			}
			fmt.Fprintf(tw, name+"\t%d\t%s\t%s\n", strings.ToUpper(unit[:1])+unit[1:]+"s stored", e.Stored, dollars(e.StorageDollars), price)
		}
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

	if err := writeSetups(w, e); err != nil {
		return err
	}
	if e.PollOperation == "" {
		return writeCostNotes(w, e)
	}
	fmt.Fprintf(w, "\nFor comparison, polling every %s with %s every %s would make\n", unit, e.PollOperation, naivePollInterval)
	fmt.Fprintf(w, "%s calls and cost %s a month (%s requests a second)", count(e.NaiveCalls), dollars(e.NaiveDollars), rate(e.NaivePerSecond))
	if e.NaiveDollars > 0 {
		fmt.Fprintf(w, "; this set-up costs %s of that", percent(e.TotalDollars/e.NaiveDollars))
	}
	fmt.Fprintln(w, ".")
	return writeCostNotes(w, e)
}

func writeCostNotes(w io.Writer, e costEstimate) error {
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

// serviceTTL is the refresh interval cost assumes: --ttl, else the
// service's RefreshInterval, else 5 minutes; with push (--push, or a layer's
// own feed), --ttl else the safety net: the service's WatchInterval, else an
// hour.
func serviceTTL(f fleet, opts *config.Options) time.Duration {
	switch {
	case f.ttl > 0:
		return f.ttl
	case f.push != "" && opts != nil && opts.WatchInterval > 0:
		return opts.WatchInterval
	case f.push != "":
		return defaultSafetyNet
	case opts != nil && opts.RefreshInterval > 0:
		return opts.RefreshInterval
	}
	return 5 * time.Minute
}

// costLayers returns the layers that describe their cost, and whether any
// can learn of changes by push.
func costLayers(layers []config.Layer) ([]CostModeler, bool) {
	var out []CostModeler
	pushable := false
	for _, l := range layers {
		if cm, ok := l.(CostModeler); ok {
			out = append(out, cm)
		}
		if ep, ok := l.(EventPatterner); ok && ep.EventPattern() != nil {
			pushable = true
		}
	}
	return out, pushable
}
