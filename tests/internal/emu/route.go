package emu

import (
	"context"
	"net"
	"net/http"
	neturl "net/url"
	"sync"
)

// kumo's EventBridge delivers events to SQS targets with an HTTP request to
// its own base URL, fixed when the package loads: http://localhost:4566
// unless KUMO_HOST or KUMO_PORT say otherwise. An in-process server listens
// on a random port, so those requests would go nowhere. They are sent with
// http.DefaultTransport; routeDeliveries makes that transport dial a live
// in-process server instead of localhost:4566. Every server in a process
// shares its state, so any live one will do.
const kumoDefaultAddr = "localhost:4566"

var (
	routeOnce sync.Once
	liveMu    sync.Mutex
	liveAddrs []string // host:port of the in-process kumo servers still open
)

// routeDeliveries installs the redirection once, before the first server
// starts: no delivery can be in flight while the transport is changed.
func routeDeliveries() {
	routeOnce.Do(func() {
		t, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			return
		}
		dial := t.DialContext
		if dial == nil {
			dial = (&net.Dialer{}).DialContext
		}
		t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == kumoDefaultAddr {
				liveMu.Lock()
				if n := len(liveAddrs); n > 0 {
					addr = liveAddrs[n-1]
				}
				liveMu.Unlock()
			}
			return dial(ctx, network, addr)
		}
	})
}

// addLive records a started server; the returned func forgets it.
func addLive(serverURL string) (remove func()) {
	u, err := neturl.Parse(serverURL)
	if err != nil {
		return func() {}
	}
	liveMu.Lock()
	liveAddrs = append(liveAddrs, u.Host)
	liveMu.Unlock()
	return func() {
		// A pooled connection to this server is dead now, and a POST is
		// not retried on one.
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
		liveMu.Lock()
		defer liveMu.Unlock()
		for i, a := range liveAddrs {
			if a == u.Host {
				liveAddrs = append(liveAddrs[:i], liveAddrs[i+1:]...)
				return
			}
		}
	}
}
