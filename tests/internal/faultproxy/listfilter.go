package faultproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// listShimPage is the MaxResults of the shim's own calls to the target.
const listShimPage = 100

// listFiltered answers ListSecrets with Filters in place of the target.
//
// kumo (v0.33.1) answers ListSecrets with every secret it holds and ignores
// Filters; AWS filters on the server. This shim stands in for AWS's name
// filter so that a client's filtered listings cost what they would on AWS: it
// pages through the target's whole listing (those inner calls bypass the
// rules and the call counts), keeps the entries AWS would return for the
// "name" filter (a prefix match, not case-sensitive; the values of one filter
// are alternatives, a value starting with "!" excludes; several filters must
// all match) and pages the result itself with MaxResults (default and most
// 100) and its own NextToken. A listing without Filters is forwarded as it
// is; a filter on another key is refused with ValidationException rather than
// answered wrongly.
func (p *Proxy) listFiltered(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		MaxResults int    `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
		Filters    []struct {
			Key    string   `json:"Key"`
			Values []string `json:"Values"`
		} `json:"Filters"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "cannot parse request: "+err.Error())
		return
	}
	for _, f := range req.Filters {
		if f.Key != "name" {
			writeError(w, http.StatusBadRequest, "ValidationException", "faultproxy: the ListSecrets shim supports the name filter only, not "+strconv.Quote(f.Key))
			return
		}
		if len(f.Values) == 0 || len(f.Values) > 10 {
			writeError(w, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'filters.1.member.values' failed to satisfy constraint: Member must have length less than or equal to 10")
			return
		}
	}
	size := req.MaxResults
	if size <= 0 || size > listShimPage {
		size = listShimPage
	}
	start := 0
	if req.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(req.NextToken, "faultproxy-"))
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "InvalidNextTokenException", "faultproxy: the NextToken is not one the shim gave")
			return
		}
		start = n
	}
	entries, err := p.listAllTarget(r)
	if err != nil {
		if r.Context().Err() != nil {
			abort()
		}
		writeError(w, http.StatusInternalServerError, "InternalServiceError", "faultproxy: list shim: "+err.Error())
		return
	}
	var kept []json.RawMessage
	for _, e := range entries {
		var named struct{ Name string }
		if json.Unmarshal(e, &named) != nil {
			continue
		}
		ok := true
		for _, f := range req.Filters {
			ok = ok && nameMatches(named.Name, f.Values)
		}
		if ok {
			kept = append(kept, e)
		}
	}
	out := struct {
		SecretList []json.RawMessage `json:"SecretList"`
		NextToken  string            `json:"NextToken,omitempty"`
	}{SecretList: []json.RawMessage{}}
	if start < len(kept) {
		end := min(start+size, len(kept))
		out.SecretList = kept[start:end]
		if end < len(kept) {
			out.NextToken = "faultproxy-" + strconv.Itoa(end)
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", requestID())
	_ = json.NewEncoder(w).Encode(out)
}

// nameMatches applies the values of one name filter as AWS does: a name
// matches when it starts with one of the positive values (ignoring case), or
// there is none, and starts with none of the "!" values.
func nameMatches(name string, values []string) bool {
	name = strings.ToLower(name)
	positive, matched := false, false
	for _, v := range values {
		v = strings.ToLower(v)
		if neg, ok := strings.CutPrefix(v, "!"); ok {
			if strings.HasPrefix(name, neg) {
				return false
			}
			continue
		}
		positive = true
		matched = matched || strings.HasPrefix(name, v)
	}
	return matched || !positive
}

// listAllTarget pages through the target's ListSecrets and returns every
// entry as it was answered.
func (p *Proxy) listAllTarget(r *http.Request) ([]json.RawMessage, error) {
	var all []json.RawMessage
	token := ""
	for range 10000 { // bounded: 1,000,000 secrets
		reqBody, err := json.Marshal(struct {
			MaxResults int    `json:"MaxResults"`
			NextToken  string `json:"NextToken,omitempty"`
		}{listShimPage, token})
		if err != nil {
			return nil, err
		}
		status, resp, err := p.callTarget(r, "ListSecrets", reqBody)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("target answered ListSecrets with HTTP %d", status)
		}
		var page struct {
			SecretList []json.RawMessage `json:"SecretList"`
			NextToken  string            `json:"NextToken"`
		}
		if err := json.Unmarshal(resp, &page); err != nil {
			return nil, fmt.Errorf("decode ListSecrets: %w", err)
		}
		all = append(all, page.SecretList...)
		if page.NextToken == "" || page.NextToken == token {
			return all, nil
		}
		token = page.NextToken
	}
	return nil, fmt.Errorf("the target's listing did not end")
}

// callTarget sends one call of op with body straight to the target, with the
// credentials headers of the client's request r, and returns the HTTP status
// and the response body.
func (p *Proxy) callTarget(r *http.Request, op string, body []byte) (int, []byte, error) {
	u := *p.target
	u.Path = "/"
	u.RawQuery = ""
	out, err := http.NewRequestWithContext(r.Context(), http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	out.Header.Set("Content-Type", "application/x-amz-json-1.1")
	out.Header.Set("X-Amz-Target", "secretsmanager."+op)
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "User-Agent"} {
		if v := r.Header.Get(h); v != "" {
			out.Header.Set(h, v)
		}
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}
