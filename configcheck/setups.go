package configcheck

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/strata-go/strata/config"
)

// The ways of following changes cost compares, with the pickup latency each
// gives.
const (
	// defaultSafetyNet is the refresh interval behind push (the default of
	// config.Options.WatchInterval).
	defaultSafetyNet = time.Hour
	// listingLag is how far a listing (ListSecrets) may lag a change, as AWS
	// documents it.
	listingLag = 5 * time.Minute
	// pushPickup is the typical time from a change to its pickup by push:
	// EventBridge delivery, the long poll that returns it, the store's
	// coalescing window and one read (docs/performance.md measures it).
	pushPickup = time.Second
	// jitterMax is the longest interval between two refreshes with the ±10 %
	// jitter, as a share of the TTL.
	jitterMax = 1.1
)

// setup is one way of following changes that cost compares.
type setup struct {
	name  string
	ttl   time.Duration // the refresh interval (the safety net, with push)
	check string
	push  string
}

// setupLine is one compared set-up in the output.
type setupLine struct {
	Name  string `json:"setup"`
	TTL   string `json:"ttl"`
	Check string `json:"check"`          // "each" or "listed"
	Push  string `json:"push,omitempty"` // "queue" or "fanout"
	// SecretCalls are the calls of the layers' own service (Secrets
	// Manager), and OtherRequests those of every other (SQS, SNS), a month.
	SecretCalls   float64 `json:"secretsmanager_calls_per_month"`
	OtherRequests float64 `json:"other_requests_per_month"`
	CallDollars   float64 `json:"calls_usd_per_month"`
	// PeakPerSecond is the highest request rate of the running fleet (see
	// steadyPeak).
	PeakPerSecond float64 `json:"peak_requests_per_second"`
	// PickupAvg and PickupMax are the seconds from a change to the snapshot
	// that serves it: on average, and at most while push (if any) works.
	PickupAvg float64 `json:"pickup_avg_seconds"`
	PickupMax float64 `json:"pickup_max_seconds"`
	Pickup    string  `json:"pickup"`
}

// compareSetups returns the set-ups to compare for a fleet whose own TTL is
// ttl: polling with one version check per item at ttl and hourly, listings
// gating the checks at ttl, and push through a queue per replica and through
// a fan-out, each behind an hourly safety net gated by listings.
func compareSetups(ttl time.Duration, pushable bool) []setup {
	out := []setup{{name: "poll", ttl: ttl, check: config.CheckEach}}
	if ttl != defaultSafetyNet {
		out = append(out, setup{name: "poll", ttl: defaultSafetyNet, check: config.CheckEach})
	}
	out = append(out, setup{name: "poll, listing-gated", ttl: ttl, check: config.CheckListed})
	if pushable {
		out = append(out,
			setup{name: "push (queue) + safety net", ttl: defaultSafetyNet, check: config.CheckListed, push: config.PushQueue},
			setup{name: "push (fan-out) + safety net", ttl: defaultSafetyNet, check: config.CheckListed, push: config.PushFanout})
	}
	return out
}

// estimateSetup multiplies the models the layers give for s out for f.
func estimateSetup(f fleet, layers []CostModeler, s setup) setupLine {
	scope := config.CostScope{ItemsPerListing: f.perListing, Replicas: f.replicas, Check: s.check,
		Push: config.PushWiring{Mode: s.push}}
	g := f
	g.ttl, g.models = s.ttl, nil
	for _, l := range layers {
		g.models = append(g.models, l.CostModel(scope))
	}
	e := estimate(g)
	line := setupLine{Name: s.name, TTL: s.ttl.String(), Check: s.check, Push: s.push, CallDollars: e.CallDollars}
	for _, c := range e.Calls {
		if c.Service == primaryService(g.models) {
			line.SecretCalls += c.CallsMonth
		} else {
			line.OtherRequests += c.CallsMonth
		}
	}
	line.PeakPerSecond = roundTo(steadyPeak(g), 3)
	ttlS := s.ttl.Seconds()
	switch {
	case s.push != "":
		net := jitterMax * ttlS
		if s.check == config.CheckListed {
			net += listingLag.Seconds()
		}
		line.PickupAvg, line.PickupMax = pushPickup.Seconds(), 2*pushPickup.Seconds()
		line.Pickup = fmt.Sprintf("about %s by push; %s at most if an event is lost (the safety net)", pushPickup, dur(net))
	case s.check == config.CheckListed:
		line.PickupAvg, line.PickupMax = ttlS/2, jitterMax*ttlS+listingLag.Seconds()
		line.Pickup = fmt.Sprintf("%s on average, plus the listing's lag (up to %s); at most %s", dur(ttlS/2), listingLag, dur(line.PickupMax))
	default:
		line.PickupAvg, line.PickupMax = ttlS/2, jitterMax*ttlS
		line.Pickup = fmt.Sprintf("%s on average (half the TTL), at most %s", dur(ttlS/2), dur(line.PickupMax))
	}
	line.PickupAvg, line.PickupMax = roundTo(line.PickupAvg, 1), roundTo(line.PickupMax, 1)
	return line
}

// steadyPeak is the highest request rate of a running fleet, every service
// and operation together: the refreshes of a fleet started together fall
// within the spread of the jitter, and the calls that do not depend on
// refreshes (long polls) are spread over the month. Starts are left out:
// the peaks of the main estimate give them.
func steadyPeak(f fleet) float64 {
	spread := f.ttl.Seconds() * refreshJitterSpread
	var rate float64
	for _, o := range mergeCalls(f) {
		rate += float64(f.replicas) * (o.PerRefresh/spread + o.perMonth/month.Seconds())
	}
	return rate
}

// primaryService is the service of the first call of the models, the one
// whose calls a set-up line counts apart.
func primaryService(models []config.CostModel) string {
	for _, m := range models {
		for _, c := range m.Calls {
			return c.Service
		}
	}
	return ""
}

// dur renders seconds as a duration rounded to the second (to the tenth
// below ten seconds).
func dur(seconds float64) string {
	if seconds < 10 {
		return (time.Duration(math.Round(seconds*10)) * 100 * time.Millisecond).String()
	}
	return (time.Duration(math.Round(seconds)) * time.Second).String()
}

// writeSetups prints the compared set-ups.
func writeSetups(w io.Writer, e costEstimate) error {
	if len(e.Setups) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nSet-ups compared, for %s (storage aside):\n", plural(e.Replicas, "replica"))
	err := writeTable(w, tabwriter.AlignRight, func(tw io.Writer) {
		fmt.Fprintf(tw, "%-28s\tTTL\tCALLS/MONTH\tOTHER REQ/MONTH\tUSD/MONTH\tPEAK/S\t\n", "SET-UP")
		for _, s := range e.Setups {
			fmt.Fprintf(tw, "%-28s\t%s\t%s\t%s\t%s\t%s\t  %s\n", s.Name, s.TTL, count(s.SecretCalls), count(s.OtherRequests),
				dollars(s.CallDollars), rate(s.PeakPerSecond), s.Pickup)
		}
	})
	return err
}
