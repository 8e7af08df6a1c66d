package configcheck

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/strata-go/strata/config"
)

// Exit codes of Main.
const (
	// ExitOK means no problem was found.
	ExitOK = 0
	// ExitProblems means problems were found (for diff: the two environments
	// differ).
	ExitProblems = 1
	// ExitUsage means a usage error, a Setup that failed, a file that could
	// not be read, or a remote source not answering (timeouts, throttling,
	// 5xx, unreachable). A source that answers that a value is missing,
	// denied or cannot be decrypted is a problem found: ExitProblems.
	ExitUsage = 2
)

// FingerprintKeyEnv names the environment variable whose value keys the
// fingerprints of secrets that configcheck prints, as
// config.Options.FingerprintKey does for a store. Set it to the same secret
// value for every environment you compare; unset, the default key is used.
const FingerprintKeyEnv = "STRATA_FINGERPRINT_KEY"

// fingerprintKey returns the key of the fingerprints configcheck prints: the
// value of FingerprintKeyEnv when it is set, otherwise the service's
// config.Options.FingerprintKey (nil for the default key).
func (r *runner) fingerprintKey(opts *config.Options) []byte {
	for _, kv := range r.opts.Environ() {
		if v, ok := strings.CutPrefix(kv, FingerprintKeyEnv+"="); ok && v != "" {
			return []byte(v)
		}
	}
	return opts.FingerprintKey
}

// Options configures Main for one service. The zero value is valid; each
// field's comment gives its default. What the service gives config.Load (its
// prefix, strictness, production rule, validator, fingerprint key and refresh
// interval) is not repeated here: configcheck takes it from Setup.
type Options struct {
	// Name is the program name shown in usage and messages, such as
	// "myservice configcheck". Default: "configcheck".
	Name string
	// Setup returns the options and layers the service loads its
	// configuration with in an environment: the function its main calls
	// before config.Load. Default: no layers and zero options, so that only
	// the defaults from struct tags are checked.
	Setup Setup
	// Environment is the default of --environment: the name of the
	// environment checked, passed to Setup. Default: none.
	Environment string

	// Stdout and Stderr receive the output. Default: os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// Stdin is read by diff for a file named "-". Default: os.Stdin.
	Stdin io.Reader
	// Environ returns the environment configcheck itself reads
	// (FingerprintKeyEnv), as os.Environ does; the layers read what Setup
	// gives them. Default: os.Environ.
	Environ func() []string
}

func (o Options) normalize() Options {
	if o.Name == "" {
		o.Name = "configcheck"
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Environ == nil {
		o.Environ = os.Environ
	}
	if o.Setup == nil {
		o.Setup = func(context.Context, string) (*config.Options, []config.Layer, error) {
			return &config.Options{}, nil, nil
		}
	}
	return o
}

// Main runs the configcheck command line args (without the program name) for
// the configuration type T and returns the exit code: ExitOK, ExitProblems or
// ExitUsage. It never calls os.Exit.
func Main[T any](ctx context.Context, args []string, opts Options) int {
	opts = opts.normalize()
	r := &runner{
		opts:   opts,
		stdout: opts.Stdout,
		stderr: opts.Stderr,
		schema: config.SchemaFor[T],
		check: func(ctx context.Context, o *config.Options, layers []config.Layer) error {
			s, err := config.Load[T](ctx, o, layers...)
			if s != nil {
				_ = s.Close()
			}
			return err
		},
	}
	return r.run(ctx, args)
}

// runner holds what the subcommands share. It is built per call of Main.
type runner struct {
	opts           Options
	stdout, stderr io.Writer
	// schema returns the schema of the configuration type under a prefix.
	schema func(prefix string) (*config.Schema, error)
	// check loads the configuration type from layers, as config.Load does.
	check func(ctx context.Context, o *config.Options, layers []config.Layer) error
}

// command is one subcommand. Its flags function defines the flags on a new
// FlagSet and keeps the values where its run function reads them.
type command struct {
	name     string
	args     string // the positional arguments, for usage
	summary  string
	details  string
	run      func(r *runner, ctx context.Context, args []string) int
	flags    func(r *runner, fs *flag.FlagSet) // defines the flags on fs
	posLimit int                               // the most positional arguments; -1 for any
}

func commands() []*command {
	return []*command{
		validateCommand(),
		explainCommand(),
		envCommand(),
		lintCommand(),
		diffCommand(),
		costCommand(),
		iamCommand(),
		infraCommand(),
	}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (r *runner) run(ctx context.Context, args []string) int {
	name := "validate"
	switch {
	case len(args) == 0:
	case args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help":
		if len(args) > 1 && args[0] == "help" {
			c := findCommand(args[1])
			if c == nil {
				return r.unknownCommand(args[1])
			}
			fs := r.flagSet(c)
			fs.SetOutput(r.stdout)
			fs.Usage()
			return ExitOK
		}
		r.usage(r.stdout)
		return ExitOK
	case !strings.HasPrefix(args[0], "-"):
		name, args = args[0], args[1:]
	default:
		name, args = r.commandAfterFlags(args)
	}
	c := findCommand(name)
	if c == nil {
		return r.unknownCommand(name)
	}
	fs := r.flagSet(c)
	if helpRequested(args) {
		fs.SetOutput(r.stdout)
		fs.Usage()
		return ExitOK
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		// The flag package has printed the error and the usage.
		return ExitUsage
	}
	if c.posLimit >= 0 && len(pos) > c.posLimit {
		r.errorf("%s: unexpected argument %q", c.name, pos[c.posLimit])
		fmt.Fprintf(r.stderr, "Run '%s %s --help' for usage.\n", r.opts.Name, c.name)
		return ExitUsage
	}
	return c.run(r, ctx, pos)
}

// commandAfterFlags finds a command named after flags, as in
// "--environment prod validate": the first argument that names a command and
// follows only flags of that command (with their values). It returns the
// command and the other arguments, or validate and args unchanged.
func (r *runner) commandAfterFlags(args []string) (string, []string) {
	for i, a := range args {
		if a == "--" {
			break
		}
		c := findCommand(a)
		if c == nil || i == 0 {
			continue
		}
		fs := r.flagSet(c)
		fs.SetOutput(io.Discard)
		if err := fs.Parse(args[:i]); err == nil && fs.NArg() == 0 {
			return a, append(slices.Clip(args[:i]), args[i+1:]...)
		}
	}
	return "validate", args
}

// unknownCommand reports a command that does not exist, with the closest one
// when there is one, and returns ExitUsage.
func (r *runner) unknownCommand(name string) int {
	if near := closestCommand(name); near != "" {
		r.errorf("unknown command %q; did you mean %s?", name, near)
		fmt.Fprintf(r.stderr, "Run '%s --help' for usage.\n", r.opts.Name)
		return ExitUsage
	}
	r.errorf("unknown command %q", name)
	r.usage(r.stderr)
	return ExitUsage
}

// closestCommand returns the command name was probably meant to be: the only
// command it begins (two letters at least), or the one within one edit (two
// for names longer than four letters) of it, or "".
func closestCommand(name string) string {
	name = strings.ToLower(name)
	var prefixed []string
	best, bestDist := "", -1
	for _, c := range commands() {
		if len(name) >= 2 && strings.HasPrefix(c.name, name) {
			prefixed = append(prefixed, c.name)
		}
		if d := config.EditDistance(name, c.name); bestDist < 0 || d < bestDist {
			best, bestDist = c.name, d
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	limit := 1
	if len([]rune(name)) > 4 {
		limit = 2
	}
	if bestDist > limit {
		return ""
	}
	return best
}

func (r *runner) flagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(r.stderr)
	c.flags(r, fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s %s [flags]", r.opts.Name, c.name)
		if c.args != "" {
			fmt.Fprintf(w, " %s", c.args)
		}
		fmt.Fprintf(w, "\n\n%s\n", c.summary)
		if c.details != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.details))
		}
		fmt.Fprintf(w, "\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nExit codes: 0 no problem, 1 problems found, 2 usage error or unreadable source.\n")
	}
	return fs
}

// helpRequested reports whether args ask for help before any "--".
func helpRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// parseInterspersed parses flags that may come before, between or after the
// positional arguments, and returns the positional arguments. "--" ends the
// flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first positional argument, or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (r *runner) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [command] [flags] [arguments]\n\n", r.opts.Name)
	fmt.Fprintf(w, "Checks the configuration of the service before a deploy.\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nThe default command is validate. Run '%s COMMAND --help' for the flags of a command.\n", r.opts.Name)
	fmt.Fprintf(w, "Exit codes: 0 no problem, 1 problems found, 2 usage error or unreadable source.\n")
}

// errorf prints a message prefixed with the program name to stderr.
func (r *runner) errorf(format string, args ...any) {
	fmt.Fprintf(r.stderr, "%s: %s\n", r.opts.Name, fmt.Sprintf(format, args...))
}

// formatFlag defines --format with the allowed values; the first is the
// default.
func formatFlag(fs *flag.FlagSet, allowed ...string) *choice {
	c := &choice{allowed: allowed, value: allowed[0]}
	fs.Var(c, "format", "the output `format`: "+strings.Join(allowed, ", "))
	return c
}

// choice is a flag value restricted to a few words.
type choice struct {
	allowed []string
	value   string
}

func (c *choice) String() string {
	if c == nil {
		return ""
	}
	return c.value
}

func (c *choice) Set(s string) error {
	for _, a := range c.allowed {
		if s == a {
			c.value = s
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(c.allowed, ", "))
}

// listFlag is a repeatable string flag.
type listFlag struct {
	values []string
	set    bool
}

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.values, ",")
}

func (l *listFlag) Set(s string) error {
	l.values = append(l.values, s)
	l.set = true
	return nil
}
