package configtest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// bugEnv names the bug TestBrokenLayer plants in the document layer. It is
// set only in the child process TestLayerCatchesBrokenLayers starts.
const bugEnv = "STRATA_CONFIGTEST_BUG"

// bugs maps each planted bug to the rules that must catch it.
var bugs = map[string][]string{
	"ignores-ctx":        {"DoneContext"},
	"hides-others":       {"FailingSourceKeepsOthers", "RefreshPartialFailure"},
	"first-error-only":   {"FailingSourceKeepsOthers/transient"},
	"drops-unknown":      {"UnknownNames"},
	"quotes-content":     {"NoSecretInOutput"},
	"prints-state":       {"NoSecretInOutput"},
	"loses-sentinels":    {"FailingSourceKeepsOthers/transient", "RefreshPartialFailure/transient"},
	"always-changed":     {"RefreshNoChange"},
	"changed-only":       {"RefreshAfterChange"},
	"modifies-prev":      {"RefreshKeepsPrev"},
	"mutates-version":    {"RefreshKeepsPrev"},
	"copies-values":      {"RefreshKeepsPrev"},
	"state-in-the-layer": {"SharedByStores"},
	"stale-versions":     {"RefreshAfterChange"},
	"load-reads-nothing": {"FirstRead"},
	"events-as-names":    {"RefreshWithEvents"},
	"watch-ignores-ctx":  {"WatchEndsWithContext"},
}

// TestLayerCatchesBrokenLayers runs TestLayer on the document layer with one
// bug planted at a time, each in a child process, and checks that the rules
// meant to catch the bug fail. So no rule of the suite passes whatever the
// layer does.
func TestLayerCatchesBrokenLayers(t *testing.T) {
	if os.Getenv(bugEnv) != "" {
		t.Skip("in the child process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no test binary to run:", err)
	}
	for bug, rules := range bugs {
		t.Run(bug, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestBrokenLayer$", "-test.v", "-test.count=1", "-test.timeout=120s")
			cmd.Env = append(os.Environ(), bugEnv+"="+bug)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("TestLayer passed a layer with the bug %q:\n%s", bug, out)
			}
			for _, rule := range rules {
				if !strings.Contains(string(out), "--- FAIL: TestBrokenLayer/"+rule+" ") {
					t.Errorf("the rule %s did not catch the bug %q:\n%s", rule, bug, out)
				}
			}
		})
	}
}

// TestBrokenLayer is run by TestLayerCatchesBrokenLayers in a child process.
func TestBrokenLayer(t *testing.T) {
	bug := os.Getenv(bugEnv)
	if bug == "" {
		t.Skip("run by TestLayerCatchesBrokenLayers")
	}
	if _, ok := bugs[bug]; !ok {
		t.Fatalf("unknown bug %q", bug)
	}
	configtest.TestLayer(t, configtest.Harness{Refresher: true, New: func(t *testing.T, s configtest.Setup) configtest.Fixture {
		f := docHarness(t, s)
		inner := f.Layer().(*docLayer)
		broken := &brokenLayer{docLayer: inner, bug: bug}
		f.Layer = func() config.Layer { return broken }
		return f
	}})
}

// brokenLayer is the document layer with one bug.
type brokenLayer struct {
	*docLayer
	bug string

	mu   sync.Mutex
	last config.State // for state-in-the-layer
}

func (l *brokenLayer) Load(ctx context.Context, schema *config.Schema) (config.Values, error) {
	if l.bug == "load-reads-nothing" {
		return config.Values{}, nil
	}
	u, err := l.Refresh(ctx, config.RefreshRequest{Schema: schema})
	return u.Values, err
}

func (l *brokenLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	switch l.bug {
	case "ignores-ctx":
		ctx = context.Background()
	case "always-changed":
		req.Prev = nil
	case "state-in-the-layer":
		l.mu.Lock()
		defer l.mu.Unlock()
		if req.Prev != nil {
			req.Prev = l.last
		}
	}
	prev, _ := req.Prev.(*docState)
	if l.bug == "events-as-names" && req.Events != nil {
		// Reads only the sources the events name, and takes "" for a name.
		return config.Update{}, fmt.Errorf("%w: no source named %q", config.ErrNotFound, req.Events[0].Source)
	}
	u, err := l.docLayer.Refresh(ctx, req)
	switch l.bug {
	case "hides-others":
		if hasFailure(err) {
			return config.Update{}, err
		}
	case "first-error-only":
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			err = j.Unwrap()[len(j.Unwrap())-1]
		}
	case "drops-unknown":
		err = dropUnknown(err)
	case "quotes-content":
		err = l.quote(err)
	case "prints-state":
		if u.State != nil {
			var raw []string
			for _, v := range u.Values {
				raw = append(raw, fmt.Sprint(v.Raw))
			}
			u.State = struct{ Raw []string }{raw}
		}
	case "loses-sentinels":
		if err != nil {
			err = errors.New(err.Error())
		}
	case "changed-only":
		u.Values = changedOnly(prev, u.Values)
	case "modifies-prev":
		if next, ok := u.State.(*docState); ok && prev != nil {
			maps.Copy(prev.versions, next.versions)
			maps.Copy(prev.values, next.values)
		}
	case "mutates-version":
		if prev != nil {
			prev.versions["alpha"] = -1
		}
	case "copies-values":
		if next, ok := u.State.(*docState); ok && prev != nil {
			maps.Copy(prev.values, next.values)
		}
	case "stale-versions":
		if u.Versions != nil {
			u.Versions = map[string]string{"alpha": "1", "beta": "1"}
		}
	case "state-in-the-layer":
		if u.Changed {
			l.last = u.State
		}
	}
	return u, err
}

// Watch has nothing to watch, except with the bug watch-ignores-ctx, where
// it never returns.
func (l *brokenLayer) Watch(ctx context.Context, w config.Watch) error {
	if l.bug == "watch-ignores-ctx" {
		select {} // the planted bug; the child process ends it
	}
	return nil
}

func hasFailure(err error) bool {
	var se *config.SourceError
	return errors.As(err, &se)
}

func dropUnknown(err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	var kept []error
	for _, e := range j.Unwrap() {
		var u *config.UnknownNameError
		if !errors.As(e, &u) {
			kept = append(kept, e)
		}
	}
	return errors.Join(kept...)
}

// quote adds the content of every document to err, as a careless parser
// error does.
func (l *brokenLayer) quote(err error) error {
	if err == nil {
		return nil
	}
	l.store.mu.Lock()
	defer l.store.mu.Unlock()
	var texts []string
	for _, d := range l.store.docs {
		texts = append(texts, d.text)
	}
	return fmt.Errorf("%w (content %q)", err, texts)
}

// changedOnly keeps the values that differ from prev's.
func changedOnly(prev *docState, vals config.Values) config.Values {
	if prev == nil || vals == nil {
		return vals
	}
	old := config.Values{}
	for _, v := range prev.values {
		maps.Copy(old, v)
	}
	out := config.Values{}
	for k, v := range vals {
		if o, ok := old[k]; !ok || o.Raw != v.Raw {
			out[k] = v
		}
	}
	return out
}
