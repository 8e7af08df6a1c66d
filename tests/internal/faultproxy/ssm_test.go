package faultproxy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// The proxy tells SSM's JSON operations apart by X-Amz-Target
// (AmazonSSM.GetParameters), a rule's Match limits it to calls whose body
// holds a path, and the SSM faults answer as Parameter Store does.
func TestSSMOperations(t *testing.T) {
	t.Parallel()
	url := emu.Start(t)
	p, err := faultproxy.New(url, faultproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	direct := awsssm.NewFromConfig(emu.AWSConfig(url))
	c := awsssm.NewFromConfig(emu.AWSConfig(p.URL()))
	root := "/faultproxy/" + emu.UniqueName(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range []string{"a/x", "b/x"} {
		if _, err := direct.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(root + "/" + n), Value: aws.String("v"), Type: types.ParameterTypeString}); err != nil {
			t.Fatal(err)
		}
	}
	p.Add(faultproxy.Rule{Op: "GetParametersByPath", Match: root + "/b", Fault: faultproxy.KMSAccessDenied},
		faultproxy.Rule{Op: "GetParameters", Fault: faultproxy.BreakParameterType, Times: 1},
		faultproxy.Rule{Op: "GetParameters", Fault: faultproxy.AccessDenied, Times: 1})
	byPath := func(path string) error {
		_, err := c.GetParametersByPath(ctx, &awsssm.GetParametersByPathInput{Path: aws.String(path), Recursive: aws.Bool(true)})
		return err
	}
	var apiErr smithy.APIError
	if err := byPath(root + "/a"); err != nil {
		t.Errorf("a path the rule does not match failed: %v", err)
	}
	if err := byPath(root + "/b"); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Errorf("matched path: %v", err)
	}
	out, err := c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{root + "/a/x"}})
	if err != nil || len(out.Parameters) != 1 || out.Parameters[0].Type != "Malformed" || aws.ToString(out.Parameters[0].Value) != "v" {
		t.Errorf("BreakParameterType: %+v %v", out, err)
	}
	_, err = c.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{root + "/a/x"}})
	if !errors.As(err, &apiErr) || apiErr.ErrorMessage() != "User is not authorized to perform: ssm:GetParameters" {
		t.Errorf("AccessDenied: %v", err)
	}
	if p.Calls("GetParametersByPath") != 2 || p.Calls("GetParameters") < 2 {
		t.Errorf("calls: %d by path, %d get", p.Calls("GetParametersByPath"), p.Calls("GetParameters"))
	}
	if faultproxy.StripParameterValues.String() != "StripParameterValues" {
		t.Error(faultproxy.StripParameterValues.String())
	}
}
