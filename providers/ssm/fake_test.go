package ssm

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// fakeAPI is an in-memory Parameter Store for unit tests: names, types,
// versions, paging, the Path and Name filters of DescribeParameters, and
// InvalidParameters.
type fakeAPI struct {
	mu     sync.Mutex
	params map[string]*fakeParam
	calls  map[string]int
	// fail gives an error for every call about a name or path under a
	// prefix (a call fails as a whole, as on AWS).
	fail map[string]error
	// broken makes the parameters under a prefix come back with the text
	// as their value under a type that is none (a malformed answer).
	broken map[string]string
	// noVersion makes DescribeParameters answer the parameters under a
	// prefix without a version.
	noVersion map[string]bool
	// hook, when set, runs at the start of every call with its ctx.
	hook func(ctx context.Context, op string) error
	// pageSize bounds the entries of one page (the API's own maximum if 0).
	pageSize int
	// token, when set, replaces the NextToken of every paged answer (a
	// token the fake did not give reads from the first page).
	token func(next *string) *string
}

type fakeParam struct {
	typ     types.ParameterType
	value   string
	version int64
}

func newFake() *fakeAPI {
	return &fakeAPI{params: map[string]*fakeParam{}, calls: map[string]int{}, fail: map[string]error{},
		broken: map[string]string{}, noVersion: map[string]bool{}}
}

// put creates or overwrites a parameter, bumping its version.
func (f *fakeAPI) put(name string, typ types.ParameterType, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.params[name]
	if !ok {
		p = &fakeParam{}
		f.params[name] = p
	}
	p.typ, p.value = typ, value
	p.version++
}

// bump gives every parameter under prefix a new version, its value kept.
func (f *fakeAPI) bump(prefix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n, p := range f.params {
		if n == prefix || strings.HasPrefix(n, prefix+"/") {
			p.version++
		}
	}
}

func (f *fakeAPI) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.params, name)
}

func (f *fakeAPI) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func apiErr(code, msg string) error {
	fault := smithy.FaultClient
	if code == "InternalServerError" {
		fault = smithy.FaultServer
	}
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: fault}
}

// start counts a call and returns its error, if any, for subjects.
func (f *fakeAPI) start(ctx context.Context, op string, subjects ...string) error {
	f.mu.Lock()
	f.calls[op]++
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, op); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for prefix, err := range f.fail {
		for _, s := range subjects {
			if s == prefix || strings.HasPrefix(s, prefix+"/") || strings.HasPrefix(prefix, s+"/") {
				return err
			}
		}
	}
	return nil
}

// marked reports whether name lies under a prefix of m. The lock is held.
func marked(m map[string]bool, name string) bool {
	for prefix, on := range m {
		if on && (name == prefix || strings.HasPrefix(name, prefix+"/")) {
			return true
		}
	}
	return false
}

// answer renders a parameter as GetParameters does. The lock is held.
func (f *fakeAPI) answer(name string, p *fakeParam) types.Parameter {
	out := types.Parameter{Name: aws.String(name), Type: p.typ, Value: aws.String(p.value), Version: p.version,
		ARN: aws.String("arn:aws:ssm:us-east-1:000000000000:parameter" + name)}
	for prefix, text := range f.broken {
		if name == prefix || strings.HasPrefix(name, prefix+"/") {
			out.Type, out.Value = "Bogus", aws.String(text)
		}
	}
	return out
}

// page cuts names at the token and returns the next token.
func page(names []string, token *string, size int) ([]string, *string) {
	start := 0
	if t := aws.ToString(token); t != "" {
		start, _ = strconv.Atoi(t)
	}
	start = min(start, len(names))
	end := min(start+size, len(names))
	if end < len(names) {
		return names[start:end], aws.String(strconv.Itoa(end))
	}
	return names[start:end], nil
}

// retoken applies f.token to the next token of an answer. The lock is held.
func (f *fakeAPI) retoken(next *string) *string {
	if f.token == nil {
		return next
	}
	return f.token(next)
}

func (f *fakeAPI) size(limit int32) int {
	if f.pageSize > 0 {
		return f.pageSize
	}
	return int(limit)
}

func (f *fakeAPI) GetParameters(ctx context.Context, in *awsssm.GetParametersInput, _ ...func(*awsssm.Options)) (*awsssm.GetParametersOutput, error) {
	if err := f.start(ctx, OpGetParameters, in.Names...); err != nil {
		return nil, err
	}
	if len(in.Names) > maxNamesPerGet {
		return nil, apiErr("ValidationException", "too many names")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &awsssm.GetParametersOutput{}
	for _, n := range in.Names {
		if p, ok := f.params[n]; ok {
			out.Parameters = append(out.Parameters, f.answer(n, p))
		} else {
			out.InvalidParameters = append(out.InvalidParameters, n)
		}
	}
	return out, nil
}

// under returns the sorted names under path. The lock is held.
func (f *fakeAPI) under(path string) []string {
	var names []string
	for n := range f.params {
		if strings.HasPrefix(n, strings.TrimSuffix(path, "/")+"/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func (f *fakeAPI) GetParametersByPath(ctx context.Context, in *awsssm.GetParametersByPathInput, _ ...func(*awsssm.Options)) (*awsssm.GetParametersByPathOutput, error) {
	if err := f.start(ctx, OpGetParametersByPath, aws.ToString(in.Path)); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	names, next := page(f.under(aws.ToString(in.Path)), in.NextToken, f.size(aws.ToInt32(in.MaxResults)))
	out := &awsssm.GetParametersByPathOutput{NextToken: f.retoken(next)}
	for _, n := range names {
		out.Parameters = append(out.Parameters, f.answer(n, f.params[n]))
	}
	return out, nil
}

func (f *fakeAPI) DescribeParameters(ctx context.Context, in *awsssm.DescribeParametersInput, _ ...func(*awsssm.Options)) (*awsssm.DescribeParametersOutput, error) {
	var names []string
	var subjects []string
	f.mu.Lock()
	for _, flt := range in.ParameterFilters {
		switch aws.ToString(flt.Key) {
		case "Path":
			subjects = append(subjects, flt.Values...)
			for _, v := range flt.Values {
				names = append(names, f.under(v)...)
			}
		case "Name":
			subjects = append(subjects, flt.Values...)
			for _, v := range flt.Values {
				if _, ok := f.params[v]; ok {
					names = append(names, v)
				}
			}
		}
	}
	f.mu.Unlock()
	if err := f.start(ctx, OpDescribeParameters, subjects...); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	sort.Strings(names)
	names = slices.Compact(names)
	names, next := page(names, in.NextToken, f.size(aws.ToInt32(in.MaxResults)))
	out := &awsssm.DescribeParametersOutput{NextToken: f.retoken(next)}
	for _, n := range names {
		p, ok := f.params[n]
		if !ok {
			continue
		}
		m := types.ParameterMetadata{Name: aws.String(n), Type: p.typ, Version: p.version}
		if marked(f.noVersion, n) {
			m.Version = 0
		}
		out.Parameters = append(out.Parameters, m)
	}
	return out, nil
}
