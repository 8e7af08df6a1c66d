package emu_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/tests/internal/emu"
)

// describePath pages through DescribeParameters with one Path filter and
// returns the names listed and every NextToken given.
func describePath(t *testing.T, c *awsssm.Client, path, option string) (names, tokens []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in := &awsssm.DescribeParametersInput{MaxResults: aws.Int32(50), ParameterFilters: []types.ParameterStringFilter{
		{Key: aws.String("Path"), Option: aws.String(option), Values: []string{path}}}}
	for range 100 {
		out, err := c.DescribeParameters(ctx, in)
		if err != nil {
			t.Fatalf("DescribeParameters %s: %v", path, err)
		}
		for _, p := range out.Parameters {
			names = append(names, aws.ToString(p.Name))
		}
		if aws.ToString(out.NextToken) == "" {
			return names, tokens
		}
		tokens = append(tokens, aws.ToString(out.NextToken))
		in.NextToken = out.NextToken
	}
	t.Fatalf("DescribeParameters %s: over 100 pages", path)
	return nil, nil
}

// DescribeParameters with a Path filter lists the parameters under that
// path only, as Parameter Store does, and its page tokens name none of
// another path: every test shares kumo's parameters, so a description of
// one path must not depend on what other tests stored.
func TestDescribeParametersPathFilter(t *testing.T) {
	t.Parallel()
	url := emu.Start(t)
	c := awsssm.NewFromConfig(emu.AWSConfig(url))
	root := "/" + emu.UniqueName(t, "")
	put := func(name string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := c.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)})
		if err != nil {
			t.Fatalf("PutParameter %s: %v", name, err)
		}
	}
	var want []string
	for i := range 60 { // more than one page of 50
		n := fmt.Sprintf("%s/alpha/p%02d", root, i)
		put(n)
		want = append(want, n)
	}
	put(root + "/alpha/deeper/q")
	put(root + "/alphabet/x") // shares the text of the path, not the path
	put(root + "/beta/host")

	names, tokens := describePath(t, c, root+"/alpha", "Recursive")
	if got := slices.Sorted(slices.Values(names)); !slices.Equal(got, slices.Sorted(slices.Values(append(want, root+"/alpha/deeper/q")))) {
		t.Errorf("Recursive %s/alpha listed %d names: %v", root, len(got), got)
	}
	for _, tok := range tokens {
		if strings.Contains(tok, root+"/beta") || strings.Contains(tok, root+"/alphabet") {
			t.Errorf("a page token of %s/alpha names another path: %q", root, tok)
		}
	}
	names, _ = describePath(t, c, root+"/alpha/", "OneLevel")
	if slices.Contains(names, root+"/alpha/deeper/q") || len(names) != len(want) {
		t.Errorf("OneLevel %s/alpha listed %d names, want %d without the deeper one", root, len(names), len(want))
	}
}
