package faultproxy

import (
	"encoding/json"
	"net/http"
)

// Faults that answer with text taken from the target's answer where a
// client must not look for it, as a hostile or broken endpoint might: an
// error whose message quotes the answer, or an HTML page around it. They
// are numbered apart from the other lists so that each can grow.
const (
	// QuoteAnswer forwards the call and, in place of a 200 answer, answers
	// 400 ValidationException whose message quotes that answer's body.
	QuoteAnswer Fault = 200 + iota
	// QuoteAnswerServer is QuoteAnswer with 500 InternalServiceError, which
	// the SDK retries.
	QuoteAnswerServer
	// HTMLAnswer forwards the call and sends a 200 answer's body inside an
	// HTML page, with Content-Type text/html.
	HTMLAnswer
)

func init() {
	moreNames[QuoteAnswer] = "QuoteAnswer"
	moreNames[QuoteAnswerServer] = "QuoteAnswerServer"
	moreNames[HTMLAnswer] = "HTMLAnswer"
}

// hostileAnswers are the faults that replace a 200 answer, body, with
// another of their own: a status, a content type and a body.
var hostileAnswers = map[Fault]func(body []byte) (status int, contentType string, out []byte){
	QuoteAnswer: func(body []byte) (int, string, []byte) {
		return http.StatusBadRequest, "application/x-amz-json-1.1", quoteError("ValidationException", body)
	},
	QuoteAnswerServer: func(body []byte) (int, string, []byte) {
		return http.StatusInternalServerError, "application/x-amz-json-1.1", quoteError("InternalServiceError", body)
	},
	HTMLAnswer: func(body []byte) (int, string, []byte) {
		out := append([]byte("<html><body><pre>"), body...)
		return http.StatusOK, "text/html", append(out, "</pre></body></html>"...)
	},
}

// quoteError is an AWS JSON error with code whose message quotes body.
func quoteError(code string, body []byte) []byte {
	out, err := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{code, "1 validation error detected: the answer was " + string(body)})
	if err != nil {
		panic(err)
	}
	return out
}
