package tests

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/strata-go/strata/tests/internal/emu"
)

// buildTimeout bounds each go command these tests run: a module that needs
// downloads fetches them from the Go module proxy.
const buildTimeout = 4 * time.Minute

// repoRoot is the library module's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// goBlocks returns the ```go blocks of a Markdown file, in order.
func goBlocks(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?ms)^```go\n(.*?)^```\\s*$").FindAllStringSubmatch(string(data), -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// goCmd runs the go command in dir with a bounded time and returns its
// combined output. GOWORK is off and the local toolchain is used, so that
// nothing outside dir and the module proxy decides the result.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// buildNewModule writes files into a new module outside the repository that
// points at the library with the replace line the docs give, then runs
// go mod tidy and go build, as a newcomer would. It returns the binary.
func buildNewModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	gomod := "module example.com/newcomer\n\ngo 1.24\n\nreplace github.com/strata-go/strata => " + repoRoot(t) + "\n"
	files["go.mod"] = gomod
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd(t, dir, "mod", "tidy")
	bin := filepath.Join(dir, "app")
	goCmd(t, dir, "build", "-o", bin, ".")
	return bin
}

// runProgram runs bin in an empty directory with only environ (and PATH),
// so no credentials, profile or .env of the machine can change the outcome.
func runProgram(t *testing.T, bin string, environ []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir, "AWS_EC2_METADATA_DISABLED=true"}, environ...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", bin, err)
	}
	return out.String(), errOut.String(), code
}

// emulatorEnv is what a program needs to read Secrets Manager and SSM
// Parameter Store from the emulator at url: the endpoints, a region and
// dummy keys.
func emulatorEnv(url string) []string {
	return []string{"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + url, "AWS_ENDPOINT_URL_SSM=" + url, "AWS_REGION=" + emu.Region,
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local"}
}

// putSecret sets a secret of a fixed name, the one a documented program
// reads, creating it or adding a version.
func putSecret(t *testing.T, url, name, value string) {
	t.Helper()
	c := emu.Client(url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	var exists *types.ResourceExistsException
	if errors.As(err, &exists) {
		_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadmeProgram builds the README's program exactly as it is written, in
// a new module with only the documented replace line, and runs it: it fails
// with every problem and exit status 1, and succeeds once its values exist,
// printing the password masked.
func TestReadmeProgram(t *testing.T) {
	blocks := goBlocks(t, filepath.Join(repoRoot(t), "README.md"))
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go block")
	}
	src := blocks[0]
	for _, want := range []string{"package main\n", "\nimport (", "\nfunc main() {"} {
		if !strings.Contains(src, want) {
			t.Fatalf("the README's first Go block is not a complete program: it lacks %q", want)
		}
	}
	bin := buildNewModule(t, map[string]string{"main.go": src})

	url := emu.Start(t)
	_, stderr, code := runProgram(t, bin, emulatorEnv(url))
	if code == 0 || !strings.Contains(stderr, "database.host") {
		t.Errorf("README program without its settings: exit %d, want non-zero with every problem:\n%s", code, stderr)
	}

	const password = "readme-password-0123"
	putSecret(t, url, "my-app/production/database", `{"password":"`+password+`"}`)
	_, stderr, code = runProgram(t, bin, append(emulatorEnv(url), "APP_DATABASE_HOST=db.internal"))
	if code != 0 || !strings.Contains(stderr, "listening on 127.0.0.1:8080, database db.internal, password [REDACTED]") {
		t.Errorf("README program: exit %d:\n%s", code, stderr)
	}
	if strings.Contains(stderr, password) {
		t.Errorf("the README program printed the password:\n%s", stderr)
	}
}

// TestReadmeGettingStartedProgram builds the program of
// docs/getting-started.md (its config.go and main.go) and checks that a
// failed start-up exits non-zero.
func TestReadmeGettingStartedProgram(t *testing.T) {
	files := map[string]string{}
	for _, b := range goBlocks(t, filepath.Join(repoRoot(t), "docs", "getting-started.md")) {
		first, _, _ := strings.Cut(b, "\n")
		if name, ok := strings.CutPrefix(first, "// "); ok && strings.HasSuffix(name, ".go") {
			files[name] = b
		}
	}
	if files["config.go"] == "" || files["main.go"] == "" {
		t.Fatalf("docs/getting-started.md lacks the blocks // config.go and // main.go: found %d files", len(files))
	}
	bin := buildNewModule(t, files)
	url := emu.Start(t)
	_, stderr, code := runProgram(t, bin, emulatorEnv(url))
	// The emulator is shared by the tests of this package, so the program's
	// secret may or may not exist yet: either way database.host is unset.
	if code == 0 || !strings.Contains(stderr, "start-up failed") || !strings.Contains(stderr, "database.host") {
		t.Errorf("getting-started program with a failed start-up: exit %d, want non-zero:\n%s", code, stderr)
	}
}

// buildExamples builds the example programs and cmd/configcheck into a
// directory of the test and returns it.
func buildExamples(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	goCmd(t, repoRoot(t), "build", "-o", dir+string(filepath.Separator),
		"./examples/basic", "./examples/service", "./examples/lambda", "./cmd/configcheck")
	return dir
}

// TestReadmeExamplesExitNonZero runs every example program, and the
// configcheck binary, on a path that fails and checks that none of them exits
// 0 and that each says why.
func TestReadmeExamplesExitNonZero(t *testing.T) {
	dir := buildExamples(t)
	url := emu.Start(t)
	environment := strings.ReplaceAll(emu.UniqueName(t, "none"), "/", "-") // no secret exists under it
	withEmulator := append(emulatorEnv(url), "APP_DATABASE_HOST=db.internal")
	// No credentials at all: the real default chain, with nothing to find.
	noCredentials := []string{"AWS_REGION=" + emu.Region, "AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:1",
		"AWS_ENDPOINT_URL_SSM=http://127.0.0.1:1", "APP_DATABASE_HOST=db.internal"}
	credentialsHint := []string{"no AWS credentials", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "IAM role", "any dummy keys do"}
	cases := []struct {
		name     string
		bin      string
		environ  []string
		args     []string
		want     []string
		wantCode int // 0: any non-zero code
	}{
		{"basic, invalid value", "basic", []string{"APP_DATABASE_PORT=0"}, nil, []string{"database.port must be at least 1"}, 1},
		{"service, missing secrets", "service", withEmulator,
			[]string{"-environment", environment, "-env-file", os.DevNull}, []string{"no secret"}, 1},
		{"service demo, missing secrets", "service", withEmulator,
			[]string{"-demo", "-environment", environment, "-env-file", os.DevNull}, []string{"no secret"}, 1},
		{"service, no credentials", "service", noCredentials, []string{"-env-file", os.DevNull}, credentialsHint, 1},
		{"lambda, missing secrets", "lambda", withEmulator, []string{"-environment", environment}, []string{"no secret"}, 1},
		{"configcheck, missing secrets", "configcheck", withEmulator,
			[]string{"validate", "--environment", environment}, []string{"no secret"}, 1},
		{"configcheck, no credentials", "configcheck", noCredentials, []string{"validate"}, credentialsHint, 2},
	}
	for _, c := range cases {
		stdout, stderr, code := runProgram(t, filepath.Join(dir, c.bin), c.environ, c.args...)
		if code == 0 || (c.wantCode != 0 && code != c.wantCode) {
			t.Errorf("%s: exit %d, want %d\n%s%s", c.name, code, c.wantCode, stdout, stderr)
		}
		for _, want := range c.want {
			if !strings.Contains(stdout+stderr, want) {
				t.Errorf("%s: the output lacks %q:\n%s%s", c.name, want, stdout, stderr)
			}
		}
	}
}
