package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// putParameterUsage is the line of put-parameter in usage.
const putParameterUsage = "  strata-emulator put-parameter [-endpoint URL] [-type String|StringList|SecureString] NAME VALUE|-\n"

// putParameterCommand stores a Parameter Store parameter in a running
// emulator (kumo serves SSM beside Secrets Manager at the same URL), for the
// SSM layer (providers/ssm): PutParameter with Overwrite, so that each put is
// a new version. It prints the name, type and version, never the value:
//
//	/my-app/dev/server/read_timeout: version 2 (String)
func putParameterCommand(ctx context.Context, args []string, e *env) int {
	cf := newClientFlags("put-parameter", e)
	typ := cf.fs.String("type", "String", "the parameter `type`: String, StringList or SecureString")
	if err := cf.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	pos := cf.fs.Args()
	switch {
	case len(pos) != 2:
		e.errorf("put-parameter: expected NAME VALUE|-")
		return exitUsage
	case strings.TrimSpace(cf.endpoint) == "":
		e.errorf("put-parameter: no emulator: give -endpoint URL or set STRATA_EMULATOR_URL")
		return exitUsage
	case !strings.HasPrefix(pos[0], "/"):
		e.errorf("put-parameter: the name %q must start with \"/\" (a path such as /my-app/dev/server/read_timeout)", pos[0])
		return exitUsage
	}
	pt := types.ParameterType(*typ)
	switch pt {
	case types.ParameterTypeString, types.ParameterTypeStringList, types.ParameterTypeSecureString:
	default:
		e.errorf("put-parameter: -type %q: expected String, StringList or SecureString", *typ)
		return exitUsage
	}
	value, err := readValue(pos[1], e)
	if err != nil {
		e.errorf("put-parameter %s: %v", pos[0], err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	out, err := ssmClient(cf.endpoint).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(pos[0]), Value: aws.String(value), Type: pt, Overwrite: aws.Bool(true),
	})
	if err != nil {
		e.errorf("put-parameter %s: %v", pos[0], errorCode(err))
		return exitFail
	}
	fmt.Fprintf(e.stdout, "%s: version %d (%s)\n", pos[0], out.Version, pt)
	return exitOK
}

// errorCode is what is safe to print of a failed call: its API error code,
// or the error when it is not one (a connection refused). The SDK's message
// may quote the request, and so the value.
func errorCode(err error) string {
	var apiErr interface{ ErrorCode() string }
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return err.Error()
}

// ssmClient returns an SSM client for the emulator at endpoint, with dummy
// credentials: the emulator checks no signature.
func ssmClient(endpoint string) *ssm.Client {
	return ssm.New(ssm.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("emulator", "emulator", ""),
	})
}
