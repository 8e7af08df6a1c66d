package secretsmanager

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/strata-go/strata/config"
)

// ListGate says how a refresh of the values a store serves learns which
// secrets named by id have a new version. See Options.ListGate.
type ListGate uint8

const (
	// ListGateDefault, the zero value, is ListGateAuto when Options.Push is
	// set, where the poll is a safety net behind events that bring a
	// rotation within a second, and ListGateOff otherwise, where the poll is
	// how a rotation is seen and should not wait for a lagging listing.
	ListGateDefault ListGate = iota
	// ListGateOff checks each secret named by id with one DescribeSecret per
	// refresh. DescribeSecret gives the latest state of a secret, so a
	// refresh sees a rotation the moment it is made.
	ListGateOff
	// ListGateAuto checks the secrets named by id with ListSecrets, on the
	// store's scheduled reads (and their retries), when that takes fewer
	// calls than one DescribeSecret per secret: the names go in
	// name filters of up to 10 values (ListSecrets' limit), one listing of up
	// to 100 entries a page per 10 secrets. A secret whose listed AWSCURRENT
	// version is the one in use costs nothing more; a secret the listing shows
	// moved, or does not show, is checked with DescribeSecret, so a listing
	// never brings back an older version and never causes a read that a
	// DescribeSecret would not. ListSecrets may not reflect changes of the
	// last few minutes (AWS documents up to five), so with the gate a
	// scheduled refresh can see a rotation one refresh later than without it.
	// A read that Store.Refresh asked for (RefreshRequest.OnDemand) or that
	// events caused (RefreshRequest.Events) never uses the listing: it checks
	// each secret with DescribeSecret, which gives its latest state.
	ListGateAuto
)

// String returns "default", "off" or "auto".
func (g ListGate) String() string {
	switch g {
	case ListGateDefault:
		return "default"
	case ListGateOff:
		return "off"
	case ListGateAuto:
		return "auto"
	}
	return "ListGate(" + strconv.Itoa(int(g)) + ")"
}

// with returns the gate in effect for a reader with push (an Options.Push
// feed, or the wiring a tool assumes) or without.
func (g ListGate) with(push bool) ListGate {
	if g == ListGateAuto || (g == ListGateDefault && push) {
		return ListGateAuto
	}
	return ListGateOff
}

// gateable reports whether a refresh may check versions with a listing: a
// scheduled read (or a retry) of values the store serves. A read Store.Refresh
// asked for (its caller has a reason to believe a source changed) and a read
// that events caused (they name a change the listing may not show yet) check
// with DescribeSecret, which gives the latest state.
func gateable(req config.RefreshRequest) bool {
	return !req.OnDemand && len(req.Events) == 0
}

// maxFilterValues is the most values one ListSecrets filter may hold.
const maxFilterValues = 10

// gatePlan returns the groups of secret ids, up to maxFilterValues each,
// whose versions a refresh reads from ListSecrets instead of DescribeSecret,
// or nil when DescribeSecret is cheaper (or the gate is off). ids are those
// checkVersions would describe.
func (l *Reader) gatePlan(ids []string) [][]string {
	if l.opts.ListGate.with(l.opts.Push != nil) != ListGateAuto || l.noList.Load() {
		return nil
	}
	groups := (len(ids) + maxFilterValues - 1) / maxFilterValues
	if groups >= len(ids) {
		return nil // one secret: DescribeSecret is as cheap, and never lags
	}
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, func(a, b string) int { return strings.Compare(filterName(a), filterName(b)) })
	return slices.Collect(slices.Chunk(sorted, maxFilterValues))
}

// gate reads the versions of ids (the secrets checkVersions would describe)
// from ListSecrets, per gatePlan, and returns those of the secrets whose
// version of prev still holds AWSCURRENT in the listing, keyed by id. Every
// other id is left to DescribeSecret: one the listing shows moved (the
// listing may lag, so DescribeSecret confirms before anything is fetched), one
// the listing does not show, and every id of a group whose listing failed. A
// listing that AWS refuses for good (access denied) turns the gate off for
// the Reader's life.
func (l *Reader) gate(ctx context.Context, prev *state, ids []string) map[string]map[string][]string {
	plan := l.gatePlan(ids)
	if plan == nil {
		return nil
	}
	current := map[string]string{} // id -> the AWSCURRENT version in use
	for r, s := range prev.secrets {
		if r.stage == "" && r.versionID == "" {
			current[r.id] = s.versionID
		}
	}
	found := map[string]map[string][]string{}
	for _, group := range plan {
		var missing []string
		for _, id := range group {
			if _, ok := found[id]; !ok {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			continue // an endpoint that ignores filters listed them already
		}
		if err := l.listVersions(ctx, missing, ids, found); err != nil {
			if errors.Is(err, config.ErrAccessDenied) {
				l.noList.Store(true)
				l.log.LogAttrs(ctx, slog.LevelWarn, "secretsmanager: ListSecrets was refused; refreshes check versions with DescribeSecret from now on",
					slog.String("error", err.Error()))
				return nil
			}
			continue // DescribeSecret checks this group
		}
	}
	out := map[string]map[string][]string{}
	for id, vs := range found {
		if v, ok := current[id]; ok && slices.Contains(versionsWithStage(vs, StageCurrent), v) {
			out[id] = vs
		}
	}
	return out
}

// listVersions pages through one ListSecrets listing filtered by the names of
// group and records in found the versions of every id of all that an entry
// names (an endpoint that ignores filters lists the others too).
func (l *Reader) listVersions(ctx context.Context, group, all []string, found map[string]map[string][]string) error {
	values := make([]string, len(group))
	for i, id := range group {
		values[i] = filterName(id)
	}
	in := &sm.ListSecretsInput{
		MaxResults: aws.Int32(listPageSize),
		Filters:    []types.Filter{{Key: types.FilterNameStringTypeName, Values: values}},
	}
	seenTokens := map[string]bool{}
	for {
		var page *sm.ListSecretsOutput
		err := l.send(ctx, opList, slog.Int("secrets", len(group)), func(ctx context.Context, optFns ...func(*sm.Options)) error {
			var err error
			page, err = l.client.ListSecrets(ctx, in, optFns...)
			return err
		})
		if err != nil {
			return l.sourceError(opList, group[0], ref{}, err)
		}
		if page == nil {
			return noAnswer(opList, group[0])
		}
		for _, e := range page.SecretList {
			if e.DeletedDate != nil || e.SecretVersionsToStages == nil {
				continue // DescribeSecret reports a deleted secret
			}
			name, arn := aws.ToString(e.Name), aws.ToString(e.ARN)
			for _, id := range all {
				if sameSecret(id, name, arn) {
					found[id] = e.SecretVersionsToStages
				}
			}
		}
		tok := aws.ToString(page.NextToken)
		if tok == "" || seenTokens[tok] {
			return nil
		}
		seenTokens[tok] = true
		in.NextToken = page.NextToken
	}
}

// filterName is the name filter value that lists the secret id names: its
// name, from an ARN or a partial ARN without the random suffix. The filter
// matches names by prefix, so a shorter value only lists more.
func filterName(id string) string {
	if _, rest, ok := strings.Cut(id, ":secret:"); ok && strings.HasPrefix(id, "arn:") {
		if len(rest) >= 8 && rest[len(rest)-7] == '-' {
			return rest[:len(rest)-7]
		}
		return rest
	}
	return id
}
