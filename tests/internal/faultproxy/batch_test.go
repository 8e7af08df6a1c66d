package faultproxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

const opBatch = "BatchGetSecretValue"

func batchGet(t *testing.T, c *secretsmanager.Client, in *secretsmanager.BatchGetSecretValueInput) (*secretsmanager.BatchGetSecretValueOutput, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return c.BatchGetSecretValue(ctx, in)
}

func TestBatchShimReturnsValuesAndErrors(t *testing.T) {
	t.Parallel()
	p, c, name, value := setup(t, faultproxy.Options{BatchShim: true})
	binName := emu.UniqueName(t, "binary")
	binValue := []byte{0, 1, 2, 0xff}
	binARN := emu.CreateBinary(t, c, binName, binValue)
	rotated := "rotated-" + name
	version := emu.Rotate(t, c, name, rotated)
	missing := emu.UniqueName(t, "missing")
	// Faults on GetSecretValue must not reach the shim's inner calls.
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.AccessDenied})
	p.ResetCalls()

	out, err := batchGet(t, c, &secretsmanager.BatchGetSecretValueInput{
		SecretIdList: []string{name, binARN, missing},
	})
	if err != nil {
		t.Fatalf("BatchGetSecretValue: %v", err)
	}
	if len(out.SecretValues) != 2 {
		t.Fatalf("got %d SecretValues, want 2: %+v", len(out.SecretValues), out.SecretValues)
	}
	s, b := out.SecretValues[0], out.SecretValues[1]
	if aws.ToString(s.Name) != name || aws.ToString(s.SecretString) != rotated || aws.ToString(s.VersionId) != version {
		t.Errorf("string entry = {Name %q, SecretString %q, VersionId %q}, want {%q, %q, %q}",
			aws.ToString(s.Name), aws.ToString(s.SecretString), aws.ToString(s.VersionId), name, rotated, version)
	}
	if len(s.VersionStages) != 1 || s.VersionStages[0] != "AWSCURRENT" {
		t.Errorf("string entry VersionStages = %v, want [AWSCURRENT]", s.VersionStages)
	}
	if s.ARN == nil || s.CreatedDate == nil || s.CreatedDate.IsZero() {
		t.Errorf("string entry lacks ARN or CreatedDate: %+v", s)
	}
	if aws.ToString(b.ARN) != binARN || aws.ToString(b.Name) != binName || !bytes.Equal(b.SecretBinary, binValue) || b.SecretString != nil {
		t.Errorf("binary entry = {ARN %q, Name %q, SecretBinary %v, SecretString %v}, want {%q, %q, %v, nil}",
			aws.ToString(b.ARN), aws.ToString(b.Name), b.SecretBinary, b.SecretString, binARN, binName, binValue)
	}
	if len(out.Errors) != 1 {
		t.Fatalf("got %d Errors, want 1: %+v", len(out.Errors), out.Errors)
	}
	e := out.Errors[0]
	if aws.ToString(e.SecretId) != missing || aws.ToString(e.ErrorCode) != "ResourceNotFoundException" || aws.ToString(e.Message) == "" {
		t.Errorf("error entry = {SecretId %q, ErrorCode %q, Message %q}, want {%q, ResourceNotFoundException, non-empty}",
			aws.ToString(e.SecretId), aws.ToString(e.ErrorCode), aws.ToString(e.Message), missing)
	}
	_ = value
	wantCalls(t, p, opBatch, 1)
	wantCalls(t, p, opGet, 0)
	wantCalls(t, p, "", 1)
}

func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want APIError %s", err, code)
	}
}

func TestBatchShimLimits(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{BatchShim: true})

	ids := make([]string, 20)
	for i := range ids {
		ids[i] = name
	}
	out, err := batchGet(t, c, &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids})
	if err != nil {
		t.Fatalf("20 ids: %v", err)
	}
	if len(out.SecretValues) != 20 {
		t.Errorf("20 ids: got %d SecretValues", len(out.SecretValues))
	}

	ids = append(ids, name)
	_, err = batchGet(t, c, &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids})
	wantAPIError(t, err, "ValidationException")

	_, err = batchGet(t, c, &secretsmanager.BatchGetSecretValueInput{
		Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{name}}},
	})
	wantAPIError(t, err, "ValidationException")
	wantCalls(t, p, opBatch, 3)
}

func TestBatchFaultsApplyBeforeShim(t *testing.T) {
	t.Parallel()
	p, c, name, value := setup(t, faultproxy.Options{BatchShim: true})
	p.Add(faultproxy.Rule{Op: opBatch, Fault: faultproxy.Throttle, Times: 1})
	out, err := batchGet(t, c, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{name}})
	if err != nil {
		t.Fatalf("BatchGetSecretValue: %v", err)
	}
	if len(out.SecretValues) != 1 || aws.ToString(out.SecretValues[0].SecretString) != value {
		t.Errorf("SecretValues = %+v, want one with %q", out.SecretValues, value)
	}
	wantCalls(t, p, opBatch, 2)

	p.ClearRules()
	p.Add(faultproxy.Rule{Op: opBatch, Fault: faultproxy.AccessDenied})
	_, err = batchGet(t, c, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{name}})
	wantAPIError(t, err, "AccessDeniedException")
}

func TestBatchWithoutShimIsInvalidAction(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	_, err := batchGet(t, c, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{name}})
	wantAPIError(t, err, "InvalidAction")
	wantCalls(t, p, opBatch, 1)
}

func ExampleProxy() {
	// In a test, the target is the URL returned by emu.Start.
	p, err := faultproxy.New("http://127.0.0.1:4566", faultproxy.Options{BatchShim: true})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	// Throttle the first GetSecretValue, then let every call through.
	p.Add(faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.Throttle, Times: 1})
	fmt.Println(p.Calls("GetSecretValue"))
	// Output: 0
}
