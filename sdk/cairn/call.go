package cairn

import (
	"encoding/json"
)

// request is the v1 Request: {"fn": string, "args": object}.
type request struct {
	Fn   string `json:"fn"`
	Args any    `json:"args"`
}

// response is the v1 Response: {"ok": any} | {"error": {code, message}}.
type response struct {
	OK    json.RawMessage `json:"ok"`
	Error *Error          `json:"error"`
}

// call makes one host call: it encodes fn and args as a Request, sends it
// through the cairn:host/v1 call import (transport), and decodes the ok value
// into out (ignored when out is nil). A host error comes back as *Error.
func call(fn string, args any, out any) error {
	if args == nil {
		args = struct{}{}
	}
	req, err := json.Marshal(request{Fn: fn, Args: args})
	if err != nil {
		return &Error{Fn: fn, Code: CodeInvalidArgument, Message: "encode arguments: " + err.Error()}
	}
	raw := transport(req)
	if len(raw) == 0 {
		return &Error{Fn: fn, Code: CodeInternal, Message: "empty response from the host"}
	}
	var resp response
	if err := json.Unmarshal(raw, &resp); err != nil {
		return &Error{Fn: fn, Code: CodeInternal, Message: "malformed response from the host: " + err.Error()}
	}
	if resp.Error != nil {
		resp.Error.Fn = fn
		if resp.Error.Code == "" {
			resp.Error.Code = CodeInternal
		}
		return resp.Error
	}
	if out == nil || len(resp.OK) == 0 || string(resp.OK) == "null" {
		return nil
	}
	if err := json.Unmarshal(resp.OK, out); err != nil {
		return &Error{Fn: fn, Code: CodeInternal, Message: "unexpected result from the host: " + err.Error()}
	}
	return nil
}
