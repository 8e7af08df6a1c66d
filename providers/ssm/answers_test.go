package ssm

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
)

// hostileNames are names no Parameter Store would store, as a broken or
// hostile endpoint might answer them under a path.
var hostileNames = []string{
	root + "/evil\x1b[31mRED\nerror: forged line",
	root + "/server/" + strings.Repeat("a", 2000),
	root + "/tab\tname",
}

// noRawName fails if text shows a hostile name as it is (a control
// character, or the 2 KB name whole) rather than quoted and cut.
func noRawName(t *testing.T, what, text string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\nerror: forged", "\t", strings.Repeat("a", 100)} {
		if strings.Contains(text, bad) {
			t.Errorf("%s shows a hostile name as it is (%q): %q", what, bad, text)
		}
	}
}

// A name in an answer that Parameter Store would never store is a malformed
// answer, reported with the name escaped and cut, and never a parameter:
// it does not reach a value, a warning, Status or the next State, at the
// first read or at a refresh.
func TestAnsweredNamesChecked(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put(root+"/database/host", types.ParameterTypeString, "db.internal")
	api.put(hostileNames[0], types.ParameterTypeString, "x")
	l, u, err := first(t, api, nil, Path(root, "", nil))
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), `\x1b[31mRED\nerror: forged line`) {
		t.Fatalf("first read with a name holding control characters: %v", err)
	}
	noRawName(t, "the first read's error", err.Error())
	if u.Values["database.host"].Raw != "db.internal" {
		t.Errorf("the other parameters were not read: %v", u.Values)
	}
	for _, n := range hostileNames[1:] {
		api.put(n, types.ParameterTypeString, "x")
	}
	next, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: u.State})
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "characters long, over 1011") {
		t.Errorf("refresh with a 2 KB name and a tab: %v", err)
	}
	noRawName(t, "the refresh's error", err.Error())
	if next.Changed {
		t.Errorf("a refresh that found only names that are none reported a change: %v", next.Versions)
	}
	for _, vs := range []map[string]string{u.Versions, next.Versions} {
		for n := range vs {
			noRawName(t, "Versions", n)
		}
	}
	noRawName(t, "the State", fmt.Sprintf("%v %+v %#v", u.State, u.State, u.State))
}

// Paging is bounded both ways: an endpoint whose pages come back to a token
// it gave before (the listing would repeat without end and may be missing
// parameters, which a refresh would take for deleted ones) is malformed,
// at the first read and at a refresh, and one that gives a new token
// forever is cut at Options.MaxPages.
func TestPagingTokens(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.pageSize = 2
	for _, n := range []string{"server/addr", "server/read_timeout", "database/port", "server/allowed_ips"} {
		api.put(root+"/"+n, types.ParameterTypeString, "1")
	}
	api.put(root+"/database/host", types.ParameterTypeString, "db.internal")
	l, u, err := first(t, api, nil, Path(root, "", nil))
	if err != nil || u.Values["database.host"].Raw != "db.internal" {
		t.Fatalf("healthy paging: %v, %v", err, u.Values)
	}

	api.token = func(next *string) *string { return aws.String("again") }
	_, _, err = first(t, api, nil, Path(root, "", nil))
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "NextToken it had given before") {
		t.Errorf("first read with a repeating token: %v", err)
	}
	next, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: u.State})
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "DescribeParameters answered a NextToken") {
		t.Errorf("refresh with a repeating token: %v", err)
	}
	if next.Changed {
		t.Errorf("a refresh whose listing repeated reported a change (parameters taken for deleted): %v", next.Values)
	}

	n := 0
	api.token = func(*string) *string { n++; return aws.String(fmt.Sprint("fresh-", n)) }
	before := api.count(OpGetParametersByPath)
	_, _, err = first(t, api, &Options{MaxPages: 5}, Path(root, "", nil))
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "MaxPages") {
		t.Errorf("endless tokens: %v", err)
	}
	if calls := api.count(OpGetParametersByPath) - before; calls != 5 {
		t.Errorf("endless tokens made %d calls, want MaxPages (5)", calls)
	}
}
