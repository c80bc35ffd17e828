package pdk

import (
	"encoding/json"
)

// InputJSON decodes the current call's input, a JSON document, into v.
func InputJSON(v any) error {
	if err := json.Unmarshal(loadInput(), v); err != nil {
		return wrap("pdk: decode input", err)
	}
	return nil
}

// OutputJSON sets the current call's output to the JSON encoding of v.
func OutputJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return wrap("pdk: encode output", err)
	}
	Output(b)
	return nil
}
