package cairn

// HTTPRequest is a request the host makes for the extension (http.request,
// host ABI 1.2).
type HTTPRequest struct {
	Method  string            `json:"method,omitempty"` // default GET
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    []byte            `json:"body,omitempty"` // ≤ 4 MiB
	// TimeoutMS bounds the whole request, redirects included (0: the host's
	// default, 30 s; at most 2 minutes).
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// HTTPResponse is the host's answer to an HTTPRequest.
type HTTPResponse struct {
	Status int `json:"status"`
	// URL is the final URL, after the redirects the host followed.
	URL string `json:"url"`
	// Headers have lowercase names; repeated headers are joined with ", ".
	Headers map[string]string `json:"headers"`
	Body    []byte            `json:"body"` // ≤ 8 MiB
}

// HTTP makes req through the host, which checks every URL, the first and each
// redirect's, against the hosts net grants (a name covers its every port,
// "name:port" that port only; "localhost" and "127.0.0.1" are different
// hosts). A redirect to any other host stops the request with a denial
// (IsDenied), so nothing of that host reaches the extension. Responses over
// 8 MiB are refused (CodeLimitExceeded); a network failure or timeout is
// CodeUnavailable. Needs net and a host of ABI ≥ 1.2 (declare
// abi = ">=1.2, <2.0"): Extism's own http_request (pdk.SendHTTP) is denied
// by Cairn hosts.
func HTTP(req HTTPRequest) (HTTPResponse, error) {
	var out HTTPResponse
	err := call("http.request", req, &out)
	return out, err
}
