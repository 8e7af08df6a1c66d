package ssm

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
)

// API limits.
const (
	maxNamesPerGet      = 10   // GetParameters names a call
	pageByPath          = 10   // GetParametersByPath MaxResults (the API's maximum)
	pageDescribe        = 50   // DescribeParameters MaxResults (the API's maximum)
	maxFilterValues     = 50   // values of one ParameterStringFilter
	maxValueSize        = 8192 // bytes of an advanced parameter's value (a standard one holds 4096)
	stringListSeparator = ","
)

// param is one parameter version as read. It holds the value: never log or
// print it.
type param struct {
	name    string
	typ     types.ParameterType
	version int64
	value   string
}

func (p *param) secure() bool { return p.typ == types.ParameterTypeSecureString }

func (p *param) versionText() string { return strconv.FormatInt(p.version, 10) }

// fromAnswer checks one parameter of an answer and returns it, or the
// reason it cannot be used. A parameter without a name, a value, a known
// type or a version is not one Parameter Store stores: it is never a value.
func fromAnswer(o op, p types.Parameter) (*param, string) {
	switch {
	case p.Value == nil:
		return nil, fmt.Sprintf("%s answered version %d without a value", o, p.Version)
	case p.Version <= 0:
		return nil, fmt.Sprintf("%s answered the parameter without a version", o)
	case len(*p.Value) > maxValueSize:
		return nil, fmt.Sprintf("%s answered a value of %d bytes, over Parameter Store's limit of %d bytes", o, len(*p.Value), maxValueSize)
	}
	switch p.Type {
	case types.ParameterTypeString, types.ParameterTypeStringList, types.ParameterTypeSecureString:
	default:
		// The type is not quoted: a broken answer may put anything there.
		return nil, fmt.Sprintf("%s answered a parameter whose type is not String, StringList or SecureString", o)
	}
	return &param{name: aws.ToString(p.Name), typ: p.Type, version: p.Version, value: *p.Value}, ""
}

// answeredName reports a name in an answer that Parameter Store would never
// store (a control character, a space, over 1011 characters): such a name
// is not a parameter, and printed as it is it could forge lines of a log
// or a terminal. The error quotes it escaped, cut to its first characters.
func answeredName(o op, name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("%s answered a parameter that Parameter Store would not store (%w): the parameter was not used", o, err)
	}
	return nil
}

// listing is what one read of a path found.
type listing struct {
	params []*param
	errs   []error // malformed entries; the listing is still used
}

// byPath reads every parameter under path with GetParametersByPath,
// recursively and decrypted, at most Options.MaxPages pages.
func (l *Reader) byPath(ctx context.Context, path string) (*listing, error) {
	in := &awsssm.GetParametersByPathInput{
		Path: aws.String(path), Recursive: aws.Bool(true), WithDecryption: aws.Bool(true), MaxResults: aws.Int32(pageByPath),
	}
	out := &listing{}
	seenTokens := map[string]bool{}
	for page := 1; ; page++ {
		if page > l.opts.MaxPages {
			return nil, tooManyPages(opByPath, path, l.opts.MaxPages, pageByPath)
		}
		var ans *awsssm.GetParametersByPathOutput
		err := l.call(ctx, opByPath, slog.String("path", path), func(ctx context.Context, optFns ...func(*awsssm.Options)) error {
			var err error
			ans, err = l.client.GetParametersByPath(ctx, in, optFns...)
			return err
		})
		if err != nil {
			return nil, l.sourceError(opByPath, path, err)
		}
		if ans == nil {
			return nil, noAnswer(opByPath, path)
		}
		for _, p := range ans.Parameters {
			name := aws.ToString(p.Name)
			if _, ok := under(name, path); !ok {
				continue // not under the path: some endpoints ignore it
			}
			if err := answeredName(opByPath, name); err != nil {
				out.errs = append(out.errs, malformed(path, err.Error()))
				continue
			}
			got, bad := fromAnswer(opByPath, p)
			if bad != "" {
				out.errs = append(out.errs, malformed(name, bad+": the parameter was not used"))
				continue
			}
			out.params = append(out.params, got)
		}
		tok := aws.ToString(ans.NextToken)
		if tok == "" {
			break
		}
		if seenTokens[tok] {
			return nil, repeatedToken(opByPath, path)
		}
		seenTokens[tok] = true
		in.NextToken = ans.NextToken
	}
	sort.Slice(out.params, func(i, j int) bool { return out.params[i].name < out.params[j].name })
	out.params = slices.CompactFunc(out.params, func(a, b *param) bool { return a.name == b.name })
	return out, nil
}

// fetched is the outcome of reading parameters by name.
type fetched struct {
	mu      sync.Mutex
	got     map[string]*param
	missing map[string]bool  // named in InvalidParameters
	errs    map[string]error // by name
}

// get reads names with GetParameters, ten a call, at most
// Options.Concurrency calls at once. A call holds the names of one spec
// only: a call fails as a whole (a name the caller may not read denies the
// call), so a failing spec does not hold back the others.
func (l *Reader) get(ctx context.Context, names []string) *fetched {
	res := &fetched{got: map[string]*param{}, missing: map[string]bool{}, errs: map[string]error{}}
	var order []int
	groups := map[int][]string{}
	for _, n := range names {
		g := l.specOf(n)
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], n)
	}
	var chunks [][]string
	for _, g := range order {
		chunks = append(chunks, slices.Collect(slices.Chunk(groups[g], maxNamesPerGet))...)
	}
	l.parallel(len(chunks), func(i int) { l.getChunk(ctx, chunks[i], res) })
	return res
}

// specOf returns the index of the first spec that reads the parameter name,
// or -1.
func (l *Reader) specOf(name string) int {
	for i, s := range l.sources {
		if s.kind == kindPath {
			if _, ok := under(name, s.root); ok {
				return i
			}
			continue
		}
		if slices.Contains(s.ParameterNames(), name) {
			return i
		}
	}
	return -1
}

func (l *Reader) getChunk(ctx context.Context, chunk []string, res *fetched) {
	in := &awsssm.GetParametersInput{Names: chunk, WithDecryption: aws.Bool(true)}
	var ans *awsssm.GetParametersOutput
	subject := slog.Any("parameters", chunk)
	err := l.call(ctx, opGet, subject, func(ctx context.Context, optFns ...func(*awsssm.Options)) error {
		var err error
		ans, err = l.client.GetParameters(ctx, in, optFns...)
		return err
	})
	res.mu.Lock()
	defer res.mu.Unlock()
	if err != nil || ans == nil {
		for _, n := range chunk {
			if err != nil {
				res.errs[n] = l.sourceError(opGet, n, err)
			} else {
				res.errs[n] = noAnswer(opGet, n)
			}
		}
		return
	}
	for _, p := range ans.Parameters {
		name := aws.ToString(p.Name)
		if !slices.Contains(chunk, name) {
			continue // not asked for
		}
		got, bad := fromAnswer(opGet, p)
		if bad != "" {
			res.errs[name] = malformed(name, bad+": the parameter was not used, and is read again at the next refresh")
			continue
		}
		res.got[name] = got
	}
	for _, n := range ans.InvalidParameters {
		if slices.Contains(chunk, n) {
			res.missing[n] = true
		}
	}
	for _, n := range chunk {
		_, ok := res.got[n]
		_, bad := res.errs[n]
		if !ok && !bad && !res.missing[n] {
			res.errs[n] = malformed(n, "GetParameters answered neither the parameter nor its absence (InvalidParameters): nothing was read")
		}
	}
}

// described is the version of each parameter DescribeParameters reported.
type described map[string]int64

// describePath lists the versions of every parameter under path with
// DescribeParameters (a Path filter, recursive), at most Options.MaxPages
// pages. It reads no value.
func (l *Reader) describePath(ctx context.Context, path string) (described, []error, error) {
	filter := types.ParameterStringFilter{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{path}}
	return l.describe(ctx, path, filter, func(name string) bool { _, ok := under(name, path); return ok })
}

// describeNames asks for the versions of names, 50 a call, at most
// Options.Concurrency calls at once. A name the answers leave out does not
// exist. errs are by name.
func (l *Reader) describeNames(ctx context.Context, names []string) (described, map[string]error) {
	out := described{}
	errs := map[string]error{}
	var mu sync.Mutex
	chunks := slices.Collect(slices.Chunk(names, maxFilterValues))
	l.parallel(len(chunks), func(i int) {
		chunk := chunks[i]
		filter := types.ParameterStringFilter{Key: aws.String("Name"), Option: aws.String("Equals"), Values: chunk}
		got, bad, err := l.describe(ctx, chunk[0], filter, func(name string) bool { return slices.Contains(chunk, name) })
		mu.Lock()
		defer mu.Unlock()
		for _, n := range chunk {
			switch {
			case err != nil:
				errs[n] = withSource(err, n)
			case got[n] > 0:
				out[n] = got[n]
			}
		}
		for _, e := range bad {
			if se, ok := e.(*config.SourceError); ok {
				errs[se.Source] = e
			}
		}
	})
	return out, errs
}

// describe pages through DescribeParameters with filter and returns the
// version of each parameter keep accepts. Entries without a name are
// skipped; one without a version is malformed (bad), and left out.
func (l *Reader) describe(ctx context.Context, subject string, filter types.ParameterStringFilter, keep func(string) bool) (described, []error, error) {
	in := &awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{filter}, MaxResults: aws.Int32(pageDescribe)}
	out := described{}
	var bad []error
	seenTokens := map[string]bool{}
	for page := 1; ; page++ {
		if page > l.opts.MaxPages {
			return nil, nil, tooManyPages(opDescribe, subject, l.opts.MaxPages, pageDescribe)
		}
		var ans *awsssm.DescribeParametersOutput
		err := l.call(ctx, opDescribe, slog.String("subject", subject), func(ctx context.Context, optFns ...func(*awsssm.Options)) error {
			var err error
			ans, err = l.client.DescribeParameters(ctx, in, optFns...)
			return err
		})
		if err != nil {
			return nil, nil, l.sourceError(opDescribe, subject, err)
		}
		if ans == nil {
			return nil, nil, noAnswer(opDescribe, subject)
		}
		for _, m := range ans.Parameters {
			name := aws.ToString(m.Name)
			switch {
			case name == "" || !keep(name):
			case answeredName(opDescribe, name) != nil:
				bad = append(bad, malformed(subject, answeredName(opDescribe, name).Error()))
			case m.Version <= 0:
				bad = append(bad, malformed(name, "DescribeParameters answered the parameter without a version: it keeps the version in use"))
			default:
				out[name] = m.Version
			}
		}
		tok := aws.ToString(ans.NextToken)
		if tok == "" {
			break
		}
		if seenTokens[tok] {
			return nil, nil, repeatedToken(opDescribe, subject)
		}
		seenTokens[tok] = true
		in.NextToken = ans.NextToken
	}
	return out, bad, nil
}

// parallel runs fn(0..n-1), at most Options.Concurrency at once, and waits.
func (l *Reader) parallel(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, l.opts.Concurrency)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}
