package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// stageKeyPrefix is the metadata key prefix under which the host stores a stage's per-content
// output: key "stage:<stage id>" in the stage's extension namespace.
const stageKeyPrefix = "stage:"

// ExtensionData is what one extension recorded about a file: the output of its stages for the
// content, its other metadata of the content and of the entry, and the tags it applied.
type ExtensionData struct {
	// Stages maps a stage id to that stage's output for the content.
	Stages map[string]json.RawMessage `json:"stages,omitempty"`
	// Metadata is the extension's other metadata of the content, by key.
	Metadata map[string]json.RawMessage `json:"metadata,omitempty"`
	// EntryMetadata is its metadata of this one entry (not of every copy), by key.
	EntryMetadata map[string]json.RawMessage `json:"entry_metadata,omitempty"`
	// Tags are the tags it applied to the content or the entry ("namespace:name", or "name").
	Tags []string `json:"tags,omitempty"`
}

// ExtensionDataOf returns what extensions recorded about the entry entryID and its content
// contentID (either may be 0), grouped by extension id (the metadata namespace, the tag
// source). Extensions that recorded nothing are absent.
func (s *Store) ExtensionDataOf(ctx context.Context, entryID, contentID int64) (map[string]*ExtensionData, error) {
	out := map[string]*ExtensionData{}
	get := func(ext string) *ExtensionData {
		if out[ext] == nil {
			out[ext] = &ExtensionData{}
		}
		return out[ext]
	}
	rows, err := s.sql.QueryContext(ctx, `SELECT namespace, key, value, entry_id IS NOT NULL FROM user_metadata
		WHERE (content_id = ? AND entry_id IS NULL) OR (entry_id = ? AND content_id IS NULL) ORDER BY namespace, key`, contentID, entryID)
	if err != nil {
		return nil, fmt.Errorf("reading the extension data of entry %d, content %d: %w", entryID, contentID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ns, key, value string
		var ofEntry bool
		if err := rows.Scan(&ns, &key, &value, &ofEntry); err != nil {
			return nil, fmt.Errorf("reading the extension data of entry %d, content %d: %w", entryID, contentID, err)
		}
		d, raw := get(ns), json.RawMessage(value)
		switch stage, isStage := strings.CutPrefix(key, stageKeyPrefix); {
		case ofEntry:
			d.EntryMetadata = put(d.EntryMetadata, key, raw)
		case isStage:
			d.Stages = put(d.Stages, stage, raw)
		default:
			d.Metadata = put(d.Metadata, key, raw)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the extension data of entry %d, content %d: %w", entryID, contentID, err)
	}
	trows, err := s.sql.QueryContext(ctx, `SELECT DISTINCT a.source, t.namespace, t.name FROM tag_applications a JOIN tags t ON t.id = a.tag_id
		WHERE (a.content_id = ? AND a.entry_id IS NULL) OR (a.entry_id = ? AND a.content_id IS NULL) ORDER BY a.source, t.namespace, t.name`, contentID, entryID)
	if err != nil {
		return nil, fmt.Errorf("reading the tags of entry %d, content %d: %w", entryID, contentID, err)
	}
	defer trows.Close()
	for trows.Next() {
		var src, ns, name string
		if err := trows.Scan(&src, &ns, &name); err != nil {
			return nil, fmt.Errorf("reading the tags of entry %d, content %d: %w", entryID, contentID, err)
		}
		if ns != "" {
			name = ns + ":" + name
		}
		get(src).Tags = append(get(src).Tags, name)
	}
	if err := trows.Err(); err != nil {
		return nil, fmt.Errorf("reading the tags of entry %d, content %d: %w", entryID, contentID, err)
	}
	for _, d := range out {
		sort.Strings(d.Tags)
	}
	return out, nil
}

func put(m map[string]json.RawMessage, k string, v json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	m[k] = v
	return m
}
