package emu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
)

// kumo v0.33.1's DescribeParameters honours only Name filters and ignores
// every other key, the Path filter included: a description of one path lists
// every parameter of the process (all tests share them), page after page,
// and its NextToken (kumo's token is the name of the next parameter) names
// parameters of other paths. So the cost of a path's version check grew
// with every test that ran before it, and a fault rule matched on one path's
// name caught the pages of another path whose token happened to name it.
//
// WithPathFilters makes the emulator answer as Parameter Store does: each
// Path filter becomes the Name BeginsWith filter kumo implements (the path
// followed by "/"), and for a OneLevel path the parameters below the next
// level are removed from the answer. Other calls pass unchanged.
func WithPathFilters(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.DescribeParameters" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "emu: read request: "+err.Error(), http.StatusBadRequest)
			return
		}
		body, oneLevel, ok := rewritePathFilters(body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		if !ok || len(oneLevel) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		data := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			data = dropDeeper(data, oneLevel)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(data)
	})
}

// pathFilter is a ParameterStringFilter of a DescribeParameters request.
type pathFilter struct {
	Key    string   `json:"Key"`
	Option string   `json:"Option,omitempty"`
	Values []string `json:"Values,omitempty"`
}

// rewritePathFilters replaces the Path filters of a DescribeParameters body
// with Name BeginsWith filters, and returns the prefixes of the OneLevel
// ones (OneLevel is the default). ok is false for a body it cannot parse,
// which is returned as it was for kumo to answer.
func rewritePathFilters(body []byte) (out []byte, oneLevel []string, ok bool) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return body, nil, false
	}
	var filters []pathFilter
	if raw, has := doc["ParameterFilters"]; !has || json.Unmarshal(raw, &filters) != nil {
		return body, nil, false
	}
	kept := filters[:0]
	for _, f := range filters {
		if f.Key != "Path" {
			kept = append(kept, f)
			continue
		}
		var prefixes []string
		for _, p := range f.Values {
			prefixes = append(prefixes, strings.TrimSuffix(p, "/")+"/")
		}
		if f.Option != "Recursive" {
			oneLevel = append(oneLevel, prefixes...)
		}
		if len(prefixes) == 1 && prefixes[0] == "/" && f.Option == "Recursive" {
			continue // the whole store
		}
		kept = append(kept, pathFilter{Key: "Name", Option: "BeginsWith", Values: prefixes})
	}
	raw, err := json.Marshal(kept)
	if err != nil {
		return body, nil, false
	}
	doc["ParameterFilters"] = raw
	out, err = json.Marshal(doc)
	if err != nil {
		return body, nil, false
	}
	return out, oneLevel, true
}

// dropDeeper removes from a DescribeParameters answer the parameters that
// are more than one level below every prefix of oneLevel.
func dropDeeper(data []byte, oneLevel []string) []byte {
	var doc map[string]any
	if json.Unmarshal(data, &doc) != nil {
		return data
	}
	params, _ := doc["Parameters"].([]any)
	kept := []any{}
	for _, p := range params {
		m, _ := p.(map[string]any)
		name, _ := m["Name"].(string)
		for _, prefix := range oneLevel {
			if rest, found := strings.CutPrefix(name, prefix); found && !strings.Contains(rest, "/") {
				kept = append(kept, p)
				break
			}
		}
	}
	doc["Parameters"] = kept
	out, err := json.Marshal(doc)
	if err != nil {
		return data
	}
	return out
}
