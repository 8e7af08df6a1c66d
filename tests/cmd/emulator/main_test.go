package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestEmulatorParseSeed(t *testing.T) {
	got, err := parseSeed([]byte(`{
		"b/api-key": "key-0123",
		"a/db": {"user": "app", "password": "p@ss \"word\"", "port": 6432, "tls": {"on": true}}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []seedSecret{
		{"a/db", `{"user":"app","password":"p@ss \"word\"","port":6432,"tls":{"on":true}}`},
		{"b/api-key", "key-0123"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("parseSeed = %q, want %q", got, want)
	}

	const canary = "CANARY-seed-5e1f"
	for in, wantErr := range map[string]string{
		`["a"]`:                          "expected a JSON object of secret names and values",
		`{"a": 12}`:                      `secret "a": expected a string or a JSON object`,
		`{"a": ["` + canary + `"]}`:      `secret "a": expected a string or a JSON object`,
		`{"a": null}`:                    `secret "a": expected a string or a JSON object`,
		`{"a": ""}`:                      `secret "a": expected a value`,
		`{"": "x"}`:                      "empty name",
		`{"a": "` + canary + `" "b": 1}`: "syntax error at byte offset",
		`{"a": {"p": ` + canary + `}}`:   "syntax error at byte offset",
	} {
		_, err := parseSeed([]byte(in))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("parseSeed(%s) = %v, want an error with %q", in, err, wantErr)
			continue
		}
		if strings.Contains(err.Error(), "CANARY") {
			t.Errorf("parseSeed(%s): the error shows the value: %v", in, err)
		}
	}
}

// startServe runs serve in the process with args and returns its URL; the
// emulator stops when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := run(ctx, append([]string{"serve"}, args...), &env{stdin: strings.NewReader(""), stdout: pw, stderr: &stderr, getenv: func(string) string { return "" }})
		pw.Close()
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("serve exited with %d: %s", code, stderr.String())
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "STRATA_EMULATOR_URL=")
	if err != nil || !ok {
		cancel()
		t.Fatalf("serve printed %q (%v); stderr: %s", line, err, stderr.String())
	}
	u, err := neturl.Parse(url)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("serve URL %q is not on 127.0.0.1", url)
	}
	return url
}

// cli runs one command line of the emulator and returns its output.
func cli(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv: func(string) string { return "" }})
	return out.String(), errOut.String(), code
}

func getValue(t *testing.T, c *secretsmanager.Client, name, stage string) (value, version string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionStage: aws.String(stage)})
	if err != nil {
		t.Fatalf("GetSecretValue %s %s: %v", name, stage, err)
	}
	return aws.ToString(out.SecretString), aws.ToString(out.VersionId)
}

// seedRuns counts the runs of TestEmulatorSeedPutRotate.
var seedRuns atomic.Int64

// TestEmulatorSeedPutRotate seeds a JSON object, then changes the secrets of
// the running emulator with put and rotate as a user would, and reads them
// back with the SDK.
func TestEmulatorSeedPutRotate(t *testing.T) {
	// The emulator's state lasts as long as the test process: each run
	// uses names of its own, so that -count=N creates what it expects to.
	p := "rehearse" + strconv.FormatInt(seedRuns.Add(1), 10)
	db, key, fresh := p+"/db", p+"/api-key", p+"/new"
	seed := filepath.Join(t.TempDir(), "secrets.json")
	if err := os.WriteFile(seed, []byte(`{
		"`+db+`": {"user": "app", "password": "initial-password-1", "port": 6432},
		"`+key+`": "initial-key"
	}`), 0o600); err != nil {
		t.Fatal(err)
	}
	url := startServe(t, "-seed", seed)
	c := client(url)

	v, v1 := getValue(t, c, db, "AWSCURRENT")
	if v != `{"user":"app","password":"initial-password-1","port":6432}` {
		t.Errorf("seeded object = %s", v)
	}

	// rotate with no value: a new random password, the other fields kept.
	out, stderr, code := cli(t, "", "rotate", "-endpoint", url, db)
	if code != exitOK {
		t.Fatalf("rotate: exit %d: %s", code, stderr)
	}
	v, v2 := getValue(t, c, db, "AWSCURRENT")
	prev, prevID := getValue(t, c, db, "AWSPREVIOUS")
	if v2 == v1 || prevID != v1 || !strings.Contains(prev, "initial-password-1") {
		t.Errorf("after rotate: AWSCURRENT %s, AWSPREVIOUS %s (%s); seeded version %s", v2, prevID, prev, v1)
	}
	if !strings.HasPrefix(v, `{"password":"`) || !strings.Contains(v, `"port":6432`) || !strings.Contains(v, `"user":"app"`) ||
		strings.Contains(v, "initial-password-1") {
		t.Errorf("rotated value = %s, want the same object with a new password", v)
	}
	if want := db + ": AWSCURRENT moved from version " + v1 + " to " + v2 + "; " + v1 + " is AWSPREVIOUS\n"; out != want {
		t.Errorf("rotate printed %q, want %q", out, want)
	}

	// rotate with a value from standard input, and put of a new secret.
	if _, stderr, code := cli(t, `{"user":"app","password":"chosen-password-2"}`+"\n", "rotate", "-endpoint", url, db, "-"); code != exitOK {
		t.Fatalf("rotate -: exit %d: %s", code, stderr)
	}
	if v, _ := getValue(t, c, db, "AWSCURRENT"); v != `{"user":"app","password":"chosen-password-2"}` {
		t.Errorf("after rotate -: %s", v)
	}
	out, stderr, code = cli(t, "", "put", "-endpoint", url, fresh, "fresh-value")
	if code != exitOK || !strings.HasPrefix(out, fresh+": created, version ") {
		t.Fatalf("put of a new secret: exit %d: %s%s", code, out, stderr)
	}
	out, stderr, code = cli(t, "", "put", "-endpoint", url, key, "second-key")
	if code != exitOK || !strings.HasPrefix(out, key+": version ") {
		t.Fatalf("put: exit %d: %s%s", code, out, stderr)
	}
	if v, _ := getValue(t, c, key, "AWSCURRENT"); v != "second-key" {
		t.Errorf("after put: %s", v)
	}
	for _, o := range []string{out} {
		if strings.Contains(o, "second-key") || strings.Contains(o, "chosen-password") {
			t.Errorf("a secret value was printed: %s", o)
		}
	}
}

func TestEmulatorCommandErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"rotate", "a"}, "no emulator: give -endpoint URL or set STRATA_EMULATOR_URL", exitUsage},
		{[]string{"put", "-endpoint", "http://127.0.0.1:1", "a"}, "put: expected NAME VALUE|-", exitUsage},
		{[]string{"put", "-endpoint", "http://127.0.0.1:1", "a", `{"password": CANARY`}, "not valid JSON (value not shown)", exitUsage},
		{[]string{"put", "-endpoint", "http://127.0.0.1:1", "a", ""}, "empty value", exitUsage},
		{[]string{"rotat"}, `unknown command "rotat"`, exitUsage},
		{[]string{"serve", "-port", "70000"}, "expected 0 to 65535", exitUsage},
		{[]string{"rotate", "-h"}, "-key field", exitOK},
		{[]string{"put", "-h"}, "-endpoint URL", exitOK},
		{[]string{"serve", "-h"}, "-seed file", exitOK},
	} {
		_, stderr, code := cli(t, "", c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if strings.Contains(stderr, "CANARY") {
			t.Errorf("%q: the value was printed: %s", c.args, stderr)
		}
	}
}

// TestEmulatorPort serves on a port of the user's choice, on 127.0.0.1.
func TestEmulatorPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	url := startServe(t, "-port", strconv.Itoa(port), "-batch=false")
	if url != "http://127.0.0.1:"+strconv.Itoa(port) {
		t.Fatalf("URL %q, want port %d", url, port)
	}
	if _, stderr, code := cli(t, "", "put", "-endpoint", url, "port-test/x", "v"); code != exitOK {
		t.Fatalf("put through -port: exit %d: %s", code, stderr)
	}
	if v, _ := getValue(t, client(url), "port-test/x", "AWSCURRENT"); v != "v" {
		t.Errorf("value %q", v)
	}
}
