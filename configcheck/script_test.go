package configcheck_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
)

var update = flag.Bool("update", false, "rewrite the golden outputs of testdata/script/*.txtar")

// canary is set as a secret through the environment and .env files in the
// scripts; no output of any command may contain it.
const canary = "CANARY-9f8e7d6c5b4a"

// testConfig is the configuration the scripts check. It has the shape of the
// example service, plus a secret tagged by name and a map.
type testConfig struct {
	Server struct {
		Addr         string        `default:"127.0.0.1:8080" desc:"Address the HTTP server listens on."`
		ReadTimeout  time.Duration `default:"5s" desc:"Longest time to read a request."`
		WriteTimeout time.Duration `desc:"Longest time to write a response."`
	}
	Database struct {
		Host     string        `validate:"required,hostname" desc:"Host name of the database | primary."`
		Port     int           `default:"5432" validate:"min=1,max=65535"`
		Name     string        `desc:"Database name."`
		User     string        `secret:"true" desc:"Database user, kept secret."`
		Password config.Secret `validate:"required,min=12" desc:"Password of the database user."`
	}
	API struct {
		Key config.Secret `validate:"required"`
	}
	Log struct {
		Level string `default:"info" validate:"oneof=debug info warn error"`
	}
	Features map[string]bool `desc:"Feature switches, such as a=true,b=false."`
}

// badDefaults has defaults that fail their own rules, for lint.
type badDefaults struct {
	Log struct {
		Level string `default:"verbose" validate:"oneof=debug info warn error"`
	}
	Workers int    `default:"0" validate:"min=1"`
	Token   string `secret:"true" default:"dev-token"`
}

// TestScripts runs testdata/script/*.txtar. Each archive's comment is a
// script of lines:
//
//	# a comment
//	env NAME=VALUE          add to the environment of later commands
//	service [FLAGS]         the service's setup for later commands: its layers
//	                        are each --env-file FILE, the environment, then
//	                        each --secret KIND:ID=KEY (a Secrets Manager
//	                        source, in region --region or AWS_REGION), under
//	                        --prefix (default APP_), with a push feed from
//	                        queue URL --push-queue and the store's
//	                        --watch-interval; no flags: the environment
//	chmod MODE FILE         change the mode of a file in $WORK
//	stdin FILE              read FILE as the standard input of the next command
//	cp stdout|stderr FILE   write the last output to FILE in $WORK
//	configcheck ARGS...     run Main for testConfig ('...' quotes an argument)
//	badconfig ARGS...       run Main for badDefaults
//	exit N                  the last command exited with N (0 when not given)
//	cmp stdout|stderr FILE  the output equals FILE (rewritten with -update)
//	[!] stdout|stderr RE    the output matches (does not match) RE
//
// The archive's files are written to $WORK (mode 0600) before the script
// runs; $WORK in arguments, environment values and outputs stands for it.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "script", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scripts in testdata/script")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runScript(t, file)
		})
	}
}

type scriptState struct {
	t       *testing.T
	work    string
	env     []string
	stdin   []byte
	ran     bool
	exit    int
	checked bool // the last command's exit code was checked with exit
	stdout  string
	stderr  string
	arch    *archive
	changed bool
	service testService // the service later commands check
}

func runScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	st := &scriptState{t: t, work: t.TempDir(), arch: parseArchive(data), service: testService{prefix: "APP_"}}
	for _, f := range st.arch.files {
		path := filepath.Join(st.work, f.name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for i, line := range strings.Split(string(st.arch.comment), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		st.step(fmt.Sprintf("%s:%d", filepath.Base(file), i+1), line)
	}
	st.endCommand("end of script")
	if st.changed && *update {
		if err := os.WriteFile(file, st.arch.format(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (st *scriptState) expand(s string) string { return strings.ReplaceAll(s, "$WORK", st.work) }

// endCommand checks that the exit code of the last command was 0 when the
// script did not say otherwise.
func (st *scriptState) endCommand(where string) {
	if st.ran && !st.checked && st.exit != 0 {
		st.t.Errorf("%s: the command exited with %d, not 0\nstdout:\n%s\nstderr:\n%s", where, st.exit, st.stdout, st.stderr)
	}
	st.checked = true
}

func (st *scriptState) step(where, line string) {
	t := st.t
	neg := false
	if rest, ok := strings.CutPrefix(line, "! "); ok {
		neg, line = true, rest
	}
	verb, rest, _ := strings.Cut(line, " ")
	switch verb {
	case "env":
		st.env = append(st.env, st.expand(rest))
	case "service":
		args := splitArgs(rest)
		for i := range args {
			args[i] = st.expand(args[i])
		}
		svc, err := parseService(args)
		if err != nil {
			t.Fatalf("%s: service: %v", where, err)
		}
		st.service = svc
	case "chmod":
		args := splitArgs(rest)
		mode, err := strconv.ParseUint(args[0], 8, 32)
		if err != nil || len(args) != 2 {
			t.Fatalf("%s: chmod MODE FILE", where)
		}
		if err := os.Chmod(filepath.Join(st.work, args[1]), os.FileMode(mode)); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	case "cp":
		stream, name, _ := strings.Cut(rest, " ")
		out := strings.ReplaceAll(st.output(where, stream), "$WORK", st.work)
		if err := os.WriteFile(filepath.Join(st.work, name), []byte(out), 0o600); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	case "stdin":
		f := st.arch.file(rest)
		if f == nil {
			t.Fatalf("%s: no file %s in the archive", where, rest)
		}
		st.stdin = f.data
	case "configcheck", "badconfig":
		st.endCommand(where)
		args := splitArgs(rest)
		for i := range args {
			args[i] = st.expand(args[i])
		}
		st.run(verb, args)
	case "exit":
		n, err := strconv.Atoi(rest)
		if err != nil {
			t.Fatalf("%s: exit N", where)
		}
		st.checked = true
		if st.exit != n {
			t.Errorf("%s: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", where, st.exit, n, st.stdout, st.stderr)
		}
	case "cmp":
		stream, name, _ := strings.Cut(rest, " ")
		got := st.output(where, stream)
		f := st.arch.file(name)
		if f == nil {
			if !*update {
				t.Fatalf("%s: no file %s in the archive (run with -update to create it)", where, name)
			}
			st.arch.files = append(st.arch.files, archiveFile{name: name})
			f = &st.arch.files[len(st.arch.files)-1]
		}
		if string(f.data) != got {
			if *update {
				f.data = []byte(got)
				st.changed = true
				return
			}
			t.Errorf("%s: %s differs from %s\n--- got\n%s--- want\n%s", where, stream, name, got, f.data)
		}
	case "stdout", "stderr":
		re, err := regexp.Compile("(?m)" + unquote(rest))
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		got := st.output(where, verb)
		if re.MatchString(got) == neg {
			if neg {
				t.Errorf("%s: %s matches %s:\n%s", where, verb, rest, got)
			} else {
				t.Errorf("%s: %s does not match %s:\n%s", where, verb, rest, got)
			}
		}
	default:
		t.Fatalf("%s: unknown command %q", where, verb)
	}
}

func (st *scriptState) output(where, stream string) string {
	if !st.ran {
		st.t.Fatalf("%s: no command has run", where)
	}
	switch stream {
	case "stdout":
		return st.stdout
	case "stderr":
		return st.stderr
	}
	st.t.Fatalf("%s: expected stdout or stderr, not %q", where, stream)
	return ""
}

func (st *scriptState) run(verb string, args []string) {
	var stdout, stderr bytes.Buffer
	env := append([]string(nil), st.env...)
	svc := st.service
	opts := configcheck.Options{
		Stdout:  &stdout,
		Stderr:  &stderr,
		Stdin:   bytes.NewReader(st.stdin),
		Environ: func() []string { return env },
		Setup: func(ctx context.Context, environment string) (*config.Options, []config.Layer, error) {
			return svc.setup(environment, env)
		},
	}
	ctx := context.Background()
	if verb == "badconfig" {
		st.exit = configcheck.Main[badDefaults](ctx, args, opts)
	} else {
		st.exit = configcheck.Main[testConfig](ctx, args, opts)
	}
	st.stdin = nil
	st.ran, st.checked = true, false
	st.stdout = strings.ReplaceAll(stdout.String(), st.work, "$WORK")
	st.stderr = strings.ReplaceAll(stderr.String(), st.work, "$WORK")
	for name, out := range map[string]string{"stdout": st.stdout, "stderr": st.stderr} {
		if strings.Contains(out, canary) {
			st.t.Errorf("configcheck %s: the canary secret appears in %s:\n%s", strings.Join(args, " "), name, out)
		}
	}
}

// testService is the service the scripts check: its setup reads the .env
// files named, the script's environment and the Secrets Manager sources
// named, under a prefix, as a service's own setup function would.
type testService struct {
	prefix   string
	envFiles []string
	secrets  []string // in the syntax of parseSecretSpec
	region   string
	queue    string        // the URL of the Secrets Manager layer's push queue, if any
	watch    time.Duration // config.Options.WatchInterval
}

// parseService reads the arguments of a service line.
func parseService(args []string) (testService, error) {
	svc := testService{prefix: "APP_"}
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.StringVar(&svc.prefix, "prefix", "APP_", "")
	fs.StringVar(&svc.region, "region", "", "")
	fs.Func("env-file", "", func(v string) error { svc.envFiles = append(svc.envFiles, v); return nil })
	fs.Func("secret", "", func(v string) error { svc.secrets = append(svc.secrets, v); return nil })
	fs.StringVar(&svc.queue, "push-queue", "", "")
	fs.DurationVar(&svc.watch, "watch-interval", 0, "")
	if err := fs.Parse(args); err != nil {
		return svc, err
	}
	if fs.NArg() > 0 {
		return svc, fmt.Errorf("unexpected %q", fs.Arg(0))
	}
	return svc, nil
}

// setup returns the service's options and layers in an environment: it is
// production by the name's words (configcheck.IsProduction).
func (svc testService) setup(environment string, environ []string) (*config.Options, []config.Layer, error) {
	var layers []config.Layer
	for _, path := range svc.envFiles {
		layers = append(layers, dotenv.File(path, nil))
	}
	layers = append(layers, env.New(&env.Options{Environ: func() []string { return environ }}))
	if len(svc.secrets) > 0 {
		var sources []secretsmanager.Spec
		for _, spec := range svc.secrets {
			s, err := parseSecretSpec(spec)
			if err != nil {
				return nil, nil, fmt.Errorf("--secret %w", err)
			}
			sources = append(sources, s)
		}
		region := svc.region
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, "AWS_REGION="); ok && region == "" {
				region = v
			}
		}
		var opts secretsmanager.Options
		if svc.queue != "" {
			opts.Push = push.Queue(sqs.New(sqs.Options{Region: region}), svc.queue, nil) // never started
		}
		layers = append(layers, secretsmanager.NewWithClient(offlineClient(region), &opts, sources...))
	}
	return &config.Options{EnvPrefix: svc.prefix, Production: configcheck.IsProduction(environment),
		WatchInterval: svc.watch}, layers, nil
}

// offlineClient is a Secrets Manager client whose every call fails at once:
// the library's tests run without a network; the scripts that read secrets
// live in the tests module. iam and cost never call.
func offlineClient(region string) *sm.Client {
	return sm.New(sm.Options{
		Region:           region,
		Credentials:      aws.AnonymousCredentials{},
		RetryMaxAttempts: 1,
		HTTPClient: httpDoer(func(*http.Request) (*http.Response, error) {
			return nil, errors.New("no network in these tests")
		}),
	})
}

type httpDoer func(*http.Request) (*http.Response, error)

func (f httpDoer) Do(r *http.Request) (*http.Response, error) { return f(r) }

// secretSource is a Secrets Manager source as the scripts write it:
// KIND:ID=KEY[,stage=LABEL|,version=ID][,optional].
type secretSource struct {
	kind      string // "json", "string", "binary", "prefix"
	id        string
	key       string
	stage     string
	versionID string
	optional  bool
}

// parseSecretSpec parses a source of a service line.
func parseSecretSpec(spec string) (secretsmanager.Spec, error) {
	s, err := parseSpec(spec)
	if err != nil {
		return secretsmanager.Spec{}, err
	}
	return s.provider(), nil
}

func parseSpec(spec string) (secretSource, error) {
	kind, rest, ok := strings.Cut(spec, ":")
	if !ok {
		return secretSource{}, fmt.Errorf("%q: expected KIND:ID=KEY, such as json:my-app/production/database=database", spec)
	}
	kind = strings.ToLower(kind)
	// Neither a secret name, an ARN nor a key holds a comma, so options follow
	// the first one.
	parts := strings.Split(rest, ",")
	s := secretSource{kind: kind}
	for _, opt := range parts[1:] {
		name, val, _ := strings.Cut(opt, "=")
		switch {
		case name == "stage" && val != "":
			s.stage = val
		case name == "version" && val != "":
			s.versionID = val
		case name == "optional" && val == "":
			s.optional = true
		default:
			return secretSource{}, fmt.Errorf("%q: unknown option %q; expected stage=LABEL, version=ID or optional", spec, opt)
		}
	}
	target := parts[0]
	switch kind {
	case "prefix":
		s.id = target
	case "json", "string", "binary":
		// A secret name may hold '=' but a key may not, so the key follows
		// the last one.
		i := strings.LastIndexByte(target, '=')
		if i < 0 {
			if kind != "json" {
				return secretSource{}, fmt.Errorf("%q: expected %s:ID=KEY naming the field the value goes to", spec, kind)
			}
			s.id = target
		} else {
			s.id, s.key = target[:i], target[i+1:]
		}
	default:
		return secretSource{}, fmt.Errorf("%q: unknown kind %q; expected json, string, binary or prefix", spec, kind)
	}
	if strings.TrimSpace(s.id) == "" {
		return secretSource{}, fmt.Errorf("%q: empty secret name", spec)
	}
	if s.stage == secretsmanager.StageCurrent {
		s.stage = ""
	}
	if s.stage != "" && s.versionID != "" {
		return secretSource{}, fmt.Errorf("%q: give stage or version, not both", spec)
	}
	if s.kind == "prefix" && s.versionID != "" {
		return secretSource{}, fmt.Errorf("%q: version does not apply to a prefix", spec)
	}
	return s, nil
}

// provider returns the source for the secretsmanager layer.
func (s secretSource) provider() secretsmanager.Spec {
	opts := &secretsmanager.SpecOptions{Stage: s.stage, VersionID: s.versionID, Optional: s.optional}
	switch s.kind {
	case "json":
		return secretsmanager.JSON(s.id, s.key, opts)
	case "string":
		return secretsmanager.String(s.id, s.key, opts)
	case "binary":
		return secretsmanager.Binary(s.id, s.key, opts)
	}
	return secretsmanager.Prefix(s.id, opts)
}

// splitArgs splits a command line at spaces; '...' quotes an argument.
func splitArgs(s string) []string {
	var args []string
	var cur strings.Builder
	inArg, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
			inArg = true
		case r == ' ' && !quoted:
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}

// archive is a txtar archive: a comment, then files each introduced by a
// line "-- NAME --".
type archive struct {
	comment []byte
	files   []archiveFile
}

type archiveFile struct {
	name string
	data []byte
}

func (a *archive) file(name string) *archiveFile {
	for i := range a.files {
		if a.files[i].name == name {
			return &a.files[i]
		}
	}
	return nil
}

// fileMarker returns the name of a "-- NAME --" line.
func fileMarker(line []byte) (string, bool) {
	s := string(bytes.TrimRight(line, "\r\n"))
	if !strings.HasPrefix(s, "-- ") || !strings.HasSuffix(s, " --") || len(s) < 7 {
		return "", false
	}
	name := strings.TrimSpace(s[3 : len(s)-3])
	return name, name != ""
}

func parseArchive(data []byte) *archive {
	a := &archive{}
	var cur *archiveFile
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		if name, ok := fileMarker(line); ok {
			a.files = append(a.files, archiveFile{name: name})
			cur = &a.files[len(a.files)-1]
			continue
		}
		if cur == nil {
			a.comment = append(a.comment, line...)
		} else {
			cur.data = append(cur.data, line...)
		}
	}
	return a
}

func (a *archive) format() []byte {
	var b bytes.Buffer
	b.Write(a.comment)
	for _, f := range a.files {
		fmt.Fprintf(&b, "-- %s --\n", f.name)
		b.Write(f.data)
		if len(f.data) > 0 && f.data[len(f.data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func TestArchiveRoundTrip(t *testing.T) {
	src := "# comment\nconfigcheck env\n-- a.txt --\nline 1\n-- b/c.env --\nX=1\n\n"
	a := parseArchive([]byte(src))
	if len(a.files) != 2 || a.files[1].name != "b/c.env" || string(a.files[0].data) != "line 1\n" {
		t.Fatalf("parsed %+v", a)
	}
	if got := string(a.format()); got != src {
		t.Fatalf("format = %q, want %q", got, src)
	}
	if got := splitArgs(`explain --format json 'a b' x`); strings.Join(got, "|") != "explain|--format|json|a b|x" {
		t.Fatalf("splitArgs = %q", got)
	}
}
