package configcheck

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/strata-go/strata/config"
)

func lintCommand() *command {
	var (
		lf     *layerFlags
		format *choice
	)
	return &command{
		name:    "lint",
		summary: "find risky configuration: unknown names, secrets in plain layers, exposed .env files, bad defaults",
		details: `
Reports, each as an error:
  - names under the prefix that map to no field, with the closest known name;
  - secret fields set by a layer that is not sensitive (.env, environment)
    or by a default, even when a later layer overrides them;
  - a file a layer reads (such as a .env file) readable by group or others
    (fix: chmod 600), unless the layer shares it (a settings file);
  - such a file tracked by git (checked with git ls-files when git is
    installed; skipped otherwise);
  - defaults that fail their own validate rules.
Unlike validate, lint does not check that required values are present.`,
		flags: func(r *runner, fs *flag.FlagSet) {
			lf = r.defineLayerFlags(fs)
			format = formatFlag(fs, "text", "json", "github")
		},
		run: func(r *runner, ctx context.Context, _ []string) int {
			l, err := r.load(ctx, lf)
			if err != nil {
				return r.fail(err)
			}
			rep := &report{}
			all := policy{strict: true, production: true, known: l.known()}
			for _, e := range l.problems {
				f := classify(e, all)
				if f.Kind == kindUnknownName || f.Kind == kindSource {
					rep.add(f)
				}
			}
			lintSecrets(rep, l)
			for _, path := range l.privateFiles() {
				lintEnvFile(ctx, rep, path)
			}
			r.lintDefaults(ctx, rep, l)
			if err := rep.write(r.stdout, format.value, "no lint findings"); err != nil {
				return r.fail(err)
			}
			return rep.exitCode()
		},
	}
}

// lintSecrets reports every secret field that a default or a layer that is not
// sensitive sets, whichever layer wins; a value its layer marked Sensitive
// (config.Value.Sensitive) comes from a proper home for secrets, as the store
// counts it.
func lintSecrets(rep *report, l *loaded) {
	for _, f := range l.schema.Fields() {
		if !f.Secret {
			continue
		}
		if f.HasDefault {
			rep.add(finding{
				Severity: severityError, Kind: kindSecretPolicy, Key: f.Key, Env: f.Env, Source: "default",
				Message: fmt.Sprintf("%s is a secret but has a default; remove the default tag and keep the value in a secret store", f.Key),
			})
		}
		for _, rl := range l.layers {
			v, ok := rl.values[f.Key]
			if !ok || rl.layer.Sensitive() || v.Sensitive {
				continue
			}
			fd := finding{
				Severity: severityError, Kind: kindSecretPolicy, Key: f.Key, Env: f.Env, Source: v.Source.String(),
				Message: fmt.Sprintf("%s is a secret but is set by %s, a layer that is not sensitive; keep it in a secret store", f.Key, v.Source),
			}
			fd.file, fd.line = fileLine(v.Source)
			rep.add(fd)
		}
	}
}

// lintEnvFile reports a .env file that others may read or that git tracks. A
// file that does not exist is skipped: the layers report it when it matters.
func lintEnvFile(ctx context.Context, rep *report, path string) {
	info, err := os.Stat(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			rep.add(finding{Severity: severityError, Kind: kindSource, Source: path, file: path, unreadable: true,
				Message: fmt.Sprintf("cannot inspect %s: %v", path, err)})
		}
		return
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		rep.add(finding{Severity: severityError, Kind: kindEnvFileMode, Source: path, file: path,
			Message: fmt.Sprintf("%s is readable by group or others (mode %#o); run chmod 600 %s", path, info.Mode().Perm(), path)})
	}
	if gitTracks(ctx, path) {
		rep.add(finding{Severity: severityError, Kind: kindEnvFileTracked, Source: path, file: path,
			Message: fmt.Sprintf("%s is tracked by git; run git rm --cached %s and add it to .gitignore", path, path)})
	}
}

// gitTracks reports whether git tracks the file. It is false when git is not
// installed or the file is not in a repository.
func gitTracks(ctx context.Context, path string) bool {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return false
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	cmd := exec.CommandContext(ctx, gitPath, "ls-files", "--error-unmatch", "--", base)
	cmd.Dir = dir
	return cmd.Run() == nil
}

// lintDefaults reports defaults that fail their own rules: it loads the
// configuration from the defaults alone and keeps the problems of fields that
// have a default.
func (r *runner) lintDefaults(ctx context.Context, rep *report, l *loaded) {
	o := checkOptions(l.opts, false)
	o.Strict, o.Production = false, false
	err := r.check(ctx, o, nil)
	schema := l.schema
	for _, e := range flatten(nil, err) {
		var fe *config.FieldError
		if !errors.As(e, &fe) || errors.Is(e, config.ErrSecretPolicy) {
			continue
		}
		f := schema.Field(fe.Key)
		if f == nil || !f.HasDefault {
			continue
		}
		rep.add(finding{
			Severity: severityError, Kind: kindInvalidDefault, Key: fe.Key, Env: fe.Env, Source: "default", Rule: fe.Rule,
			Message: fmt.Sprintf("the default of %s fails its own rules: %s", fe.Key, fe.Message),
		})
	}
}
