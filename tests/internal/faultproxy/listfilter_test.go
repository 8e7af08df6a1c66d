package faultproxy_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// listNames pages through a filtered listing and returns the names, the
// versions of each, and the number of pages.
func listNames(t *testing.T, c *secretsmanager.Client, max int32, values ...string) ([]string, map[string]map[string][]string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(max), Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: values}}}
	var names []string
	versions := map[string]map[string][]string{}
	pages := 0
	for {
		out, err := c.ListSecrets(ctx, in)
		if err != nil {
			t.Fatalf("ListSecrets: %v", err)
		}
		pages++
		for _, e := range out.SecretList {
			names = append(names, aws.ToString(e.Name))
			versions[aws.ToString(e.Name)] = e.SecretVersionsToStages
		}
		if out.NextToken == nil {
			return names, versions, pages
		}
		in.NextToken = out.NextToken
	}
}

func TestListFilterShimFiltersByNamePrefix(t *testing.T) {
	t.Parallel()
	p, c, name, _ := setup(t, faultproxy.Options{ListFilterShim: true})
	base := emu.UniqueName(t, "listed")
	var made []string
	for _, s := range []string{"/a", "/b", "/B-upper", "/c"} {
		emu.CreateString(t, c, base+s, "v")
		made = append(made, base+s)
	}
	p.ResetCalls()

	names, versions, pages := listNames(t, c, 100, base+"/a", base+"/b")
	if want := []string{base + "/B-upper", base + "/a", base + "/b"}; !sameSet(names, want) {
		t.Errorf("names = %v, want %v (prefix match, not case-sensitive)", names, want)
	}
	if pages != 1 || p.Calls("ListSecrets") != 1 {
		t.Errorf("pages = %d, calls counted = %d, want 1 and 1: the shim's own calls are not counted", pages, p.Calls("ListSecrets"))
	}
	for _, n := range names {
		if !slices.ContainsFunc(mapValues(versions[n]), func(st []string) bool { return slices.Contains(st, "AWSCURRENT") }) {
			t.Errorf("%s: SecretVersionsToStages = %v, want an AWSCURRENT version", n, versions[n])
		}
	}
	if names, _, _ := listNames(t, c, 100, base+"/", "!"+base+"/b"); !sameSet(names, []string{base + "/a", base + "/c"}) {
		t.Errorf("with a negation: %v", names)
	}
	if names, _, pages := listNames(t, c, 2, base+"/"); !sameSet(names, made) || pages != 2 {
		t.Errorf("paged by 2: %v in %d pages", names, pages)
	}
	if names, _, _ := listNames(t, c, 100, name); !sameSet(names, []string{name}) {
		t.Errorf("the setup's secret alone: %v", names)
	}
}

func TestListFilterShimRefusesOtherKeys(t *testing.T) {
	t.Parallel()
	_, c, _, _ := setup(t, faultproxy.Options{ListFilterShim: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeTagKey, Values: []string{"x"}}}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Fatalf("err = %v, want ValidationException", err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func mapValues(m map[string][]string) [][]string {
	var out [][]string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
