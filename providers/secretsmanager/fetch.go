package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/internal/awscall"
)

// maxBatch is the most secrets one BatchGetSecretValue call may name.
const maxBatch = 20

// listPageSize is the MaxResults of ListSecrets pages (the API's maximum).
const listPageSize = 100

// listEntry is one secret found under a prefix.
type listEntry struct {
	name     string
	arn      string
	versions map[string][]string // VersionId -> stages, nil when not given
}

// listAll lists the secrets of every prefix source, each prefix once, in
// parallel. Entries are sorted by name.
func (l *Reader) listAll(ctx context.Context) (map[string][]listEntry, []error) {
	var prefixes []string
	for _, s := range l.sources {
		if s.kind == kindPrefix && !slices.Contains(prefixes, s.id) {
			prefixes = append(prefixes, s.id)
		}
	}
	out := make(map[string][]listEntry, len(prefixes))
	errs := make([]error, len(prefixes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range prefixes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entries, err := l.list(ctx, p)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			out[p] = entries
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out, slices.DeleteFunc(errs, func(err error) bool { return err == nil })
}

// list pages through ListSecrets. The name filter narrows the listing on
// AWS; names are checked here too, because some endpoints ignore filters.
func (l *Reader) list(ctx context.Context, prefix string) ([]listEntry, error) {
	in := &sm.ListSecretsInput{
		MaxResults: aws.Int32(listPageSize),
		Filters:    []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{strings.TrimSuffix(prefix, "/")}}},
	}
	var out []listEntry
	seenTokens := map[string]bool{}
	for {
		var page *sm.ListSecretsOutput
		err := l.send(ctx, opList, slog.String("prefix", prefix), func(ctx context.Context, optFns ...func(*sm.Options)) error {
			var err error
			page, err = l.client.ListSecrets(ctx, in, optFns...)
			return err
		})
		if err != nil {
			return nil, l.sourceError(opList, prefix, ref{}, err)
		}
		if page == nil {
			return nil, noAnswer(opList, prefix)
		}
		for _, e := range page.SecretList {
			name := aws.ToString(e.Name)
			if e.DeletedDate != nil {
				continue
			}
			if _, ok := underPrefix(name, prefix); !ok {
				continue
			}
			out = append(out, listEntry{name: name, arn: aws.ToString(e.ARN), versions: e.SecretVersionsToStages})
		}
		tok := aws.ToString(page.NextToken)
		if tok == "" || seenTokens[tok] {
			break
		}
		seenTokens[tok] = true
		in.NextToken = page.NextToken
	}
	slices.SortFunc(out, func(a, b listEntry) int { return strings.Compare(a.name, b.name) })
	out = slices.CompactFunc(out, func(a, b listEntry) bool { return a.name == b.name })
	return out, nil
}

// results collects the outcome of parallel fetches.
type results struct {
	mu   sync.Mutex
	got  map[ref]*secret
	errs map[ref]error
}

func (r *results) ok(k ref, s *secret) {
	r.mu.Lock()
	r.got[k] = s
	r.mu.Unlock()
}

func (r *results) fail(k ref, err error) {
	r.mu.Lock()
	r.errs[k] = err
	r.mu.Unlock()
}

// fetch reads every ref once. Refs that read AWSCURRENT go in
// BatchGetSecretValue calls of up to 20, run in parallel; a ref that pins a
// stage or version, a lone ref, and the refs of a batch the endpoint refuses
// are read with GetSecretValue, at most Options.Concurrency at a time. The
// errors come back in the order of refs.
func (l *Reader) fetch(ctx context.Context, refs []ref) (map[ref]*secret, []error) {
	res := &results{got: map[ref]*secret{}, errs: map[ref]error{}}
	var single, batchable []ref
	for _, r := range refs {
		if r.pinned() || l.noBatch.Load() {
			single = append(single, r)
		} else {
			batchable = append(batchable, r)
		}
	}
	var batches [][]ref
	for c := range slices.Chunk(batchable, maxBatch) {
		if len(c) == 1 {
			// One secret costs one call either way; GetSecretValue has the
			// larger quota (10,000/s against 100/s).
			single = append(single, c[0])
			continue
		}
		batches = append(batches, c)
	}

	var wg sync.WaitGroup
	getSem := make(chan struct{}, l.opts.Concurrency)
	getAll := func(rs []ref) {
		for _, r := range rs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				getSem <- struct{}{}
				defer func() { <-getSem }()
				l.getOne(ctx, r, res)
			}()
		}
	}
	batchSem := make(chan struct{}, l.opts.Concurrency)
	for _, c := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batchSem <- struct{}{}
			rest := l.batchGet(ctx, c, res)
			<-batchSem
			getAll(rest)
		}()
	}
	getAll(single)
	wg.Wait()
	for r, s := range res.got {
		if !strings.HasPrefix(r.id, "arn:") {
			l.learnHome(s.arn)
		}
	}

	var errs []error
	for _, r := range refs {
		if err, ok := res.errs[r]; ok && !(errors.Is(err, config.ErrNotFound) && l.optional(r)) {
			errs = append(errs, err)
		}
	}
	return res.got, errs
}

// optional reports whether every source that reads r is Optional, so that r
// not existing is no problem.
func (l *Reader) optional(r ref) bool {
	found := false
	for _, src := range l.sources {
		if src.kind == kindPrefix || src.ref(src.id) != r {
			continue
		}
		if !src.optional {
			return false
		}
		found = true
	}
	return found
}

// getOne reads one ref with GetSecretValue.
func (l *Reader) getOne(ctx context.Context, r ref, res *results) {
	in := &sm.GetSecretValueInput{SecretId: aws.String(r.id)}
	if r.stage != "" {
		in.VersionStage = aws.String(r.stage)
	}
	if r.versionID != "" {
		in.VersionId = aws.String(r.versionID)
	}
	var out *sm.GetSecretValueOutput
	err := l.send(ctx, opGet, slog.String("secret", r.label()), func(ctx context.Context, optFns ...func(*sm.Options)) error {
		var err error
		out, err = l.client.GetSecretValue(ctx, in, optFns...)
		return err
	})
	if err != nil {
		res.fail(r, l.sourceError(opGet, r.id, r, err))
		return
	}
	if out == nil {
		res.fail(r, noAnswer(opGet, r.id))
		return
	}
	if err := noValue(opGet, r.id, out.VersionId, out.SecretString, out.SecretBinary); err != nil {
		res.fail(r, err)
		return
	}
	res.ok(r, &secret{
		name:      aws.ToString(out.Name),
		arn:       aws.ToString(out.ARN),
		versionID: aws.ToString(out.VersionId),
		stages:    out.VersionStages,
		text:      aws.ToString(out.SecretString),
		hasText:   out.SecretString != nil,
		bin:       out.SecretBinary,
		created:   aws.ToTime(out.CreatedDate),
	})
}

// batchGet reads up to 20 refs with BatchGetSecretValue and returns the refs
// left to read with GetSecretValue: all of them when the call is refused,
// and any the answer did not mention.
func (l *Reader) batchGet(ctx context.Context, chunk []ref, res *results) []ref {
	pending := slices.Clone(chunk)
	in := &sm.BatchGetSecretValueInput{SecretIdList: make([]string, len(chunk))}
	for i, r := range chunk {
		in.SecretIdList[i] = r.id
	}
	take := func(match func(r ref) bool) (ref, bool) {
		for i, r := range pending {
			if match(r) {
				pending = slices.Delete(pending, i, i+1)
				return r, true
			}
		}
		return ref{}, false
	}
	seenTokens := map[string]bool{}
	for len(pending) > 0 {
		var out *sm.BatchGetSecretValueOutput
		err := l.send(ctx, opBatchGet, slog.Int("secrets", len(chunk)), func(ctx context.Context, optFns ...func(*sm.Options)) error {
			var err error
			out, err = l.client.BatchGetSecretValue(ctx, in, optFns...)
			return err
		})
		if err != nil {
			if refused, permanent := refusesBatch(err); refused {
				if permanent {
					l.noBatch.Store(true)
				}
				l.log.LogAttrs(ctx, slog.LevelDebug, "secretsmanager: BatchGetSecretValue refused, reading with GetSecretValue",
					slog.String("code", awscall.ErrorCode(err)), slog.Bool("permanent", permanent), slog.Int("secrets", len(pending)))
				return pending
			}
			for _, r := range pending {
				res.fail(r, l.sourceError(opBatchGet, r.id, r, err))
			}
			return nil
		}
		if out == nil {
			for _, r := range pending {
				res.fail(r, noAnswer(opBatchGet, r.id))
			}
			return nil
		}
		l.batchAnswer(out, take, res)
		tok := aws.ToString(out.NextToken)
		if tok == "" || seenTokens[tok] {
			break
		}
		seenTokens[tok] = true
		in.NextToken = out.NextToken
	}
	return pending
}

// batchAnswer records what one BatchGetSecretValue answer says of the refs
// still pending: a value, or an error from its Errors list. take removes the
// first pending ref that matches and reports whether there was one.
func (l *Reader) batchAnswer(out *sm.BatchGetSecretValueOutput, take func(match func(r ref) bool) (ref, bool), res *results) {
	for _, e := range out.SecretValues {
		name, arn := aws.ToString(e.Name), aws.ToString(e.ARN)
		r, ok := take(func(r ref) bool { return sameSecret(r.id, name, arn) })
		if !ok {
			continue
		}
		if err := noValue(opBatchGet, r.id, e.VersionId, e.SecretString, e.SecretBinary); err != nil {
			res.fail(r, err)
			continue
		}
		res.ok(r, &secret{
			name:      name,
			arn:       arn,
			versionID: aws.ToString(e.VersionId),
			stages:    e.VersionStages,
			text:      aws.ToString(e.SecretString),
			hasText:   e.SecretString != nil,
			bin:       e.SecretBinary,
			created:   aws.ToTime(e.CreatedDate),
		})
	}
	for _, e := range out.Errors {
		id := aws.ToString(e.SecretId)
		r, ok := take(func(r ref) bool { return r.id == id })
		if !ok {
			r, ok = take(func(r ref) bool { return sameSecret(r.id, nameOfARN(id), id) })
		}
		if !ok {
			continue
		}
		apiErr := &smithy.GenericAPIError{Code: aws.ToString(e.ErrorCode), Message: aws.ToString(e.Message), Fault: smithy.FaultClient}
		// A batch needs GetSecretValue on each secret; that is the
		// permission a per-secret AccessDenied is about.
		res.fail(r, l.sourceError(opGet, r.id, r, apiErr))
	}
}

// sameSecret reports whether id (a name, an ARN or a partial ARN) names the
// secret with the given name and ARN.
func sameSecret(id, name, arn string) bool {
	if id == "" {
		return false
	}
	if id == name || id == arn {
		return true
	}
	// A partial ARN lacks the "-" and 6 random characters that end the ARN.
	return strings.HasPrefix(id, "arn:") && len(arn) == len(id)+7 && strings.HasPrefix(arn, id) && arn[len(id)] == '-'
}

// nameOfARN returns the secret name in a full ARN, or s unchanged.
func nameOfARN(s string) string {
	_, rest, ok := strings.Cut(s, ":secret:")
	if !ok || len(rest) < 8 || rest[len(rest)-7] != '-' {
		return s
	}
	return rest[:len(rest)-7]
}

// describe calls DescribeSecret for each id, at most Options.Concurrency at a
// time, and returns the versions of each (VersionId -> stages). A secret
// scheduled for deletion is an error.
func (l *Reader) describe(ctx context.Context, ids []string) (map[string]map[string][]string, map[string]error) {
	versions := make(map[string]map[string][]string, len(ids))
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, l.opts.Concurrency)
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var out *sm.DescribeSecretOutput
			err := l.send(ctx, opDescribe, slog.String("secret", id), func(ctx context.Context, optFns ...func(*sm.Options)) error {
				var err error
				out, err = l.client.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(id)}, optFns...)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs[id] = l.sourceError(opDescribe, id, ref{id: id}, err)
			case out == nil:
				errs[id] = noAnswer(opDescribe, id)
			case out.DeletedDate != nil:
				errs[id] = &config.SourceError{Layer: LayerName, Source: id, Code: config.ErrDeleted, Message: deletedMessage}
			default:
				versions[id] = out.VersionIdsToStages
			}
		}()
	}
	wg.Wait()
	return versions, errs
}

// noValue is the error for an answer that names a version but carries neither
// SecretString nor SecretBinary, or whose VersionId is not one (see
// isVersionID). Secrets Manager never stores a version
// without a value, so such an answer is broken (a faulty proxy or emulator,
// a body rewritten on the way), not a secret that is empty: it is reported as
// config.ErrMalformed and never used as a value. The version is not recorded,
// so the source keeps the value and version it had (or stays unset) and is
// read again at the next refresh. It is not ErrTransient: the same endpoint
// is likely to answer the same way, so retrying sooner than the refresh
// interval would only spend calls.
func noValue(o op, id string, versionID, text *string, bin []byte) *config.SourceError {
	v := aws.ToString(versionID)
	if v != "" && !isVersionID(v) {
		return malformed(id, fmt.Sprintf("%s answered a VersionId that is not one (not shown): the answer was not used, and the secret is read again at the next refresh", o))
	}
	if text != nil || bin != nil {
		return nil
	}
	if v == "" {
		v = "(none given)"
	}
	return malformed(id, fmt.Sprintf("%s answered version %s with neither SecretString nor SecretBinary: the answer was not used, and the secret is read again at the next refresh", o, v))
}

// maxVersionLen bounds a VersionId: a UUID, or a ClientRequestToken of 32 to
// 64 characters.
const maxVersionLen = 64

// isVersionID reports whether s, the VersionId of an answer, is shaped like
// one: 1 to 64 bytes of printable ASCII other than space, double quote and
// backslash. A version is shown in Status, Explain and errors; text of any
// other shape is no VersionId Secrets Manager sends (an endpoint that quotes
// the value, or garbage), and none of it goes further.
func isVersionID(s string) bool {
	if s == "" || len(s) > maxVersionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// noAnswer is the error for a call whose client returned neither an answer
// nor an error: a broken client or wrapper, reported as config.ErrMalformed
// like any other answer that cannot be used.
func noAnswer(o op, id string) *config.SourceError {
	return malformed(id, fmt.Sprintf("%s returned no answer and no error: the client is broken; nothing was read", o))
}

// send makes one API call through Layer.call with the SDK options of ctx
// (see withSingleAttempt), and records on a call cut short by a deadline
// which deadline fired: Options.Timeout, or the caller's.
func (l *Reader) send(ctx context.Context, o op, subject slog.Attr, fn func(context.Context, ...func(*sm.Options)) error) error {
	var callerLeft time.Duration // the time left on the caller's deadline
	if dl, ok := ctx.Deadline(); ok {
		callerLeft = max(time.Until(dl), 0)
	}
	unsent := ctx.Err() != nil
	optFns := sdkOptions(ctx)
	err := l.call(ctx, o, subject, func(cctx context.Context) error { return fn(cctx, optFns...) })
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &deadlineError{caller: true, unsent: unsent, budget: callerLeft, err: err}
		}
		return &deadlineError{budget: l.opts.Timeout, err: err}
	}
	return err
}

// singleAttemptKey marks a context whose calls make one request each.
type singleAttemptKey struct{}

// withSingleAttempt returns a context whose API calls are sent once, without
// the SDK's retries. Refresh uses it once a store serves values (Prev != nil):
// the store retries a failed refresh with its own backoff, and SDK retries on
// top would multiply the requests sent during an outage (3 per call with the
// SDK's standard retryer). The first read keeps the SDK's quick retries, so a
// blip does not fail a service's start.
func withSingleAttempt(ctx context.Context) context.Context {
	return context.WithValue(ctx, singleAttemptKey{}, true)
}

// sdkOptions returns the per-call SDK options of ctx. A client that is not the
// SDK's may ignore them.
func sdkOptions(ctx context.Context) []func(*sm.Options) {
	if ctx.Value(singleAttemptKey{}) == nil {
		return nil
	}
	return []func(*sm.Options){func(o *sm.Options) { o.RetryMaxAttempts = 1 }}
}
