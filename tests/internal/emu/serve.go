package emu

import (
	"net/http"
	"net/http/httptest"
	neturl "net/url"

	"github.com/sivchari/kumo"
)

// Serve is Start for programs: it starts an in-process kumo server behind
// the same one-request-at-a-time front server and returns its base URL and a
// function that closes both.
func Serve() (url string, stop func(), err error) {
	startMu.Lock()
	srv := kumo.NewServer()
	startMu.Unlock()
	target, err := neturl.Parse(srv.URL)
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	transport := &http.Transport{}
	front := httptest.NewServer(frontHandler(target, transport))
	return front.URL, func() {
		front.Close()
		transport.CloseIdleConnections()
		srv.Close()
	}, nil
}
