package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

// fakeAPI is an in-memory API for unit tests. It models what the layer
// relies on: names, ARNs and partial ARNs, version stages, batch Errors[],
// paging, and ListSecrets that ignores Filters.
type fakeAPI struct {
	mu      sync.Mutex
	secrets map[string]*fakeSecret // by name
	seq     int
	calls   map[string]int
	batches [][]string

	// batchErr, when set, is returned by every BatchGetSecretValue call.
	batchErr error
	// getErr and describeErr give per-secret errors by id; in a batch, getErr
	// becomes an entry of Errors[] with the same code.
	getErr      map[string]error
	describeErr map[string]error
	listErr     error
	pageSize    int
	// hook, when set, runs at the start of every call with its ctx.
	hook func(ctx context.Context, op string) error
}

type fakeSecret struct {
	name     string
	arn      string
	versions map[string]*fakeVersion
	deleted  bool
}

type fakeVersion struct {
	text   *string
	bin    []byte
	stages []string
}

func newFake() *fakeAPI {
	return &fakeAPI{
		secrets:     map[string]*fakeSecret{},
		calls:       map[string]int{},
		getErr:      map[string]error{},
		describeErr: map[string]error{},
	}
}

func fakeARN(name string) string {
	return "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + name + "-AbCdEf"
}

func (f *fakeAPI) nextVersion() string {
	f.seq++
	return fmt.Sprintf("v%02d-%08x", f.seq, f.seq*7919)
}

// put creates the secret or adds a new AWSCURRENT version, moving the old
// one to AWSPREVIOUS; it returns the new VersionId.
func (f *fakeAPI) put(name string, text *string, bin []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.secrets[name]
	if !ok {
		s = &fakeSecret{name: name, arn: fakeARN(name), versions: map[string]*fakeVersion{}}
		f.secrets[name] = s
	}
	for _, v := range s.versions {
		v.stages = slices.DeleteFunc(v.stages, func(st string) bool { return st == StagePrevious })
		if i := slices.Index(v.stages, StageCurrent); i >= 0 {
			v.stages[i] = StagePrevious
		}
	}
	id := f.nextVersion()
	s.versions[id] = &fakeVersion{text: text, bin: bin, stages: []string{StageCurrent}}
	return id
}

func (f *fakeAPI) putString(name, value string) string { return f.put(name, aws.String(value), nil) }
func (f *fakeAPI) putBinary(name string, b []byte) string {
	return f.put(name, nil, b)
}

func (f *fakeAPI) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.secrets, name)
}

func (f *fakeAPI) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeAPI) find(id string) *fakeSecret {
	if s, ok := f.secrets[id]; ok {
		return s
	}
	for _, s := range f.secrets {
		if sameSecret(id, s.name, s.arn) {
			return s
		}
	}
	return nil
}

func (f *fakeAPI) begin(ctx context.Context, op string) error {
	f.mu.Lock()
	f.calls[op]++
	hook := f.hook
	f.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		return fmt.Errorf("fake: %s called without a deadline", op)
	}
	if hook != nil {
		return hook(ctx, op)
	}
	return nil
}

func notFound(id string) error {
	return &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}
}

// lookup resolves id and version under f.mu.
func (f *fakeAPI) lookup(id, stage, versionID string) (*fakeSecret, string, *fakeVersion, error) {
	if err := f.getErr[id]; err != nil {
		return nil, "", nil, err
	}
	s := f.find(id)
	if s == nil {
		return nil, "", nil, notFound(id)
	}
	if s.deleted {
		return nil, "", nil, &types.InvalidRequestException{Message: aws.String("You can't perform this operation on the secret because it was marked for deletion.")}
	}
	if versionID != "" {
		v, ok := s.versions[versionID]
		if !ok {
			return nil, "", nil, notFound(id)
		}
		return s, versionID, v, nil
	}
	if stage == "" {
		stage = StageCurrent
	}
	for vid, v := range s.versions {
		if slices.Contains(v.stages, stage) {
			return s, vid, v, nil
		}
	}
	return nil, "", nil, notFound(id)
}

func (f *fakeAPI) GetSecretValue(ctx context.Context, in *sm.GetSecretValueInput, _ ...func(*sm.Options)) (*sm.GetSecretValueOutput, error) {
	if err := f.begin(ctx, OpGetSecretValue); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, vid, v, err := f.lookup(aws.ToString(in.SecretId), aws.ToString(in.VersionStage), aws.ToString(in.VersionId))
	if err != nil {
		return nil, err
	}
	return &sm.GetSecretValueOutput{
		Name: aws.String(s.name), ARN: aws.String(s.arn), VersionId: aws.String(vid),
		VersionStages: slices.Clone(v.stages), SecretString: v.text, SecretBinary: v.bin,
	}, nil
}

func (f *fakeAPI) BatchGetSecretValue(ctx context.Context, in *sm.BatchGetSecretValueInput, _ ...func(*sm.Options)) (*sm.BatchGetSecretValueOutput, error) {
	if err := f.begin(ctx, OpBatchGetSecretValue); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, slices.Clone(in.SecretIdList))
	if f.batchErr != nil {
		return nil, f.batchErr
	}
	if len(in.SecretIdList) > maxBatch {
		return nil, &types.InvalidParameterException{Message: aws.String("too many secrets")}
	}
	out := &sm.BatchGetSecretValueOutput{}
	for _, id := range in.SecretIdList {
		s, vid, v, err := f.lookup(id, "", "")
		if err != nil {
			var apiErr smithy.APIError
			code, msg := "InternalServiceError", "per-secret failure"
			if errors.As(err, &apiErr) {
				code, msg = apiErr.ErrorCode(), apiErr.ErrorMessage()
			}
			out.Errors = append(out.Errors, types.APIErrorType{SecretId: aws.String(id), ErrorCode: aws.String(code), Message: aws.String(msg)})
			continue
		}
		out.SecretValues = append(out.SecretValues, types.SecretValueEntry{
			Name: aws.String(s.name), ARN: aws.String(s.arn), VersionId: aws.String(vid),
			VersionStages: slices.Clone(v.stages), SecretString: v.text, SecretBinary: v.bin,
		})
	}
	return out, nil
}

func (f *fakeAPI) DescribeSecret(ctx context.Context, in *sm.DescribeSecretInput, _ ...func(*sm.Options)) (*sm.DescribeSecretOutput, error) {
	if err := f.begin(ctx, OpDescribeSecret); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.SecretId)
	if err := f.describeErr[id]; err != nil {
		return nil, err
	}
	s := f.find(id)
	if s == nil {
		return nil, notFound(id)
	}
	out := &sm.DescribeSecretOutput{Name: aws.String(s.name), ARN: aws.String(s.arn), VersionIdsToStages: map[string][]string{}}
	for vid, v := range s.versions {
		if len(v.stages) > 0 {
			out.VersionIdsToStages[vid] = slices.Clone(v.stages)
		}
	}
	if s.deleted {
		out.DeletedDate = aws.Time(aws.ToTime(nil))
	}
	return out, nil
}

func (f *fakeAPI) ListSecrets(ctx context.Context, in *sm.ListSecretsInput, _ ...func(*sm.Options)) (*sm.ListSecretsOutput, error) {
	if err := f.begin(ctx, OpListSecrets); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	names := make([]string, 0, len(f.secrets))
	for n := range f.secrets {
		names = append(names, n)
	}
	slices.Sort(names)
	start, _ := strconv.Atoi(aws.ToString(in.NextToken))
	size := f.pageSize
	if size == 0 {
		size = int(aws.ToInt32(in.MaxResults))
	}
	end := min(start+size, len(names))
	out := &sm.ListSecretsOutput{}
	for _, n := range names[start:end] {
		s := f.secrets[n]
		e := types.SecretListEntry{Name: aws.String(n), ARN: aws.String(s.arn), SecretVersionsToStages: map[string][]string{}}
		for vid, v := range s.versions {
			if len(v.stages) > 0 {
				e.SecretVersionsToStages[vid] = slices.Clone(v.stages)
			}
		}
		out.SecretList = append(out.SecretList, e)
	}
	if end < len(names) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

// apiErr builds an error with a code, as the SDK returns for codes without a
// typed error.
func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: strings.ToLower(code) + " from fake"}
}
