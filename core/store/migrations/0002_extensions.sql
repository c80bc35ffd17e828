-- 0002: what extensions write through the host ABI: a private key-value store, user metadata in
-- their namespace, tags, sidecar records, proposed actions, and the audit log of denials.

CREATE TABLE ext_kv (
  ext_id  TEXT NOT NULL,
  key     TEXT NOT NULL,
  value   BLOB NOT NULL,
  PRIMARY KEY (ext_id, key)
);

-- User metadata attached to an entry or to a content (then it applies to every copy).
CREATE TABLE user_metadata (
  id          INTEGER PRIMARY KEY,
  entry_id    INTEGER,
  content_id  INTEGER,
  namespace   TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  value       TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX user_metadata_target ON user_metadata (COALESCE(entry_id, 0), COALESCE(content_id, 0), namespace, key);

CREATE TABLE tags (
  id         INTEGER PRIMARY KEY,
  uuid       TEXT NOT NULL UNIQUE,
  namespace  TEXT NOT NULL DEFAULT '',
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (namespace, name)
);

CREATE TABLE tag_applications (
  tag_id      INTEGER NOT NULL,
  entry_id    INTEGER,
  content_id  INTEGER,
  source      TEXT    NOT NULL,
  confidence  REAL    NOT NULL DEFAULT 1,
  created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX tag_applications_target ON tag_applications (tag_id, COALESCE(entry_id, 0), COALESCE(content_id, 0), source);

-- Sidecars: content-scoped derived files under sidecars/<h0>/<h1>/<content-uuid>/<kind>/<variant>.<ext>.
CREATE TABLE sidecars (
  id          INTEGER PRIMARY KEY,
  content_id  INTEGER NOT NULL,
  kind        TEXT    NOT NULL,
  variant     TEXT    NOT NULL,
  format      TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  size        INTEGER NOT NULL DEFAULT 0,
  checksum    TEXT,
  source      TEXT    NOT NULL,
  error       TEXT,
  updated_at  INTEGER NOT NULL,
  UNIQUE (content_id, kind, variant)
);

CREATE TABLE proposed_actions (
  id          INTEGER PRIMARY KEY,
  uuid        TEXT    NOT NULL UNIQUE,
  source      TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  params      TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  status      TEXT    NOT NULL DEFAULT 'proposed',
  created_at  INTEGER NOT NULL
);

-- Every mutation and every denial leaves a line here.
CREATE TABLE audit_log (
  id       INTEGER PRIMARY KEY,
  at       INTEGER NOT NULL,
  actor    TEXT    NOT NULL,
  action   TEXT    NOT NULL,
  outcome  TEXT    NOT NULL,
  detail   TEXT
);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
