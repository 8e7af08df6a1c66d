package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func rotateCommand(ctx context.Context, args []string, e *env) int {
	cf := newClientFlags("rotate", e)
	key := cf.fs.String("key", "password", "the `field` of a JSON secret that gets a new random value when no VALUE is given")
	pos, ok, code := cf.parse(args, e, 1, 2)
	if !ok {
		return code
	}
	value := ""
	if len(pos) == 2 {
		v, err := readValue(pos[1], e)
		if err != nil {
			e.errorf("rotate %s: %v", pos[0], err)
			return exitUsage
		}
		value = v
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	msg, err := rotate(ctx, client(cf.endpoint), pos[0], value, *key)
	if err != nil {
		e.errorf("rotate %s: %v", pos[0], err)
		return exitFail
	}
	fmt.Fprintln(e.stdout, msg)
	return exitOK
}

// rotate stores a new version of an existing secret and moves AWSCURRENT to
// it. An empty value means: the current value with a new random password in
// the field key of its JSON object, or a new random password.
func rotate(ctx context.Context, c *secretsmanager.Client, name, value, key string) (string, error) {
	cur, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		return "", err
	}
	if value == "" {
		if value, err = newValue(ctx, c, aws.ToString(cur.SecretString), key); err != nil {
			return "", err
		}
	}
	out, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		return "", err
	}
	oldID, newID := aws.ToString(cur.VersionId), aws.ToString(out.VersionId)
	// Check where the stages are now, as a rotation function's last step
	// would, rather than trusting the answer.
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		return "", err
	}
	if !slices.Contains(d.VersionIdsToStages[newID], "AWSCURRENT") {
		return "", fmt.Errorf("version %s was stored but AWSCURRENT is not on it", newID)
	}
	msg := fmt.Sprintf("%s: AWSCURRENT moved from version %s to %s", name, oldID, newID)
	if slices.Contains(d.VersionIdsToStages[oldID], "AWSPREVIOUS") {
		msg += "; " + oldID + " is AWSPREVIOUS"
	}
	return msg, nil
}

// newValue returns current with a fresh random password in the field key of
// its JSON object, or a fresh random password when current is not a JSON
// object.
func newValue(ctx context.Context, c *secretsmanager.Client, current, key string) (string, error) {
	pw, err := c.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{
		PasswordLength: aws.Int64(32), ExcludePunctuation: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("GetRandomPassword: %w", err)
	}
	password := aws.ToString(pw.RandomPassword)
	if password == "" {
		return "", errors.New("GetRandomPassword returned no password")
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(current))
	dec.UseNumber() // keep numbers as they are written
	if dec.Decode(&obj) != nil || obj == nil {
		return password, nil
	}
	obj[key] = password
	b, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
