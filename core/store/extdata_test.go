package store

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

// TestExtensionDataOf: metadata and tags are grouped by extension; stage output ("stage:<id>"
// keys) is told apart from other metadata and from metadata of the entry alone; rows of other
// contents and entries are left out.
func TestExtensionDataOf(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	const entry, content, otherEntry, otherContent = 11, 7, 12, 8
	for _, r := range []struct {
		entry, content any
		ns, key, value string
	}{
		{nil, content, "dev.cairn.media", "stage:stage.media", `{"width":640,"height":480}`},
		{nil, content, "dev.cairn.media", "camera", `"X100"`},
		{nil, content, "dev.cairn.text", "stage:stage.text", `{"chars":12}`},
		{entry, nil, "org.example.notes", "note", `"keep"`},
		{nil, otherContent, "dev.cairn.media", "stage:stage.media", `{"width":1}`},
		{otherEntry, nil, "org.example.notes", "note", `"other"`},
	} {
		if _, err := s.SQL().Exec(`INSERT INTO user_metadata (entry_id, content_id, namespace, key, value, updated_at) VALUES (?, ?, ?, ?, ?, 1)`,
			r.entry, r.content, r.ns, r.key, r.value); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SQL().Exec(`INSERT INTO tags (id, uuid, namespace, name, created_at) VALUES (1, 'u1', '', 'cat', 1), (2, 'u2', 'color', 'red', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SQL().Exec(`INSERT INTO tag_applications (tag_id, entry_id, content_id, source, created_at) VALUES
		(1, NULL, ?, 'org.example.tagger', 1), (2, ?, NULL, 'org.example.tagger', 1), (1, NULL, ?, 'org.example.other', 1)`, content, entry, otherContent); err != nil {
		t.Fatal(err)
	}
	got, err := s.ExtensionDataOf(ctx, entry, content)
	if err != nil {
		t.Fatal(err)
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	want := map[string]*ExtensionData{
		"dev.cairn.media": {Stages: map[string]json.RawMessage{"stage.media": raw(`{"width":640,"height":480}`)},
			Metadata: map[string]json.RawMessage{"camera": raw(`"X100"`)}},
		"dev.cairn.text":     {Stages: map[string]json.RawMessage{"stage.text": raw(`{"chars":12}`)}},
		"org.example.notes":  {EntryMetadata: map[string]json.RawMessage{"note": raw(`"keep"`)}},
		"org.example.tagger": {Tags: []string{"cat", "color:red"}},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("ExtensionDataOf =\n%s\nwant\n%s", g, w)
	}
	// A file nothing recorded anything about.
	if got, err := s.ExtensionDataOf(ctx, 99, 0); err != nil || len(got) != 0 {
		t.Fatalf("ExtensionDataOf(nothing) = %v, %v", got, err)
	}
}
