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
// Usage:
//
//	go run ./cmd/emulator [-url-file PATH]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/sivchari/kumo"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("emulator: ")
	urlFile := flag.String("url-file", "", "also write the emulator URL to this `path`")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("unexpected arguments: %q", flag.Args())
	}
	if err := run(*urlFile); err != nil {
		log.Fatal(err)
	}
}

func run(urlFile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv := kumo.NewServer() // httptest server on 127.0.0.1
	defer srv.Close()

	if urlFile != "" {
		if err := writeFile(urlFile, srv.URL+"\n"); err != nil {
			return err
		}
		defer os.Remove(urlFile)
	}
	if _, err := fmt.Printf("STRATA_EMULATOR_URL=%s\n", srv.URL); err != nil {
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
