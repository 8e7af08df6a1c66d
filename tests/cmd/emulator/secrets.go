package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// callTimeout bounds each call put and rotate make.
const callTimeout = 10 * time.Second

// seedSecret is one secret of a seed file.
type seedSecret struct{ name, value string }

// parseSeed reads a JSON object of secret names and values: strings, stored
// as they are, or JSON objects, stored as their compact JSON text. Errors
// name the secret and never quote its value.
func parseSeed(data []byte) ([]seedSecret, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("not valid JSON: syntax error at byte offset %d", syn.Offset)
		}
		return nil, errors.New(`expected a JSON object of secret names and values, such as {"my-app/dev/database": {"password": "..."}}`)
	}
	out := make([]seedSecret, 0, len(raw))
	for name, v := range raw {
		if strings.TrimSpace(name) == "" {
			return nil, errors.New("a secret has an empty name")
		}
		value, err := seedValue(v)
		if err != nil {
			return nil, fmt.Errorf("secret %q: %w", name, err)
		}
		out = append(out, seedSecret{name: name, value: value})
	}
	slices.SortFunc(out, func(a, b seedSecret) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

func seedValue(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) > 0 && v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", errors.New("the string is not valid JSON")
		}
		if s == "" {
			return "", errors.New("expected a value, not an empty string")
		}
		return s, nil
	case len(v) > 0 && v[0] == '{':
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return "", errors.New("the object is not valid JSON")
		}
		return b.String(), nil
	}
	return "", errors.New("expected a string or a JSON object (write other values inside an object, or as a string)")
}

// client returns a Secrets Manager client for the emulator at endpoint, with
// dummy credentials: the emulator checks no signature.
func client(endpoint string) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("emulator", "emulator", ""),
	})
}

// seedSecrets creates the secrets.
func seedSecrets(ctx context.Context, endpoint string, secrets []seedSecret) error {
	c := client(endpoint)
	for _, s := range secrets {
		if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(s.name), SecretString: aws.String(s.value),
		}); err != nil {
			return fmt.Errorf("seed %s: %w", s.name, err)
		}
	}
	return nil
}

// clientFlags are the flags of put and rotate.
type clientFlags struct {
	fs       *flag.FlagSet
	endpoint string
	help     bool // -h was given
}

func newClientFlags(name string, e *env) *clientFlags {
	cf := &clientFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	cf.fs.SetOutput(e.stderr)
	def := e.getenv("STRATA_EMULATOR_URL")
	if def == "" {
		def = e.getenv("AWS_ENDPOINT_URL_SECRETS_MANAGER")
	}
	cf.fs.StringVar(&cf.endpoint, "endpoint", def, "the emulator's `URL` (default: $STRATA_EMULATOR_URL, then $AWS_ENDPOINT_URL_SECRETS_MANAGER)")
	return cf
}

// parse parses args, of which min to max are positional, and checks that an
// endpoint is known. On false, exit with code.
func (cf *clientFlags) parse(args []string, e *env, min, max int) (pos []string, ok bool, code int) {
	pos, ok = cf.check(args, e, min, max)
	switch {
	case ok:
		return pos, true, exitOK
	case cf.help:
		return nil, false, exitOK
	}
	return nil, false, exitUsage
}

func (cf *clientFlags) check(args []string, e *env, min, max int) ([]string, bool) {
	if err := cf.fs.Parse(args); err != nil {
		cf.help = errors.Is(err, flag.ErrHelp)
		return nil, false
	}
	pos := cf.fs.Args()
	switch {
	case len(pos) < min || len(pos) > max:
		e.errorf("%s: expected %s", cf.fs.Name(), map[string]string{
			"put": "NAME VALUE|-", "rotate": "NAME [VALUE|-]"}[cf.fs.Name()])
		return nil, false
	case strings.TrimSpace(cf.endpoint) == "":
		e.errorf("%s: no emulator: give -endpoint URL or set STRATA_EMULATOR_URL", cf.fs.Name())
		return nil, false
	case strings.TrimSpace(pos[0]) == "":
		e.errorf("%s: empty secret name", cf.fs.Name())
		return nil, false
	}
	return pos, true
}

// readValue returns arg, or standard input for "-", without a final newline.
func readValue(arg string, e *env) (string, error) {
	v := arg
	if arg == "-" {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return "", fmt.Errorf("reading standard input: %w", err)
		}
		v = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	if v == "" {
		return "", errors.New("empty value: a secret needs one")
	}
	if t := strings.TrimSpace(v); strings.HasPrefix(t, "{") && !json.Valid([]byte(t)) {
		return "", errors.New("the value starts like a JSON object but is not valid JSON (value not shown)")
	}
	return v, nil
}

func putCommand(ctx context.Context, args []string, e *env) int {
	cf := newClientFlags("put", e)
	pos, ok, code := cf.parse(args, e, 2, 2)
	if !ok {
		return code
	}
	value, err := readValue(pos[1], e)
	if err != nil {
		e.errorf("put %s: %v", pos[0], err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	msg, err := put(ctx, client(cf.endpoint), pos[0], value)
	if err != nil {
		e.errorf("put %s: %v", pos[0], err)
		return exitFail
	}
	fmt.Fprintln(e.stdout, msg)
	return exitOK
}

// put stores value as the new AWSCURRENT version of name, creating the
// secret when it does not exist, and says what it did.
func put(ctx context.Context, c *secretsmanager.Client, name, value string) (string, error) {
	out, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		created, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: created, version %s is AWSCURRENT", name, aws.ToString(created.VersionId)), nil
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: version %s is AWSCURRENT", name, aws.ToString(out.VersionId)), nil
}
