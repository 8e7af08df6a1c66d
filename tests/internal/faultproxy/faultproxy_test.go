package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.uber.org/goleak"

	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, emu.LeakOptions()...)
}

const opGet = "GetSecretValue"

// setup starts kumo and a proxy in front of it, creates one string secret,
// and returns a client that talks to kumo through the proxy, plus the
// secret's name and value.
func setup(t *testing.T, opts faultproxy.Options) (*faultproxy.Proxy, *secretsmanager.Client, string, string) {
	t.Helper()
	p, err := faultproxy.New(emu.Start(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	c := emu.Client(p.URL())
	name := emu.UniqueName(t, "secret")
	value := "value-of-" + name
	emu.CreateString(t, c, name, value)
	p.ResetCalls()
	return p, c, name, value
}

func get(t *testing.T, c *secretsmanager.Client, name string, timeout time.Duration) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.SecretString), nil
}

func wantCalls(t *testing.T, p *faultproxy.Proxy, op string, want int) {
	t.Helper()
	if got := p.Calls(op); got != want {
		t.Errorf("Calls(%q) = %d, want %d", op, got, want)
	}
}

func TestForwardsWithoutRules(t *testing.T) {
	t.Parallel()
	p, c, name, value := setup(t, faultproxy.Options{})
	got, err := get(t, c, name, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got != value {
		t.Errorf("value = %q, want %q", got, value)
	}
	wantCalls(t, p, opGet, 1)
	wantCalls(t, p, "", 1)
}

func TestThrottleOnceIsRetried(t *testing.T) {
	t.Parallel()
	p, c, name, value := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.Throttle, Times: 1})
	got, err := get(t, c, name, 3*time.Second)
	if err != nil {
		t.Fatalf("GetSecretValue: %v", err)
	}
	if got != value {
		t.Errorf("value = %q, want %q", got, value)
	}
	wantCalls(t, p, opGet, 2)
}

func TestThrottleForeverSurfaces(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.Throttle})
	_, err := get(t, c, name, 3*time.Second)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Fatalf("err = %v, want APIError ThrottlingException", err)
	}
	wantCalls(t, p, opGet, 3)
}

func TestInternalErrorForeverSurfacesAfterRetries(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.InternalError})
	_, err := get(t, c, name, 3*time.Second)
	var ise *types.InternalServiceError
	if !errors.As(err, &ise) {
		t.Fatalf("err = %v (%T), want *types.InternalServiceError", err, err)
	}
	var maxErr *retry.MaxAttemptsError
	if !errors.As(err, &maxErr) {
		t.Errorf("err = %v, want a retry.MaxAttemptsError", err)
	}
	wantCalls(t, p, opGet, 3)
}

func TestLatencyWithinDeadline(t *testing.T) {
	t.Parallel()
	p, c, name, value := setup(t, faultproxy.Options{})
	const delay = 50 * time.Millisecond
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.Latency, Delay: delay})
	start := time.Now()
	got, err := get(t, c, name, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got != value {
		t.Errorf("value = %q, want %q", got, value)
	}
	if el := time.Since(start); el < delay {
		t.Errorf("call took %v, want at least %v", el, delay)
	}
	wantCalls(t, p, opGet, 1)
}

func TestLatencyBeyondDeadline(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.Latency, Delay: 10 * time.Second})
	start := time.Now()
	_, err := get(t, c, name, 100*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("call took %v, want it to end at the deadline", el)
	}
}

func TestResetGivesConnectionError(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.Reset})
	_, err := get(t, c, name, 3*time.Second)
	if err == nil {
		t.Fatal("GetSecretValue succeeded through a reset connection")
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		t.Fatalf("err = %v, want a connection error, not an API error", err)
	}
	var se *smithyhttp.RequestSendError
	if !errors.As(err, &se) {
		t.Errorf("err = %v (%T), want a *smithyhttp.RequestSendError", err, err)
	}
	if n := p.Calls(opGet); n < 2 {
		t.Errorf("Calls = %d, want the SDK to retry the reset connection", n)
	}
}

func TestResetOnceIsRetried(t *testing.T) {
	t.Parallel()
	p, c, name, value := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.Reset, Times: 1})
	got, err := get(t, c, name, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got != value {
		t.Errorf("value = %q, want %q", got, value)
	}
	wantCalls(t, p, opGet, 2)
}

func TestHangEndsAtClientDeadline(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.Hang})
	start := time.Now()
	_, err := get(t, c, name, 150*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("call took %v, want it to end at the deadline", el)
	}
	wantCalls(t, p, opGet, 1)
}

func TestCloseReleasesHungCalls(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.Hang})
	done := make(chan error, 1)
	go func() {
		_, err := get(t, c, name, 5*time.Second)
		done <- err
	}()
	deadline := time.Now().Add(3 * time.Second)
	for p.Calls(opGet) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the call never reached the proxy")
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Close took %v with a hung call", el)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("the hung call succeeded after Close")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the hung call did not end after Close")
	}
}

func TestDecryptionFailureIsTypedAndNotRetried(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.DecryptionFailure})
	_, err := get(t, c, name, 3*time.Second)
	var df *types.DecryptionFailure
	if !errors.As(err, &df) {
		t.Fatalf("err = %v (%T), want *types.DecryptionFailure", err, err)
	}
	wantCalls(t, p, opGet, 1)
}

func TestAccessDenied(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.AccessDenied})
	_, err := get(t, c, name, 3*time.Second)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("err = %v, want APIError AccessDeniedException", err)
	}
	wantCalls(t, p, opGet, 1)
}

func TestNotFoundIsTyped(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.NotFound})
	_, err := get(t, c, name, 3*time.Second)
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v (%T), want *types.ResourceNotFoundException", err, err)
	}
	wantCalls(t, p, opGet, 1)
}

func TestAfterAndTimesWindow(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.DecryptionFailure, After: 1, Times: 2})
	want := []bool{true, false, false, true, true} // true: call succeeds
	for i, ok := range want {
		_, err := get(t, c, name, 3*time.Second)
		if (err == nil) != ok {
			t.Errorf("call %d: err = %v, want success %v", i+1, err, ok)
		}
	}
	wantCalls(t, p, opGet, len(want))
}

func TestRulesTakeCallsInOrder(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(
		faultproxy.Rule{Op: opGet, Fault: faultproxy.NotFound, Times: 1},
		faultproxy.Rule{Fault: faultproxy.AccessDenied, Times: 1},
	)
	_, err := get(t, c, name, 3*time.Second)
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("call 1: err = %v, want ResourceNotFoundException", err)
	}
	_, err = get(t, c, name, 3*time.Second)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("call 2: err = %v, want AccessDeniedException", err)
	}
	if _, err := get(t, c, name, 3*time.Second); err != nil {
		t.Errorf("call 3: %v", err)
	}
}

func TestRuleMatchesOnlyItsOp(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: "DescribeSecret", Fault: faultproxy.AccessDenied})
	if _, err := get(t, c, name, 3*time.Second); err != nil {
		t.Fatalf("GetSecretValue: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("DescribeSecret: err = %v, want AccessDeniedException", err)
	}
	wantCalls(t, p, opGet, 1)
	wantCalls(t, p, "DescribeSecret", 1)
	wantCalls(t, p, "", 2)
}

func TestClearRulesAndResetCalls(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Fault: faultproxy.NotFound})
	if _, err := get(t, c, name, 3*time.Second); err == nil {
		t.Fatal("want an error while the rule is set")
	}
	p.ClearRules()
	if _, err := get(t, c, name, 3*time.Second); err != nil {
		t.Fatalf("after ClearRules: %v", err)
	}
	wantCalls(t, p, opGet, 2)
	p.ResetCalls()
	wantCalls(t, p, opGet, 0)
	wantCalls(t, p, "", 0)
}

func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	p, c, name, value := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.Throttle, Times: 2}) // at most 2 per caller: within its 3 attempts
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			got, err := get(t, c, name, 3*time.Second)
			if err == nil && got != value {
				err = fmt.Errorf("value = %q, want %q", got, value)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	wantCalls(t, p, opGet, n+2)
}

func TestNewRejectsBadTarget(t *testing.T) {
	t.Parallel()
	if p, err := faultproxy.New("not a url", faultproxy.Options{}); err == nil {
		p.Close()
		t.Fatal("New accepted a relative target")
	}
}

func TestFaultString(t *testing.T) {
	t.Parallel()
	if got := faultproxy.Throttle.String(); got != "Throttle" {
		t.Errorf("Throttle.String() = %q", got)
	}
	if got := faultproxy.Fault(99).String(); got != "Fault(99)" {
		t.Errorf("Fault(99).String() = %q", got)
	}
}

func TestUnavailableIsRetriedBySDK(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.Unavailable})
	_, err := get(t, c, name, 10*time.Second)
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want HTTP 503", err)
	}
	wantCalls(t, p, opGet, 3) // the SDK's standard retryer: 3 attempts
}

func TestExpiredToken(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{})
	p.Add(faultproxy.Rule{Op: opGet, Fault: faultproxy.ExpiredToken})
	_, err := get(t, c, name, 3*time.Second)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ExpiredTokenException" {
		t.Fatalf("err = %v, want APIError ExpiredTokenException", err)
	}
}

func TestStripValue(t *testing.T) {
	t.Parallel()
	for _, batch := range []bool{false, true} {
		p, c, name, _ := setup(t, faultproxy.Options{BatchShim: batch})
		p.Add(faultproxy.Rule{Fault: faultproxy.StripValue})
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if batch {
			out, err := c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{name}})
			if err != nil || len(out.SecretValues) != 1 || out.SecretValues[0].SecretString != nil || aws.ToString(out.SecretValues[0].VersionId) == "" {
				t.Errorf("batch = %+v, %v; want one entry with a version and no value", out, err)
			}
		} else {
			out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
			if err != nil || out.SecretString != nil || out.SecretBinary != nil || aws.ToString(out.VersionId) == "" {
				t.Errorf("get = %+v, %v; want a version and no value", out, err)
			}
		}
		cancel()
	}
}

func TestDamagedBodies(t *testing.T) {
	t.Parallel()
	for _, f := range []faultproxy.Fault{faultproxy.TruncateBody, faultproxy.ShortBody} {
		p, c, name, _ := setup(t, faultproxy.Options{})
		p.Add(faultproxy.Rule{Op: opGet, Fault: f, Times: 1})
		if _, err := get(t, c, name, 3*time.Second); err == nil {
			t.Errorf("%v: no error", f)
		}
		if v, err := get(t, c, name, 3*time.Second); err != nil || v == "" {
			t.Errorf("%v: after the fault: %q, %v", f, v, err)
		}
	}
}
