package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// writeFunctionResponse turns a function's output into the HTTP response, the way payload
// format 2.0 is interpreted: an object with a statusCode is a structured response; any
// other valid JSON is the body of a 200 application/json answer; anything else, or a
// structured response API Gateway could not send, is a 500.
func writeFunctionResponse(w http.ResponseWriter, out []byte) int {
	if !json.Valid(out) {
		return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	}
	if !hasStatusCode(out) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return http.StatusOK
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 599 {
		return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return writeGatewayError(w, http.StatusInternalServerError, bodyInternalError)
		}
		body = decoded
	}

	h := w.Header()
	// Without this, net/http would sniff a Content-Type the function did not send.
	h["Content-Type"] = nil
	for name, value := range resp.Headers {
		if !isHopHeader(name) {
			h.Set(name, value)
		}
	}
	for name, values := range resp.MultiValueHeaders {
		if isHopHeader(name) {
			continue
		}
		for _, v := range values {
			h.Add(name, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if len(h.Values("Content-Type")) == 0 || h.Get("Content-Type") == "" {
		h["Content-Type"] = nil
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return resp.StatusCode
}

// hasStatusCode reports whether out is a JSON object with a statusCode member.
func hasStatusCode(out []byte) bool {
	if !bytes.HasPrefix(bytes.TrimSpace(out), []byte("{")) {
		return false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) != nil {
		return false
	}
	_, ok := probe["statusCode"]
	return ok
}

// isHopHeader reports headers the HTTP server computes itself.
func isHopHeader(name string) bool {
	switch strings.ToLower(name) {
	case "content-length", "transfer-encoding", "connection":
		return true
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
