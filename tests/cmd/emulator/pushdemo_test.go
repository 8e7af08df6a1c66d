package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPushDemo runs push-demo against the emulator: the push store serves
// the rotation within a second, the polling one at its next poll, and
// nothing printed holds a value.
func TestPushDemo(t *testing.T) {
	url := startServe(t)
	stdout, stderr, code := cli(t, "", "push-demo", "-endpoint", url, "-poll", "500ms")
	if code != exitOK {
		t.Fatalf("push-demo exited %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`picked up by push in (\S+)\n`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no push pickup in:\n%s", stdout)
	}
	if d, err := time.ParseDuration(m[1]); err != nil || d >= time.Second {
		t.Errorf("push pickup %s, want under a second", m[1])
	}
	if !regexp.MustCompile(`picked up by the next poll in \S+\n`).MatchString(stdout) {
		t.Errorf("no polling pickup in:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, "demo-key-") {
		t.Errorf("a secret value was printed:\n%s", stdout+stderr)
	}
}

func TestPushDemoErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"push-demo"}, "no emulator"},
		{[]string{"push-demo", "-endpoint", "http://127.0.0.1:1", "-poll", "1h"}, "expected 100ms to 1m"},
		{[]string{"push-demo", "-endpoint", "http://127.0.0.1:1", "extra"}, "unexpected arguments"},
	} {
		if _, stderr, code := cli(t, "", c.args...); code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
}
