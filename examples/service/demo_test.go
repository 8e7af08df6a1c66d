package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-go/strata/config"
)

// TestGetFailsOnUnexpectedStatus: a demonstration step whose request fails
// fails the demonstration, so `make demo` cannot exit 0 after a broken step.
func TestGetFailsOnUnexpectedStatus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "key-0123456789abcdef" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx := context.Background()
	key := config.NewSecret("key-0123456789abcdef")

	err := get(ctx, srv.URL+"/orders", key, http.StatusOK)
	if err == nil || !strings.Contains(err.Error(), "status 503, want 200") {
		t.Errorf("get of a 503 = %v, want an error naming the status", err)
	}
	if err := get(ctx, srv.URL+"/orders", config.Secret{}, http.StatusOK); err == nil {
		t.Error("get of a 401 = nil, want an error")
	}
	if err := get(ctx, srv.URL+"/orders", key, http.StatusServiceUnavailable); err != nil {
		t.Errorf("get with the status expected = %v", err)
	}
}
