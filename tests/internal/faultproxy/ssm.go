package faultproxy

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Faults for SSM Parameter Store (AccessDenied names the ssm: action for
// its calls), whose calls the proxy tells apart by their
// X-Amz-Target header ("AmazonSSM.GetParameters" is the operation
// "GetParameters") as it does those of Secrets Manager. They are numbered
// apart from the faults of faultproxy.go so that either list can grow.
const (
	// KMSAccessDenied answers 400 AccessDeniedException as Parameter Store
	// does when the caller may not use a SecureString's KMS key.
	KMSAccessDenied Fault = 100 + iota
	// InvalidKeyID answers 400 InvalidKeyId (a disabled or deleted KMS key).
	InvalidKeyID
	// StripParameterValues forwards the call and removes the Value of each
	// parameter of a 200 answer (Parameter, Parameters[]).
	StripParameterValues
	// BreakParameterType forwards the call and gives each parameter of a 200
	// answer a Type that is none, its Value kept.
	BreakParameterType
)

var moreNames = map[Fault]string{
	KMSAccessDenied:      "KMSAccessDenied",
	InvalidKeyID:         "InvalidKeyID",
	StripParameterValues: "StripParameterValues",
	BreakParameterType:   "BreakParameterType",
}

// rewriters are the faults that forward a call and damage its 200 answer,
// beyond those rewrite handles itself.
var rewriters = map[Fault]func([]byte) []byte{
	StripParameterValues: func(data []byte) []byte {
		return editParameters(data, func(p map[string]any) { delete(p, "Value") })
	},
	BreakParameterType: func(data []byte) []byte {
		return editParameters(data, func(p map[string]any) { p["Type"] = "Malformed" })
	},
}

func init() {
	errorFaults[KMSAccessDenied] = struct {
		status    int
		code, msg string
	}{http.StatusBadRequest, "AccessDeniedException",
		"User: arn:aws:iam::000000000000:role/app is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:000000000000:key/1234abcd"}
	errorFaults[InvalidKeyID] = struct {
		status    int
		code, msg string
	}{http.StatusBadRequest, "InvalidKeyId", "The KMS key is disabled."}
}

// actionPrefix is the IAM action prefix of a call: "ssm:" for Parameter
// Store, whose X-Amz-Target starts "AmazonSSM.", "secretsmanager:" otherwise.
func actionPrefix(r *http.Request) string {
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.") {
		return "ssm:"
	}
	return "secretsmanager:"
}

// editParameters applies edit to the parameter of an answer and to each of
// its Parameters. An answer that is not a JSON object is kept.
func editParameters(data []byte, edit func(map[string]any)) []byte {
	var doc map[string]any
	if json.Unmarshal(data, &doc) != nil {
		return data
	}
	if p, ok := doc["Parameter"].(map[string]any); ok {
		edit(p)
	}
	if ps, ok := doc["Parameters"].([]any); ok {
		for _, v := range ps {
			if p, ok := v.(map[string]any); ok {
				edit(p)
			}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return data
	}
	return out
}
