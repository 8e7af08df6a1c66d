package tests

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/ssm"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// noRawControl fails if text holds a control character or a run of 100
// "a": a hostile parameter name shown as it is.
func noRawControl(t *testing.T, what, text string) {
	t.Helper()
	if strings.ContainsAny(text, "\x1b\t\r") || strings.Contains(text, "\nerror: forged") || strings.Contains(text, strings.Repeat("a", 100)) {
		t.Errorf("%s shows a hostile name as it is: %q", what, text)
	}
}

// Names no Parameter Store would store (kumo stores anything) are a
// malformed answer through the real SDK: escaped and cut in the error, and
// never a warning, a log line, a version in Status or a value; the other
// parameters load, and the SecureString shows nowhere.
func TestSSMHostileNames(t *testing.T) {
	t.Parallel()
	e := newSSMEnv(t)
	root := e.root(t)
	e.put(t, root+"/database/password", types.ParameterTypeSecureString, ssmCanary)
	e.put(t, root+"/database/host", types.ParameterTypeString, "db.internal")
	e.put(t, root+"/evil\x1b[31mRED\nerror: forged line", types.ParameterTypeString, "x")
	e.put(t, root+"/server/"+strings.Repeat("a", 2000), types.ParameterTypeString, "x")
	logs := &configtest.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	layer := e.layer(ssm.Options{Logger: logger}, ssm.Path(root, "", nil))
	u, err := layer.Refresh(t.Context(), config.RefreshRequest{Schema: ssmSchema(t)})
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), `evil\x1b[31mRED`) {
		t.Fatalf("first read: %v", err)
	}
	noRawControl(t, "the error", err.Error())
	if u.Values["database.host"].Raw != "db.internal" || len(u.Versions) != 2 {
		t.Errorf("values %v, versions %v", u.Values, u.Versions)
	}
	e.put(t, root+"/tab\tname", types.ParameterTypeString, "x")
	next, err := layer.Refresh(t.Context(), config.RefreshRequest{Schema: ssmSchema(t), Prev: u.State})
	if !errors.Is(err, config.ErrMalformed) || next.Changed {
		t.Errorf("refresh: changed %v, %v", next.Changed, err)
	}
	noRawControl(t, "the refresh's error", err.Error())
	noRawControl(t, "the logs", logs.String())
	noSSMCanary(t, err, logs.String(), u.Values, layer)
}

// Paging through the SDK is bounded: a NextToken that comes back is a
// malformed answer after two pages, an endless one stops at MaxPages, and a
// value of 1 MiB is refused without any of it in the error.
func TestSSMPagingAndSizeBounds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		fault   faultproxy.Fault
		op      string
		calls   int
		message string
	}{
		{"repeating token", faultproxy.RepeatNextToken, ssm.OpGetParametersByPath, 2, "NextToken it had given before"},
		{"endless tokens", faultproxy.EndlessNextToken, ssm.OpGetParametersByPath, 3, "more than 3 pages"},
		{"huge value", faultproxy.HugeParameterValue, ssm.OpGetParametersByPath, 1, "over Parameter Store's limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newSSMEnv(t)
			root := e.root(t)
			e.put(t, root+"/database/password", types.ParameterTypeSecureString, ssmCanary)
			e.proxy.Add(faultproxy.Rule{Op: c.op, Fault: c.fault})
			logs := &configtest.LogBuffer{}
			layer := e.layer(ssm.Options{MaxPages: 3, Timeout: 10 * time.Second, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))},
				ssm.Path(root, "", nil))
			_, err := layer.Load(t.Context(), ssmSchema(t))
			if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("err = %v, want ErrMalformed with %q", err, c.message)
			}
			if n := e.proxy.Calls(c.op); n != c.calls {
				t.Errorf("%s calls = %d, want %d", c.op, n, c.calls)
			}
			noSSMCanary(t, err, logs.String())
		})
	}
}

// A refresh's version check costs one DescribeParameters page per path
// however many parameters others keep elsewhere (here 60 beside it, more
// than a page): it lists the path's parameters only, so its page tokens
// never name another path's, and a fault rule matched on one path never
// takes the check of another.
func TestSSMVersionCheckOwnPath(t *testing.T) {
	t.Parallel()
	e := newSSMEnv(t)
	root := e.root(t)
	for i := range 60 {
		e.put(t, fmt.Sprintf("%s-elsewhere/p%02d", root, i), types.ParameterTypeString, "x")
	}
	e.put(t, root+"/alpha/database/host", types.ParameterTypeString, "db.internal")
	e.put(t, root+"/beta/server/addr", types.ParameterTypeString, ":8080")
	layer := e.layer(ssm.Options{}, ssm.Path(root+"/alpha", "", nil), ssm.Path(root+"/beta", "", nil))
	u, err := layer.Refresh(t.Context(), config.RefreshRequest{Schema: ssmSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	e.put(t, root+"/alpha/database/host", types.ParameterTypeString, "db2.internal")
	e.proxy.ResetCalls()
	e.proxy.Add(faultproxy.Rule{Match: root + "/beta", Fault: faultproxy.AccessDenied})
	next, err := layer.Refresh(t.Context(), config.RefreshRequest{Schema: ssmSchema(t), Prev: u.State})
	if !errors.Is(err, config.ErrAccessDenied) || !next.Changed || next.Values["database.host"].Raw != "db2.internal" {
		t.Errorf("alpha changed while beta was denied: changed %v, host %v, %v", next.Changed, next.Values["database.host"].Raw, err)
	}
	if n := e.proxy.Calls(ssm.OpDescribeParameters); n != 2 {
		t.Errorf("the version check of two paths made %d DescribeParameters calls, want 2 (one page each)", n)
	}
}
