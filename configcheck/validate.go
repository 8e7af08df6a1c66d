package configcheck

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/strata-go/strata/config"
)

func validateCommand() *command {
	var (
		lf     *layerFlags
		format *choice
	)
	return &command{
		name:    "validate",
		summary: "load every layer as the service would and report every problem",
		details: `
Reads the defaults and every layer of the service's setup for --environment
(such as .env files, the environment and Secrets Manager) in the service's
order, decodes and validates the result, and lists every problem at once:
values that do not decode, rules that fail, unknown names under the prefix
(with the closest known name), secrets set by plain layers, sources that
cannot be read. Unknown names and secret-policy findings
are warnings unless --strict (or the service's Strict) makes them errors;
secret-policy findings are also errors in production (--production, or the
service's Production for --environment). No secret value is printed in any
format.`,
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
			p := l.policy(lf)
			for _, e := range l.problems {
				rep.add(classify(e, p))
			}
			if err := rep.write(r.stdout, format.value, plural(len(l.schema.Fields()), "setting")+" checked"); err != nil {
				return r.fail(err)
			}
			return rep.exitCode()
		},
	}
}

// fail prints err and returns its exit code: ExitProblems for a configuration
// type that is itself wrong, ExitUsage otherwise.
func (r *runner) fail(err error) int {
	r.errorf("%v", err)
	if errors.Is(err, config.ErrSchema) {
		return ExitProblems
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(r.stderr, "Run '%s --help' for usage.\n", r.opts.Name)
	}
	return ExitUsage
}
