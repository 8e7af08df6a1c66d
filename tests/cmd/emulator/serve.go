package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sivchari/kumo"

	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

func serveCommand(ctx context.Context, args []string, e *env) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	urlFile := fs.String("url-file", "", "also write the emulator URL to this `path`")
	seed := fs.String("seed", "", "create the secrets of this JSON `file` at start: {\"name\": \"value\" or {...}}")
	batch := fs.Bool("batch", true, "answer BatchGetSecretValue through the test proxy's shim")
	port := fs.Int("port", 0, "listen on 127.0.0.1:`PORT` (default: a free port)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		e.errorf("serve: unexpected arguments %q", fs.Args())
		return exitUsage
	}
	if *port < 0 || *port > 65535 {
		e.errorf("serve: -port %d: expected 0 to 65535", *port)
		return exitUsage
	}
	if err := serve(ctx, e, serveOptions{urlFile: *urlFile, seed: *seed, batch: *batch, port: *port}); err != nil {
		e.errorf("%v", err)
		return exitFail
	}
	return exitOK
}

type serveOptions struct {
	urlFile, seed string
	batch         bool
	port          int
}

// serve runs the emulator until ctx is done. Every listener is on 127.0.0.1.
func serve(ctx context.Context, e *env, o serveOptions) error {
	var secrets []seedSecret
	if o.seed != "" {
		data, err := os.ReadFile(o.seed)
		if err != nil {
			return err
		}
		if secrets, err = parseSeed(data); err != nil {
			return fmt.Errorf("%s: %w", o.seed, err)
		}
	}

	srv := kumo.NewServer() // an httptest server on 127.0.0.1
	defer srv.Close()
	url := srv.URL
	if o.batch {
		p, err := faultproxy.New(srv.URL, faultproxy.Options{BatchShim: true})
		if err != nil {
			return err
		}
		defer p.Close()
		url = p.URL()
	}
	front, err := listenFront(url, o.port)
	if err != nil {
		return err
	}
	defer front.Close()
	url = "http://" + front.Addr
	if err := seedSecrets(ctx, url, secrets); err != nil {
		return err
	}

	if o.urlFile != "" {
		if err := writeFile(o.urlFile, url+"\n"); err != nil {
			return err
		}
		defer os.Remove(o.urlFile)
	}
	if _, err := fmt.Fprintf(e.stdout, "STRATA_EMULATOR_URL=%s\n", url); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// listenFront serves target on 127.0.0.1:port (a free port for 0), with the
// SSM Path filters kumo ignores applied as Parameter Store applies them.
func listenFront(target string, port int) (*http.Server, error) {
	u, err := neturl.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("-port %d: %w", port, err)
	}
	s := &http.Server{Addr: ln.Addr().String(), Handler: emu.WithPathFilters(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) },
	})}
	go func() {
		if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "emulator: %v\n", err)
		}
	}()
	return s, nil
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
