// Command emulator runs a local AWS Secrets Manager (the kumo emulator) on
// 127.0.0.1, and changes its secrets while it runs, so that a service can be
// tried, and a rotation rehearsed, with no AWS account and no code.
//
// Usage:
//
//	strata-emulator [serve] [-port N] [-seed FILE] [-url-file PATH] [-batch=false]
//	strata-emulator put    [-endpoint URL] NAME VALUE|-
//	strata-emulator rotate [-endpoint URL] [-key NAME] NAME [VALUE|-]
//	strata-emulator put-parameter [-endpoint URL] [-type TYPE] NAME VALUE|-
//	strata-emulator push-demo [-endpoint URL] [-poll D]
//
// (go run ./cmd/emulator from the tests folder; make demo builds
// bin/strata-emulator.)
//
// serve, the default, runs the emulator until SIGINT or SIGTERM. It listens
// on 127.0.0.1 only, on a free port or on -port N, and prints one line to
// standard output,
//
//	STRATA_EMULATOR_URL=http://127.0.0.1:PORT
//
// once it is ready; -url-file PATH also writes the URL to PATH (replaced
// atomically, removed on exit) so that a script can wait for it. -seed FILE
// creates the secrets of a JSON object before the URL is published; each
// value is a string, stored as it is, or a JSON object, stored as its JSON
// text (what a JSON source such as secretsmanager.JSON reads):
//
//	{
//	  "my-app/dev/database": {"user": "app", "password": "local-password-123"},
//	  "my-app/dev/api-key": "local-api-key-0123456789"
//	}
//
// kumo does not implement BatchGetSecretValue, so by default the URL is that
// of the test proxy (tests/internal/faultproxy) whose shim answers it by
// fanning out to kumo's GetSecretValue; -batch=false serves kumo directly, and
// batch calls then fail with InvalidAction.
//
// put and rotate change a secret of a running emulator through the AWS SDK,
// as any other client would, with dummy credentials. -endpoint defaults to
// $STRATA_EMULATOR_URL, then $AWS_ENDPOINT_URL_SECRETS_MANAGER. A VALUE of "-"
// is read from standard input. Neither prints a secret value.
//
// put stores VALUE as the secret's new AWSCURRENT version (PutSecretValue;
// the version it replaces becomes AWSPREVIOUS), or creates the secret.
//
// rotate does what the last step of a rotation function does: it stores a
// new version and moves AWSCURRENT to it, the version it replaces becoming
// AWSPREVIOUS. Without VALUE, the new version is the current one with a fresh
// random password (GetRandomPassword) in the field -key (default password) of
// its JSON object, or, for a secret that is not a JSON object, a fresh random
// password as the whole value. It prints the versions before and after:
//
//	my-app/dev/database: AWSCURRENT moved from version 5f0e... to 9a1c...; 5f0e... is AWSPREVIOUS
//
// A service that reads the secret picks up the new version at its next
// refresh, or at once with store.Refresh.
//
// put-parameter stores an SSM Parameter Store parameter (kumo serves SSM at
// the same URL) as a new version, for the SSM layer; see parameters.go.
//
// push-demo shows push refresh against a running emulator: it creates a
// secret and an SQS queue, loads a store whose Secrets Manager layer
// long-polls the queue (secretsmanager.Options.Push), rotates the secret and
// sends its Secret Label Updated event to the queue as an EventBridge rule
// would (the emulator sends no such event), and prints how soon the store
// served the new version; then the same rotation with a store that polls
// every -poll (default 3s) instead. It prints versions and times, never a
// value, and deletes the queue.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// env is what a command reads and writes besides its arguments.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// errorf prints a message prefixed with the program name.
func (e *env) errorf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "emulator: %s\n", fmt.Sprintf(format, args...))
}

// Exit codes of run.
const (
	exitOK    = 0
	exitFail  = 1 // the command failed
	exitUsage = 2 // bad arguments
)

// run runs one command line and returns the exit code.
func run(ctx context.Context, args []string, e *env) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCommand(ctx, args, e)
	case "put":
		return putCommand(ctx, args, e)
	case "rotate":
		return rotateCommand(ctx, args, e)
	case "put-parameter":
		return putParameterCommand(ctx, args, e)
	case "push-demo":
		return pushDemoCommand(ctx, args, e)
	case "help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	}
	e.errorf("unknown command %q", cmd)
	fmt.Fprint(e.stderr, usage)
	return exitUsage
}

const usage = `Usage:
  strata-emulator [serve] [-port N] [-seed FILE] [-url-file PATH] [-batch=false]
  strata-emulator put    [-endpoint URL] NAME VALUE|-
  strata-emulator rotate [-endpoint URL] [-key NAME] NAME [VALUE|-]
` + putParameterUsage + `  strata-emulator push-demo [-endpoint URL] [-poll D]
Run 'strata-emulator COMMAND -h' for the flags of a command.
`
