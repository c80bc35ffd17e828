package pdk

import (
	"encoding/json"

	"github.com/cairnfs/cairn/sdk/pdk/internal/abi"
)

// HTTPRequest describes a request made through the host's http_request.
type HTTPRequest struct {
	URL     string            `json:"url"`
	Method  string            `json:"method,omitempty"` // default GET
	Headers map[string]string `json:"headers,omitempty"`
}

// HTTPResponse is the host's answer to an HTTPRequest.
type HTTPResponse struct {
	Status int
	Body   []byte
}

// SendHTTP performs req with body (nil for none) through Extism's
// http_request. The host only allows hosts listed in the manifest's
// AllowedHosts; go-sdk traps on any other host or on a network error, which
// kills the instance, so SendHTTP cannot return those failures.
//
// Cairn hosts allow no host here, ever (go-sdk follows redirects to any
// host): a Cairn extension uses cairn.HTTP (host call http.request), which
// checks every redirect against the hosts net grants. SendHTTP is for other
// Extism hosts.
func SendHTTP(req HTTPRequest, body []byte) (HTTPResponse, error) {
	enc, err := json.Marshal(req)
	if err != nil {
		return HTTPResponse{}, wrap("pdk: encode http request", err)
	}
	r := AllocateBytes(enc)
	b := AllocateBytes(body)
	resp := readHostResult(abi.HTTPRequest(r.offset, b.offset)) // http_request frees r and b
	status := abi.HTTPStatusCode()
	return HTTPResponse{Status: int(status), Body: resp}, nil
}
