package faultproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxBatchIDs is the most secrets one BatchGetSecretValue call may name.
const maxBatchIDs = 20

// batch answers BatchGetSecretValue in place of the target.
//
// kumo (v0.33.1) does not implement BatchGetSecretValue; it answers 400
// InvalidAction. This shim stands in for the real API so that a client's
// batch path runs over real wire traffic: it accepts SecretIdList only (no
// Filters, no paging), looks each secret up with one GetSecretValue call
// straight to the target (those inner calls bypass the rules and the call
// counts), and assembles AWS's response shape, with per-secret failures in
// Errors. Like the real API it returns only the AWSCURRENT version and
// accepts at most 20 ids.
func (p *Proxy) batch(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		SecretIDList []string          `json:"SecretIdList"`
		Filters      []json.RawMessage `json:"Filters"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "cannot parse request: "+err.Error())
		return
	}
	switch {
	case len(req.Filters) > 0:
		writeError(w, http.StatusBadRequest, "ValidationException", "faultproxy: Filters are not supported by the BatchGetSecretValue shim")
		return
	case len(req.SecretIDList) == 0:
		writeError(w, http.StatusBadRequest, "ValidationException", "SecretIdList must contain at least 1 item")
		return
	case len(req.SecretIDList) > maxBatchIDs:
		writeError(w, http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value at 'secretIdList' failed to satisfy constraint: Member must have length less than or equal to %d", maxBatchIDs))
		return
	}

	type secretValue struct {
		ARN           string   `json:"ARN,omitempty"`
		Name          string   `json:"Name,omitempty"`
		VersionID     string   `json:"VersionId,omitempty"`
		SecretString  *string  `json:"SecretString,omitempty"`
		SecretBinary  []byte   `json:"SecretBinary,omitempty"`
		VersionStages []string `json:"VersionStages,omitempty"`
		CreatedDate   *float64 `json:"CreatedDate,omitempty"`
	}
	type apiError struct {
		SecretID  string `json:"SecretId"`
		ErrorCode string `json:"ErrorCode"`
		Message   string `json:"Message"`
	}
	out := struct {
		SecretValues []secretValue `json:"SecretValues"`
		Errors       []apiError    `json:"Errors"`
	}{SecretValues: []secretValue{}, Errors: []apiError{}}

	for _, id := range req.SecretIDList {
		status, resp, err := p.batchValue(r, id)
		if err != nil {
			if r.Context().Err() != nil {
				abort() // the client is gone or the proxy is closing
			}
			writeError(w, http.StatusInternalServerError, "InternalServiceError", "faultproxy: batch shim: "+err.Error())
			return
		}
		if status == http.StatusOK {
			var v secretValue
			if err := json.Unmarshal(resp, &v); err != nil {
				writeError(w, http.StatusInternalServerError, "InternalServiceError", "faultproxy: batch shim: decode GetSecretValue: "+err.Error())
				return
			}
			out.SecretValues = append(out.SecretValues, v)
			continue
		}
		code, msg := errorOf(status, resp)
		out.Errors = append(out.Errors, apiError{SecretID: id, ErrorCode: code, Message: msg})
	}

	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", requestID())
	_ = json.NewEncoder(w).Encode(out)
}

// errorOf returns the error code and message of an AWS JSON error answer,
// the code "HTTPnnn" when the answer names none.
func errorOf(status int, resp []byte) (code, msg string) {
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(resp, &e)
	code = e.Type
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = fmt.Sprintf("HTTP%d", status)
	}
	msg = e.Message
	if msg == "" {
		msg = e.MessageU
	}
	return code, msg
}

// getSecretValue calls the target's GetSecretValue for id with the
// credentials headers of the client's request, and returns the HTTP status
// and the response body.
func (p *Proxy) getSecretValue(r *http.Request, id string) (int, []byte, error) {
	reqBody, err := json.Marshal(struct {
		SecretID string `json:"SecretId"`
	}{id})
	if err != nil {
		return 0, nil, err
	}
	u := *p.target
	u.Path = "/"
	u.RawQuery = ""
	out, err := http.NewRequestWithContext(r.Context(), http.MethodPost, u.String(), bytes.NewReader(reqBody))
	if err != nil {
		return 0, nil, err
	}
	out.Header.Set("Content-Type", "application/x-amz-json-1.1")
	out.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
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
