// Command emulator runs the kumo AWS emulator (Secrets Manager included) on
// 127.0.0.1 with a free port until it receives SIGINT or SIGTERM.
//
// It prints one line to standard output,
//
//	STRATA_EMULATOR_URL=http://127.0.0.1:PORT
//
// and, with -url-file PATH, also writes the URL to PATH (replacing the file
// atomically, and removing it on exit) so that a script can wait for it.
//
// kumo does not implement BatchGetSecretValue, so by default the URL is that of
// the test proxy (tests/internal/faultproxy) whose shim answers it by fanning
// out to kumo's GetSecretValue; -batch=false serves kumo directly, and batch
// calls then fail with InvalidAction. -seed FILE creates the secrets of a JSON
// object {"name": "value", ...} before the URL is published.
//
// Usage:
//
//	go run ./cmd/emulator [-url-file PATH] [-seed FILE] [-batch=false]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/sivchari/kumo"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("emulator: ")
	urlFile := flag.String("url-file", "", "also write the emulator URL to this `path`")
	seed := flag.String("seed", "", "create the secrets of this JSON `file` ({\"name\": \"value\"}) at start")
	batch := flag.Bool("batch", true, "answer BatchGetSecretValue through the test proxy's shim")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("unexpected arguments: %q", flag.Args())
	}
	if err := run(*urlFile, *seed, *batch); err != nil {
		log.Fatal(err)
	}
}

func run(urlFile, seedFile string, batch bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv := kumo.NewServer() // httptest server on 127.0.0.1
	defer srv.Close()
	url := srv.URL
	if batch {
		p, err := faultproxy.New(srv.URL, faultproxy.Options{BatchShim: true})
		if err != nil {
			return err
		}
		defer p.Close()
		url = p.URL()
	}
	if seedFile != "" {
		if err := seedSecrets(ctx, url, seedFile); err != nil {
			return err
		}
	}

	if urlFile != "" {
		if err := writeFile(urlFile, url+"\n"); err != nil {
			return err
		}
		defer os.Remove(urlFile)
	}
	if _, err := fmt.Printf("STRATA_EMULATOR_URL=%s\n", url); err != nil {
		return err
	}

	<-ctx.Done()
	return nil
}

// writeFile writes data to a temporary file next to path and renames it into
// place, so a reader never sees a partial URL.
func writeFile(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".emulator-url-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// seedSecrets creates one string secret for each entry of the JSON object in
// path.
func seedSecrets(ctx context.Context, endpoint, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var secrets map[string]string
	if err := json.Unmarshal(data, &secrets); err != nil {
		return fmt.Errorf("%s: expected a JSON object of secret names and string values: %w", path, err)
	}
	client := secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("emulator", "emulator", ""),
	})
	for name, value := range secrets {
		if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(name), SecretString: aws.String(value),
		}); err != nil {
			return fmt.Errorf("seed %s: %w", name, err)
		}
	}
	return nil
}
