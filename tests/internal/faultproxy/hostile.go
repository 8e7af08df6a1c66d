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
	// VersionQuotesValue forwards the call and sets the VersionId of a 200
	// answer (of each entry of a BatchGetSecretValue answer) to its value.
	VersionQuotesValue
	// ErrorCodeQuotesValue forwards a BatchGetSecretValue call and moves each
	// secret of a 200 answer to its Errors, with the value as ErrorCode.
	ErrorCodeQuotesValue
	// CodeQuotesValue forwards the call and, in place of a 200 answer,
	// answers 400 with the answer's SecretString as the error code (in the
	// body's __type and the X-Amzn-ErrorType header, as the SDK reads them).
	CodeQuotesValue
	// MessageIDQuotesBody forwards a ReceiveMessage call and sets the
	// MessageId of each message of a 200 answer to its Body.
	MessageIDQuotesBody
)

func init() {
	moreNames[QuoteAnswer] = "QuoteAnswer"
	moreNames[QuoteAnswerServer] = "QuoteAnswerServer"
	moreNames[HTMLAnswer] = "HTMLAnswer"
	moreNames[VersionQuotesValue] = "VersionQuotesValue"
	moreNames[CodeQuotesValue] = "CodeQuotesValue"
	moreNames[MessageIDQuotesBody] = "MessageIDQuotesBody"
	rewriters[MessageIDQuotesBody] = func(data []byte) []byte {
		var doc map[string]any
		if json.Unmarshal(data, &doc) != nil {
			return data
		}
		ms, _ := doc["Messages"].([]any)
		for _, m := range ms {
			if m, ok := m.(map[string]any); ok {
				m["MessageId"] = m["Body"]
			}
		}
		out, err := json.Marshal(doc)
		if err != nil {
			return data
		}
		return out
	}
	hostileAnswers[CodeQuotesValue] = func(body []byte) (int, string, []byte) {
		var doc struct{ SecretString string }
		_ = json.Unmarshal(body, &doc)
		out, err := json.Marshal(map[string]string{"__type": doc.SecretString, "message": "denied"})
		if err != nil {
			panic(err)
		}
		return http.StatusBadRequest, "application/x-amz-json-1.1", out
	}
	moreNames[ErrorCodeQuotesValue] = "ErrorCodeQuotesValue"
	rewriters[VersionQuotesValue] = func(data []byte) []byte {
		return editValues(data, func(doc, v map[string]any) { v["VersionId"] = v["SecretString"] })
	}
	rewriters[ErrorCodeQuotesValue] = func(data []byte) []byte {
		return editValues(data, func(doc, v map[string]any) {
			errs, _ := doc["Errors"].([]any)
			doc["Errors"] = append(errs, map[string]any{"SecretId": v["Name"], "ErrorCode": v["SecretString"], "Message": v["SecretString"]})
			v["Name"], v["ARN"] = "moved-to-errors", "moved-to-errors"
		})
	}
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

// editValues applies edit to the answer doc of GetSecretValue, or to each
// of the SecretValues of a BatchGetSecretValue answer, with doc. An answer
// that is not a JSON object is kept.
func editValues(data []byte, edit func(doc, v map[string]any)) []byte {
	var doc map[string]any
	if json.Unmarshal(data, &doc) != nil {
		return data
	}
	if vs, ok := doc["SecretValues"].([]any); ok {
		for _, v := range vs {
			if m, ok := v.(map[string]any); ok {
				edit(doc, m)
			}
		}
	} else {
		edit(doc, doc)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return data
	}
	return out
}
