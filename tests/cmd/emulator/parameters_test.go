package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// putRuns numbers the runs of TestEmulatorPutParameter: every emulator in
// the process shares kumo's parameters, so a run under -count must not find
// the versions of the one before.
var putRuns atomic.Int64

// put-parameter stores a new version of a parameter in the running emulator
// and prints its version, never its value.
func TestEmulatorPutParameter(t *testing.T) {
	url := startServe(t)
	const canary = "CANARY-put-parameter-7d1e"
	name := fmt.Sprintf("/rehearse/run-%d/database/password", putRuns.Add(1))
	for i, want := range []string{"version 1 (SecureString)", "version 2 (SecureString)"} {
		out, stderr, code := cli(t, "", "put-parameter", "-endpoint", url, "-type", "SecureString", name, canary)
		if code != exitOK || out != name+": "+want+"\n" {
			t.Fatalf("put-parameter %d: exit %d, %q %q", i, code, out, stderr)
		}
		if strings.Contains(out+stderr, canary) {
			t.Fatalf("the value was printed: %s%s", out, stderr)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := ssmClient(url).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{name}, WithDecryption: aws.Bool(true)})
	if err != nil || len(got.Parameters) != 1 || aws.ToString(got.Parameters[0].Value) != canary {
		t.Errorf("GetParameters = %+v, %v", got, err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"put-parameter", "-endpoint", url, "relative", "v"}, `must start with "/"`},
		{[]string{"put-parameter", "-endpoint", url, "-type", "Bogus", "/a", "v"}, "expected String, StringList or SecureString"},
		{[]string{"put-parameter", "-endpoint", url, "/a"}, "expected NAME VALUE|-"},
		{[]string{"put-parameter", "/a", "v"}, "no emulator"},
	} {
		if _, stderr, code := cli(t, "", c.args...); code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, %q", c.args, code, stderr)
		}
	}
}

// The emulator describes the parameters under a path as Parameter Store does
// (kumo alone ignores the Path filter and lists every parameter).
func TestEmulatorDescribesByPath(t *testing.T) {
	url := startServe(t)
	root := fmt.Sprintf("/rehearse/path-%d", putRuns.Add(1))
	for _, name := range []string{root + "/app/port", root + "/app/db/host", root + "/other/port"} {
		if out, stderr, code := cli(t, "", "put-parameter", "-endpoint", url, name, "v"); code != exitOK {
			t.Fatalf("put-parameter %s: exit %d, %q %q", name, code, out, stderr)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for option, want := range map[string][]string{
		"OneLevel":  {root + "/app/port"},
		"Recursive": {root + "/app/db/host", root + "/app/port"},
	} {
		out, err := ssmClient(url).DescribeParameters(ctx, &ssm.DescribeParametersInput{
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Path"), Option: aws.String(option), Values: []string{root + "/app"}}},
		})
		if err != nil {
			t.Fatalf("DescribeParameters %s: %v", option, err)
		}
		var got []string
		for _, p := range out.Parameters {
			got = append(got, aws.ToString(p.Name))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("DescribeParameters Path %s %s = %q, want %q", option, root+"/app", got, want)
		}
	}
}
