package configcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/strata-go/strata/config"
)

func explainCommand() *command {
	var (
		lf     *layerFlags
		format *choice
	)
	return &command{
		name:     "explain",
		args:     "[key|section|ENV_NAME ...]",
		posLimit: -1,
		summary:  "show each key's value, with secrets masked, and the layer and place that set it",
		details: `
Prints one line a setting: its key, its value (a secret shows [REDACTED] and a
fingerprint, the same for the same value in any environment), and its source:
default, .env:12, env APP_DATABASE_HOST, or
secretsmanager my-app/production/database#password (version 3f2a9c1e, AWSCURRENT).
Arguments narrow the list to keys, sections (database) or environment names.
The JSON output is what diff compares.

The table is printed in every case. When a source failed, the table is not
what the service would run with: the source is named on stderr and explain
exits as validate does, with 1 for a problem of the environment (a secret
that is missing, denied or cannot be decrypted, a file that does not parse)
and 2 for a source that could not be read at all (a file, a remote store not
answering). A value that does not decode into its setting's type is shown as
[REDACTED] (it may be secret text under the wrong key), named on stderr, and
ends explain with 1. Other problems (values that fail their rules, unknown
names, secret-policy findings) are counted on stderr and leave the exit code
0: validate is the command that judges them.`,
		flags: func(r *runner, fs *flag.FlagSet) {
			lf = r.defineLayerFlags(fs)
			format = formatFlag(fs, "text", "json")
		},
		run: func(r *runner, ctx context.Context, args []string) int {
			l, err := r.load(ctx, lf)
			if err != nil {
				return r.fail(err)
			}
			infos, err := selectKeys(l.schema, config.Explain(l.schema, l.merged, r.fingerprintKey(l.opts)), args)
			if err != nil {
				return r.fail(usageError{err})
			}
			if format.value == "json" {
				err = writeExplainJSON(r.stdout, explainDoc{Prefix: l.opts.EnvPrefix, Environment: lf.environment, Keys: toEntries(infos)})
			} else {
				err = writeExplainText(r.stdout, infos)
			}
			if err != nil {
				return r.fail(err)
			}
			rep := &report{}
			for _, e := range l.problems {
				rep.add(classify(e, l.policy(lf)))
			}
			// A source that failed leaves keys unset or set by an earlier
			// layer, and a value that does not decode cannot be run with, so
			// the table is not what the service would run with: say which,
			// and exit as validate does for it.
			failed := &report{}
			for _, f := range rep.findings {
				if f.Kind == kindSource || f.Kind == kindInvalidValue {
					r.errorf("%s: %s", f.Severity, f.Message)
					failed.add(f)
				}
			}
			if errs, warns := rep.count(); errs+warns > 0 {
				r.errorf("%s, %s; run validate for details", plural(errs, "error"), plural(warns, "warning"))
			}
			return failed.exitCode()
		},
	}
}

// selectKeys keeps the keys named by args: a key, a section ("database") or
// an environment name. No args keeps every key.
func selectKeys(schema *config.Schema, infos []config.KeyInfo, args []string) ([]config.KeyInfo, error) {
	if len(args) == 0 {
		return infos, nil
	}
	want := map[string]bool{}
	var sections []string
	for _, a := range args {
		switch {
		case schema.Field(a) != nil:
			want[a] = true
		case schema.FieldByEnv(a) != nil:
			want[schema.FieldByEnv(a).Key] = true
		case schema.IsSection(a):
			sections = append(sections, a+".")
		default:
			u := schema.UnknownKey(a, config.Source{})
			if u.Suggestion == "" && strings.ToUpper(a) == a {
				u = schema.UnknownEnv(a, config.Source{})
			}
			return nil, fmt.Errorf("explain: %w", u)
		}
	}
	var out []config.KeyInfo
	for _, ki := range infos {
		keep := want[ki.Key]
		for _, s := range sections {
			keep = keep || strings.HasPrefix(ki.Key, s)
		}
		if keep {
			out = append(out, ki)
		}
	}
	return out, nil
}

// display is the value column of explain: "(unset)", a secret's mask and
// fingerprint, or the value, quoted when it holds spaces at its ends or
// control characters.
func display(ki config.KeyInfo) string {
	switch {
	case !ki.Set:
		return "(unset)"
	case ki.Secret:
		return config.Redacted + " fp:" + ki.Fingerprint
	}
	return quoteIfNeeded(ki.Value)
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.TrimSpace(s) != s || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return strconv.Quote(s)
	}
	return s
}

func writeExplainText(w io.Writer, infos []config.KeyInfo) error {
	return writeTable(w, 0, func(tw io.Writer) {
		fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
		for _, ki := range infos {
			src := "-"
			if ki.Set {
				src = ki.Source.String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", ki.Key, display(ki), src)
		}
	})
}

// writeTable renders the tab-separated rows that fill writes as aligned
// columns, two spaces apart, without trailing blanks. flags are those of
// text/tabwriter.
func writeTable(w io.Writer, flags uint, fill func(tw io.Writer)) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', flags)
	fill(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, line := range lines {
		lines[i] = strings.TrimRight(line, " \n")
		if strings.HasSuffix(line, "\n") {
			lines[i] += "\n"
		}
	}
	_, err := io.WriteString(w, strings.Join(lines, ""))
	return err
}

// explainDoc is the JSON output of explain and the input of diff.
type explainDoc struct {
	Prefix      string         `json:"prefix,omitempty"`
	Environment string         `json:"environment,omitempty"`
	Keys        []explainEntry `json:"keys"`
}

// explainEntry is one key of explainDoc. A secret's Value is always
// [REDACTED]; Fingerprint stands in for it.
type explainEntry struct {
	Key         string `json:"key"`
	Env         string `json:"env"`
	Type        string `json:"type"`
	Secret      bool   `json:"secret"`
	Set         bool   `json:"set"`
	Value       string `json:"value"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Layer       string `json:"layer,omitempty"`
	Source      string `json:"source,omitempty"`
	Location    string `json:"location,omitempty"`
	Line        int    `json:"line,omitempty"`
	Version     string `json:"version,omitempty"`
	Stage       string `json:"stage,omitempty"`
}

func toEntries(infos []config.KeyInfo) []explainEntry {
	out := make([]explainEntry, 0, len(infos))
	for _, ki := range infos {
		e := explainEntry{
			Key: ki.Key, Env: ki.Env, Type: ki.Type, Secret: ki.Secret, Set: ki.Set,
			Value: ki.Value, Fingerprint: ki.Fingerprint,
		}
		if ki.Secret && ki.Set {
			e.Value = config.Redacted
		}
		if ki.Set {
			e.Layer, e.Source = ki.Source.Layer, ki.Source.String()
			e.Location, e.Line = ki.Source.Location, ki.Source.Line
			e.Version, e.Stage = ki.Source.Version, ki.Source.Stage
		}
		out = append(out, e)
	}
	return out
}

func writeExplainJSON(w io.Writer, doc explainDoc) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
