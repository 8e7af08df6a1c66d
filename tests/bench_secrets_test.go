package tests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/tests/internal/emu"
)

// BenchmarkSecretsStartup measures a cold start of the Secrets Manager layer
// with N JSON secrets through the emulator and the fault proxy (answering
// BatchGetSecretValue): the wall time of one Load and the API calls it
// costs. The goal is ceil(N/20) calls: 1, 1 and 5.
//
// The "fallback" cases run against an endpoint without BatchGetSecretValue
// (kumo alone): one refused batch call, then one GetSecretValue per secret,
// Options.Concurrency at a time. In the "batch" cases the proxy's shim reads
// the secrets of a batch one after another, so their wall time is longer
// than AWS's single round trip; the call counts are what matter there.
func BenchmarkSecretsStartup(b *testing.B) {
	for _, tc := range []struct {
		path string
		n    int
	}{{"batch", 1}, {"batch", 20}, {"batch", 100}, {"fallback", 20}} {
		n := tc.n
		b.Run(fmt.Sprintf("%s/secrets=%d", tc.path, n), func(b *testing.B) {
			e := newSMEnv(b, tc.path == "batch")
			sources := smCreateN(b, e.direct, n)
			schema := smSchema(b)
			ctx := context.Background()
			e.proxy.ResetCalls()
			b.ResetTimer()
			for b.Loop() {
				l := secretsmanager.New(e.cfg, nil, sources...) // a fresh layer: nothing cached
				if _, err := smLoad(ctx, l, schema); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportCalls(b, e.proxy.Calls)
		})
	}
}

// BenchmarkSecretsRefreshNoChange measures a refresh when no secret changed:
// the goal is one DescribeSecret per secret and nothing else.
func BenchmarkSecretsRefreshNoChange(b *testing.B) {
	const n = 20
	e := newSMEnv(b, true)
	schema := smSchema(b)
	l := secretsmanager.New(e.cfg, nil, smCreateN(b, e.direct, n)...)
	ctx := context.Background()
	if _, err := smLoad(ctx, l, schema); err != nil {
		b.Fatal(err)
	}
	e.proxy.ResetCalls()
	b.ResetTimer()
	for b.Loop() {
		if _, changed, err := smRefresh(ctx, l, schema); err != nil || changed {
			b.Fatal(changed, err)
		}
	}
	b.StopTimer()
	reportCalls(b, e.proxy.Calls)
}

// BenchmarkSecretsGetSecretValueRoundTrip is the baseline: one
// GetSecretValue through the same SDK, proxy and emulator.
func BenchmarkSecretsGetSecretValueRoundTrip(b *testing.B) {
	e := newSMEnv(b, true)
	id := emu.UniqueName(b, "baseline")
	emu.CreateString(b, e.direct, id, `{"port":1,"password":"baseline-password"}`)
	client := sm.NewFromConfig(e.cfg)
	ctx := context.Background()
	e.proxy.ResetCalls()
	b.ResetTimer()
	for b.Loop() {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := client.GetSecretValue(cctx, &sm.GetSecretValueInput{SecretId: aws.String(id)})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCalls(b, e.proxy.Calls)
}

// reportCalls reports the proxy's call counts per operation and in total,
// per benchmark iteration.
func reportCalls(b *testing.B, calls func(op string) int) {
	b.Helper()
	for _, op := range []string{"BatchGetSecretValue", "GetSecretValue", "DescribeSecret", "ListSecrets"} {
		b.ReportMetric(float64(calls(op))/float64(b.N), op+"/op")
	}
	b.ReportMetric(float64(calls(""))/float64(b.N), "calls/op")
}
