// Package leakcheck holds one test that walks every exported type of every
// package of the module, builds a value of each that carries a canary secret
// wherever one can be, and prints it every way a program might: each fmt
// verb, slog's text and JSON handlers, and encoding/json. A new exported type
// fails the test until it is registered here with a way to build it (or a
// reason it holds no value).
package leakcheck

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/examples/service/appconfig"
	"github.com/strata-go/strata/internal/awscall"
	"github.com/strata-go/strata/internal/benchconfig"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/file"
	"github.com/strata-go/strata/providers/koanf"
	"github.com/strata-go/strata/providers/secretdir"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/secretsmanager/push"
)

const (
	module = "github.com/strata-go/strata"
	canary = "CANARY-leakcheck-8d2f6a"
)

// entry says how to check one exported type: values builds values of it
// (and of pointers to it) that carry the canary, or exempt says why the type
// holds no value to check.
type entry struct {
	values func(f *fixture) []any
	exempt string
}

const (
	noValue   = "an interface or func type: it holds no value of its own; the values behind it are registered"
	notImport = "a type of package main, which cannot be imported"
)

// registry lists every exported type of the module by package path relative
// to the module and name.
var registry = map[string]entry{
	"config.AggregateError":   {values: func(f *fixture) []any { return errorsOf[*config.AggregateError](f.errs) }},
	"config.CallCount":        {values: func(f *fixture) []any { return both(f.sm.Calls()["GetSecretValue"]) }},
	"config.Change":           {values: func(f *fixture) []any { return f.changes }},
	"config.Clock":            {exempt: noValue},
	"config.FieldError":       {values: func(f *fixture) []any { return errorsOf[*config.FieldError](f.errs) }},
	"config.Field":            {values: func(f *fixture) []any { return fieldsOf(f.defaults) }},
	"config.KeyInfo":          {values: func(f *fixture) []any { return keyInfos(f) }},
	"config.Layer":            {exempt: noValue},
	"config.LayerStatus":      {values: func(f *fixture) []any { return both(f.store.Status().Layers...) }},
	"config.MaskedConfig":     {values: func(f *fixture) []any { return both(f.store.Masked()) }},
	"config.Options":          {values: func(f *fixture) []any { return both(f.opts) }},
	"config.Refresher":        {exempt: noValue},
	"config.Schema":           {values: func(f *fixture) []any { return []any{f.store.Schema(), f.defaults} }},
	"config.Secret":           {values: func(*fixture) []any { return both(config.NewSecret(canary)) }},
	"config.Source":           {values: func(f *fixture) []any { return both(f.store.Keys()[0].Source) }},
	"config.SourceError":      {values: func(f *fixture) []any { return errorsOf[*config.SourceError](f.errs) }},
	"config.Status":           {values: func(f *fixture) []any { return both(f.store.Status()) }},
	"config.StatusReporter":   {exempt: noValue},
	"config.Store":            {values: func(f *fixture) []any { return []any{f.store} }},
	"config.UnknownNameError": {values: func(f *fixture) []any { return errorsOf[*config.UnknownNameError](f.errs) }},
	"config.Value":            {values: func(*fixture) []any { return both(canaryValue()) }},
	"config.Update":           {values: func(f *fixture) []any { return both(f.update) }},
	"config.RefreshRequest": {values: func(f *fixture) []any {
		return both(config.RefreshRequest{Schema: f.store.Schema(), Prev: f.update.State})
	}},
	"config.State":       {exempt: noValue},
	"config.Watcher":     {exempt: noValue},
	"config.Watch":       {exempt: "the funcs and schema the store gives a Watcher; its Schema is registered"},
	"config.Event":       {exempt: "names a source and a version, never a value"},
	"config.WatchReport": {values: func(f *fixture) []any { return both(watchReports(f)...) }},
	"config.WatchStatus": {values: func(f *fixture) []any {
		var out []any
		for _, r := range watchReports(f) {
			out = append(out, both(config.WatchStatus{WatchReport: r, Events: 3})...)
		}
		return out
	}},
	"config.Permission": {values: func(f *fixture) []any {
		return both(f.sm.Permissions(config.PermissionScope{Account: "123456789012"})...)
	}},
	"config.PermissionScope": {values: func(*fixture) []any { return both(config.PermissionScope{Account: "*"}) }},
	"config.PushWiring": {values: func(*fixture) []any {
		return both(config.PushWiring{Mode: config.PushFanout, Queue: "orders-", Topic: "secret-changes"})
	}},
	"config.CostScope": {values: func(*fixture) []any { return both(config.CostScope{ItemsPerListing: 3}) }},
	"config.CostModel": {values: func(f *fixture) []any { return both(f.sm.CostModel(config.CostScope{ItemsPerListing: 3})) }},
	"config.APICall": {values: func(f *fixture) []any {
		return both(f.sm.CostModel(config.CostScope{ItemsPerListing: 3}).Calls...)
	}},
	"configcheck.Setup":          {exempt: noValue},
	"health.StatusSource":        {exempt: noValue},
	"configcheck.CostModeler":    {exempt: noValue},
	"configcheck.EventPatterner": {exempt: noValue},
	"configcheck.FileLister":     {exempt: noValue},
	"configcheck.Locator":        {exempt: noValue},
	"configcheck.SharedFiler":    {exempt: noValue},
	"configcheck.Permissioner":   {exempt: noValue},
	"examples/service/appconfig.Setup": {values: func(*fixture) []any {
		return both(appconfig.Setup{EnvFile: ".env", Environ: func() []string { return []string{"APP_API_KEY=" + canary} }})
	}},
	"config.TagWarning": {values: func(*fixture) []any {
		type foreign struct {
			Token config.Secret `envDefault:"CANARY-leakcheck-8d2f6a" env-default:"CANARY-leakcheck-8d2f6a"`
			Key   string        `secret:"true" envDefault:"CANARY-leakcheck-8d2f6a"`
		}
		s, err := config.SchemaFor[foreign]("APP_")
		if err != nil || len(s.Warnings()) < 3 {
			panic(fmt.Sprintf("the schema gave %v, %v: the check would prove little", s.Warnings(), err))
		}
		return errorsOf[*config.TagWarning](s.Warnings())
	}},
	"config.Values": {values: func(*fixture) []any { return both(config.Values{"database.user": canaryValue()}) }},

	"config/configtest.Clock":     {values: func(*fixture) []any { return []any{configtest.NewClock(time.Unix(0, 0))} }},
	"config/configtest.LogBuffer": {values: func(f *fixture) []any { return []any{f.logs} }},
	"config/configtest.Harness":   {values: func(*fixture) []any { return both(configtest.Harness{Refresher: true}) }},
	"config/configtest.Setup": {values: func(f *fixture) []any {
		return both(configtest.Setup{Schema: f.store.Schema(), Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	}},
	"config/configtest.Fixture": {exempt: noValue},
	"config/configtest.Failure": {values: func(*fixture) []any { return both(configtest.Malformed) }},

	"configcheck.Options": {values: func(*fixture) []any {
		o := configcheck.Options{Name: "check", Environment: "dev", Stdin: strings.NewReader(canary),
			Setup: func(context.Context, string) (*config.Options, []config.Layer, error) {
				return &config.Options{FingerprintKey: []byte(canary)}, []config.Layer{config.StaticSecrets("s", map[string]string{"k": canary})}, nil
			},
			Environ: func() []string { return []string{"APP_DATABASE_USER=" + canary} }}
		return both(o)
	}},

	"providers/secretsmanager.API": {exempt: noValue},
	"providers/secretsmanager.KoanfProvider": {values: func(f *fixture) []any {
		return []any{f.sm.Provider(&secretsmanager.KoanfOptions{Timeout: time.Second})}
	}},
	"providers/secretsmanager.Reader": {values: func(f *fixture) []any { return []any{f.sm} }},
	"providers/secretsmanager.Options": {values: func(*fixture) []any {
		return both(secretsmanager.Options{Concurrency: 2, Logger: slog.New(slog.DiscardHandler)})
	}},
	"providers/secretsmanager.Spec": {values: func(f *fixture) []any { return both(f.sm.Specs()...) }},
	"providers/secretsmanager.SpecOptions": {values: func(*fixture) []any {
		return both(secretsmanager.SpecOptions{Stage: secretsmanager.StagePrevious, VersionID: "v1", Optional: true})
	}},
	"providers/secretsmanager.ListGate": {values: func(*fixture) []any {
		return both(secretsmanager.ListGateOff, secretsmanager.ListGateAuto, secretsmanager.ListGate(9))
	}},
	"providers/secretsmanager/push.SQSAPI": {exempt: noValue},
	"providers/secretsmanager/push.SNSAPI": {exempt: noValue},
	"providers/secretsmanager/push.Feed": {values: func(*fixture) []any {
		return []any{push.Queue(nil, "https://sqs.eu-west-1.amazonaws.com/1/q", nil), push.FanOut(nil, nil, "arn:aws:sns:eu-west-1:1:t", "app-", nil)}
	}},
	"providers/secretsmanager/push.Options": {values: func(*fixture) []any {
		return both(push.Options{WaitTime: time.Second, Logger: slog.New(slog.DiscardHandler)})
	}},
	"providers/secretsmanager/push.Mode": {values: func(*fixture) []any { return both(push.ModeQueue, push.ModeFanOut) }},
	// A change names a secret and a version, never a value.
	"providers/secretsmanager/push.Change": {values: func(*fixture) []any {
		return both(push.Change{Name: "app/db", Label: push.CurrentLabel, VersionID: "v2", At: time.Unix(0, 0)})
	}},
	"providers/secretsmanager/push.Target": {values: func(*fixture) []any {
		return both(push.Target{Resolve: func(push.Change) []config.Event { return nil }, Notify: func(config.Event) {}})
	}},
	"providers/secretsmanager/push.Error": {values: func(*fixture) []any {
		return both(&push.Error{Op: "ReceiveMessage", Resource: "https://sqs.eu-west-1.amazonaws.com/1/q", Code: config.ErrNotFound, Err: errors.New("no such queue")})
	}},
	"providers/secretsmanager.KoanfOptions": {values: func(*fixture) []any { return both(secretsmanager.KoanfOptions{Timeout: time.Second}) }},
	"providers/koanf.Options":               {values: func(*fixture) []any { return both(koanf.Options{Sensitive: true}) }},
	"providers/env.Options": {values: func(*fixture) []any {
		return both(env.Options{Environ: func() []string { return []string{"APP_DATABASE_PASSWORD=" + canary} }})
	}},
	"providers/dotenv.Options": {values: func(*fixture) []any { return both(dotenv.Options{Optional: true}) }},
	"providers/secretdir.Options": {values: func(*fixture) []any {
		return both(secretdir.Options{Optional: true, Naming: secretdir.ByKey, Names: map[string]string{"db-password": "database.password"}})
	}},
	"providers/file.Options":       {values: func(*fixture) []any { return both(file.Options{Format: file.YAML, Optional: true}) }},
	"providers/file.Format":        {values: func(*fixture) []any { return both(file.YAML, file.JSON, file.TOML) }},
	"providers/secretdir.Naming":   {values: func(*fixture) []any { return both(secretdir.ByEnv, secretdir.ByKey) }},
	"providers/dotenv.Warning":     {values: func(f *fixture) []any { return errorsOf[*dotenv.Warning](f.errs) }},
	"providers/dotenv.WarningKind": {values: func(*fixture) []any { return both(dotenv.UndefinedVariable, dotenv.UnclosedQuote) }},
	"providers/secretsmanager.CredentialsError": {values: func(*fixture) []any {
		// It holds the credentials chain's error, never a value read from a source.
		return both(secretsmanager.CredentialsError{Err: errors.New("no EC2 IMDS role found")})
	}},

	// It holds operation names and call counts only.
	"internal/awscall.Counters": {values: func(*fixture) []any {
		c := new(awscall.Counters)
		c.Add("GetSecretValue", nil)
		c.Add("GetSecretValue", errors.New("failed"))
		return []any{c}
	}},

	// Configuration types of the module's own programs: every secret field
	// filled with the canary.
	"internal/benchconfig.Config":       {values: func(*fixture) []any { return both(withSecrets[benchconfig.Config]()) }},
	"examples/service/appconfig.Config": {values: func(*fixture) []any { return both(withSecrets[appconfig.Config]()) }},
	"cmd/configcheck.ServiceConfig":     {exempt: notImport},
	"examples/basic.Config":             {exempt: notImport},
	"examples/lambda.Handler":           {exempt: notImport},
	"examples/lambda.Request":           {exempt: notImport},
	"examples/lambda.Response":          {exempt: notImport},
	"examples/service.Database":         {exempt: notImport},
}

// exportedTypes parses every non-test Go file of the module (the tests
// module, a nested module, is not part of it) and returns its exported types
// as "path.Name", with whether the package is main.
func exportedTypes(t *testing.T) map[string]bool {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !strings.Contains(string(b), "module "+module+"\n") {
		t.Fatalf("%s is not the root of %s: %v", root, module, err)
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				fileExists(filepath.Join(path, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				if ts := spec.(*ast.TypeSpec); ts.Name.IsExported() {
					out[filepath.ToSlash(rel)+"."+ts.Name.Name] = file.Name.Name == "main"
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestEveryExportedTypeIsRegistered fails for an exported type that is not
// in the registry, and for a registry entry whose type no longer exists.
func TestEveryExportedTypeIsRegistered(t *testing.T) {
	found := exportedTypes(t)
	if len(found) < 20 {
		t.Fatalf("found only %d exported types; the walk is broken", len(found))
	}
	for _, name := range sortedKeys(found) {
		e, ok := registry[name]
		switch {
		case !ok:
			t.Errorf("exported type %s is not registered: add a way to build it with the canary in every secret (or why it holds no value) to the registry", name)
		case found[name] && e.exempt != notImport:
			t.Errorf("%s is in package main: register it as notImport", name)
		case e.values == nil && e.exempt == "":
			t.Errorf("%s is registered with neither values nor a reason", name)
		}
	}
	for name := range registry {
		if _, ok := found[name]; !ok {
			t.Errorf("registry entry %s names no exported type of the module", name)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestNoCanaryInAnyRendering prints a value of every registered type every
// way and fails if the canary shows, raw, quoted, in hex, in base64 or as
// decimal bytes. Each value must be of the type it is registered for.
func TestNoCanaryInAnyRendering(t *testing.T) {
	f := newFixture(t)
	for _, name := range sortedKeys(registry) {
		e := registry[name]
		if e.values == nil {
			continue
		}
		vals := e.values(f)
		if len(vals) == 0 {
			t.Errorf("%s: the fixture built no value", name)
		}
		for _, v := range vals {
			if got := typeKey(v); got != name {
				t.Errorf("%s: the registry built a %s", name, got)
			}
			for how, text := range configtest.Renderings(v) {
				for _, form := range configtest.LeakForms(canary) {
					if strings.Contains(text, form) {
						t.Errorf("%s (%T) printed with %s shows the canary (%q):\n%s", name, v, how, form, text)
					}
				}
			}
		}
	}
	for i, v := range f.extra {
		for how, text := range configtest.Renderings(v) {
			if strings.Contains(text, canary) {
				t.Errorf("extra value %d (%T) printed with %s shows the canary:\n%s", i, v, how, text)
			}
		}
	}
}

// typeKey names the type of v (or of what it points to) as the registry does.
func typeKey(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name, _, _ := strings.Cut(t.Name(), "[")
	return strings.TrimPrefix(strings.TrimPrefix(t.PkgPath(), module), "/") + "." + name
}

// both returns each value and a pointer to it.
func both[V any](vs ...V) []any {
	var out []any
	for i := range vs {
		out = append(out, vs[i], &vs[i])
	}
	return out
}

func canaryValue() config.Value {
	return config.Value{Raw: canary, Source: config.Source{Layer: "env", Location: "APP_DATABASE_USER"}}
}

// errorsOf returns every error of type E in the chains of errs.
func errorsOf[E error](errs []error) []any {
	var out []any
	for _, err := range errs {
		for _, e := range configtest.ErrorTree(err) {
			if x, ok := e.(E); ok {
				out = append(out, x)
			}
		}
	}
	return out
}

func fieldsOf(s *config.Schema) []any {
	var out []any
	for _, f := range s.Fields() {
		out = append(out, f, *f)
	}
	return out
}

func keyInfos(f *fixture) []any {
	out := both(f.store.Keys()...)
	// A KeyInfo built by hand that says it is secret is printed masked too.
	return append(out, both(config.KeyInfo{Key: "database.user", Secret: true, Set: true, Value: canary})...)
}

// withSecrets returns a T whose every secret field (config.Secret, or
// secret:"true" string) holds the canary.
func withSecrets[T any]() *T {
	s, err := config.SchemaFor[T]("")
	if err != nil {
		panic(err)
	}
	v := new(T)
	root := reflect.ValueOf(v).Elem()
	for _, f := range s.Fields() {
		if !f.Secret {
			continue
		}
		fv := root
		for _, name := range strings.Split(f.GoPath, ".") {
			fv = fv.FieldByName(name)
		}
		switch {
		case fv.Type() == reflect.TypeFor[config.Secret]():
			fv.Set(reflect.ValueOf(config.NewSecret(canary)))
		case fv.Kind() == reflect.String:
			fv.SetString(canary)
		}
	}
	return v
}

// fixture holds values built once for every check.
type fixture struct {
	opts     *config.Options
	store    *config.Store[appCfg]
	defaults *config.Schema
	sm       *secretsmanager.Reader
	changes  []any
	errs     []error
	logs     *configtest.LogBuffer
	extra    []any         // values of unexported types reachable from exported API
	update   config.Update // a Secrets Manager read, its State holding the canary
}

// appCfg has a secret of each kind.
type appCfg struct {
	Database struct {
		Host     string        `validate:"required"`
		Port     int           `default:"5432"`
		Password config.Secret `validate:"required,min=12,max=30"`
		User     string        `secret:"true" validate:"required"`
	}
	Payments struct {
		StripeKey config.Secret
	}
}

// withDefault has a secret default, which the schema must not print.
type withDefault struct {
	Token config.Secret `default:"CANARY-leakcheck-8d2f6a"`
}

// watchReports are reports of a watch that failed with each error of the
// fixture, which carry the canary where a secret's error might.
func watchReports(f *fixture) []config.WatchReport {
	var out []config.WatchReport
	for _, err := range f.errs {
		out = append(out, config.WatchReport{Err: err, Handled: 1})
	}
	return out
}
