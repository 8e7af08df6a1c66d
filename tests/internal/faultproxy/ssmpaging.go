package faultproxy

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// Faults of the pages and values of Parameter Store answers, for tests of a
// client's bounds: they forward the call and rewrite its 200 answer.
const (
	// RepeatNextToken gives the answer the NextToken "faultproxy-again",
	// so a client that follows it is sent the first page again (kumo reads
	// an unknown token as none) and then the same token: pages without end.
	RepeatNextToken Fault = 120 + iota
	// EndlessNextToken gives the answer a NextToken never given before, so
	// a client that follows it pages forever.
	EndlessNextToken
	// HugeParameterValue makes the Value of each parameter of the answer
	// 1 MiB long: its own text, repeated.
	HugeParameterValue
	// ValidationError answers 400 ValidationException, as Parameter Store
	// does for a request it refuses as invalid (a path with "//", a
	// hierarchy deeper than 15 levels).
	ValidationError
	// InvalidNextToken answers 400 InvalidNextToken, as Parameter Store does
	// for a page token that expired.
	InvalidNextToken
)

// hugeValue is the length HugeParameterValue gives a value.
const hugeValue = 1 << 20

var endlessTokens atomic.Uint64

func init() {
	moreNames[RepeatNextToken] = "RepeatNextToken"
	moreNames[EndlessNextToken] = "EndlessNextToken"
	moreNames[HugeParameterValue] = "HugeParameterValue"
	moreNames[ValidationError] = "ValidationError"
	moreNames[InvalidNextToken] = "InvalidNextToken"
	errorFaults[ValidationError] = struct {
		status    int
		code, msg string
	}{http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'path' failed to satisfy constraint"}
	errorFaults[InvalidNextToken] = struct {
		status    int
		code, msg string
	}{http.StatusBadRequest, "InvalidNextToken", "The specified token isn't valid."}
	rewriters[RepeatNextToken] = func(data []byte) []byte { return setNextToken(data, "faultproxy-again") }
	rewriters[EndlessNextToken] = func(data []byte) []byte {
		return setNextToken(data, "faultproxy-"+strconv.FormatUint(endlessTokens.Add(1), 10))
	}
	rewriters[HugeParameterValue] = func(data []byte) []byte {
		return editParameters(data, func(p map[string]any) {
			v, _ := p["Value"].(string)
			if v == "" {
				v = "x"
			}
			p["Value"] = strings.Repeat(v, hugeValue/len(v)+1)[:hugeValue]
		})
	}
}

// setNextToken sets the NextToken of an answer. An answer that is not a
// JSON object is kept.
func setNextToken(data []byte, token string) []byte {
	var doc map[string]any
	if json.Unmarshal(data, &doc) != nil {
		return data
	}
	doc["NextToken"] = token
	out, err := json.Marshal(doc)
	if err != nil {
		return data
	}
	return out
}
