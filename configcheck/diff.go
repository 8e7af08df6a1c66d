package configcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/strata-go/strata/config"
)

func diffCommand() *command {
	var (
		all    bool
		format *choice
	)
	return &command{
		name:     "diff",
		args:     "A.json B.json",
		posLimit: 2,
		summary:  "compare two environments from the JSON output of explain; secrets by fingerprint only",
		details: `
Each file is the output of 'explain --format json' for one environment ("-"
reads standard input), for example:

  configcheck explain --format json --environment staging ... > staging.json
  configcheck explain --format json --environment production ... > production.json
  configcheck diff staging.json production.json

Lists the keys present in only one file and the values that differ. Secrets
are compared by fingerprint and shown only as one. Exits 0 when the
environments agree and 1 when they differ.`,
		flags: func(r *runner, fs *flag.FlagSet) {
			fs.BoolVar(&all, "all", false, "show the keys that agree too")
			format = formatFlag(fs, "text", "json")
		},
		run: func(r *runner, _ context.Context, args []string) int {
			if len(args) != 2 {
				return r.fail(usageError{errors.New("diff needs two files, such as staging.json production.json")})
			}
			var docs [2]*explainDoc
			for i, path := range args {
				doc, err := readExplainDoc(path, r.opts.Stdin)
				if err != nil {
					return r.fail(err)
				}
				docs[i] = doc
			}
			names := [2]string{sideName(args[0], docs[0]), sideName(args[1], docs[1])}
			if names[0] == names[1] {
				names = [2]string{args[0], args[1]}
			}
			rows := diffDocs(docs[0], docs[1])
			var err error
			if format.value == "json" {
				err = writeDiffJSON(r.stdout, names, rows, all)
			} else {
				err = writeDiffText(r.stdout, names, rows, all)
			}
			if err != nil {
				return r.fail(err)
			}
			for _, row := range rows {
				if row.Change != changeSame {
					return ExitProblems
				}
			}
			return ExitOK
		},
	}
}

func readExplainDoc(path string, stdin io.Reader) (*explainDoc, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	var doc explainDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("diff: %s is not the JSON output of explain: %v", path, jsonProblem(err))
	}
	if doc.Keys == nil {
		return nil, fmt.Errorf("diff: %s is not the JSON output of explain: it has no \"keys\"", path)
	}
	return &doc, nil
}

// jsonProblem describes a JSON decoding error without quoting the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte offset %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("unexpected %s at %q", typ.Value, typ.Field)
	case errors.Is(err, io.EOF):
		return "the file is empty"
	}
	return "invalid JSON"
}

// sideName names one side of the diff: its environment, or its file name.
func sideName(path string, doc *explainDoc) string {
	if doc.Environment != "" {
		return doc.Environment
	}
	if path == "-" {
		return "stdin"
	}
	return filepath.Base(path)
}

// Changes of a diff row.
const (
	changeSame    = "same"
	changeOnlyA   = "only_in_a"
	changeOnlyB   = "only_in_b"
	changeValue   = "value"
	changeSecret  = "secret"
	changeSetting = "set" // set on one side, unset on the other
)

// diffRow is one key of a diff. A and B are printable: a secret shows only
// its fingerprint.
type diffRow struct {
	Key     string `json:"key"`
	Change  string `json:"change"`
	Secret  bool   `json:"secret"`
	A       string `json:"a"`
	B       string `json:"b"`
	SourceA string `json:"source_a,omitempty"`
	SourceB string `json:"source_b,omitempty"`
}

// shown is the printable value of an entry: a secret only ever as its
// fingerprint, whatever the file holds as its value.
func shown(e *explainEntry) string {
	switch {
	case e == nil:
		return "(absent)"
	case !e.Set:
		return "(unset)"
	case e.Secret:
		if e.Fingerprint == "" {
			return config.Redacted
		}
		return config.Redacted + " fp:" + e.Fingerprint
	}
	return quoteIfNeeded(e.Value)
}

func diffDocs(a, b *explainDoc) []diffRow {
	index := func(d *explainDoc) map[string]*explainEntry {
		m := make(map[string]*explainEntry, len(d.Keys))
		for i := range d.Keys {
			m[d.Keys[i].Key] = &d.Keys[i]
		}
		return m
	}
	ma, mb := index(a), index(b)
	var order []string
	seen := map[string]bool{}
	for _, d := range []*explainDoc{a, b} {
		for _, e := range d.Keys {
			if !seen[e.Key] {
				seen[e.Key] = true
				order = append(order, e.Key)
			}
		}
	}
	rows := make([]diffRow, 0, len(order))
	for _, k := range order {
		ea, eb := ma[k], mb[k]
		row := diffRow{Key: k, A: shown(ea), B: shown(eb)}
		if ea != nil {
			row.SourceA = ea.Source
		}
		if eb != nil {
			row.SourceB = eb.Source
		}
		switch {
		case eb == nil:
			row.Change, row.Secret = changeOnlyA, ea.Secret
		case ea == nil:
			row.Change, row.Secret = changeOnlyB, eb.Secret
		case ea.Set != eb.Set:
			row.Change, row.Secret = changeSetting, ea.Secret || eb.Secret
		case ea.Secret || eb.Secret:
			row.Secret = true
			row.Change = changeSame
			if ea.Set && (ea.Fingerprint != eb.Fingerprint || ea.Secret != eb.Secret) {
				row.Change = changeSecret
			}
		case ea.Value != eb.Value:
			row.Change = changeValue
		default:
			row.Change = changeSame
		}
		rows = append(rows, row)
	}
	return rows
}

func writeDiffText(w io.Writer, names [2]string, rows []diffRow, all bool) error {
	shownRows, differ := 0, 0
	err := writeTable(w, 0, func(tw io.Writer) {
		for _, row := range rows {
			if row.Change != changeSame {
				differ++
			}
			if row.Change == changeSame && !all {
				continue
			}
			if shownRows == 0 {
				fmt.Fprintf(tw, "KEY\t%s\t%s\t\n", names[0], names[1])
			}
			shownRows++
			note := ""
			switch row.Change {
			case changeOnlyA:
				note = "only in " + names[0]
			case changeOnlyB:
				note = "only in " + names[1]
			case changeSecret:
				note = "secrets differ"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row.Key, row.A, row.B, note)
		}
	})
	if err != nil {
		return err
	}
	if differ == 0 {
		_, err = fmt.Fprintf(w, "%s and %s agree on %s\n", names[0], names[1], plural(len(rows), "key"))
		return err
	}
	_, err = fmt.Fprintf(w, "%s between %s and %s\n", plural(differ, "difference"), names[0], names[1])
	return err
}

func writeDiffJSON(w io.Writer, names [2]string, rows []diffRow, all bool) error {
	out := struct {
		A           string    `json:"a"`
		B           string    `json:"b"`
		Differences int       `json:"differences"`
		Keys        []diffRow `json:"keys"`
	}{A: names[0], B: names[1], Keys: []diffRow{}}
	for _, row := range rows {
		if row.Change != changeSame {
			out.Differences++
		}
		if row.Change != changeSame || all {
			out.Keys = append(out.Keys, row)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
