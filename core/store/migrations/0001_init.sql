-- 0001: the kernel's entry store. Portable SQL (SQLite now, PostgreSQL later): no SQLite-only types.

CREATE TABLE devices (
  id          INTEGER PRIMARY KEY,
  uuid        TEXT    NOT NULL UNIQUE,
  name        TEXT    NOT NULL,
  slug        TEXT    NOT NULL,
  os          TEXT    NOT NULL,
  public_key  BLOB,
  created_at  INTEGER NOT NULL
);

-- Content kinds (REFERENCE.md §3); ids are stable and part of the format.
CREATE TABLE content_kinds (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
INSERT INTO content_kinds (id, name) VALUES
  (0,'unknown'),(1,'image'),(2,'video'),(3,'audio'),(4,'document'),(5,'archive'),(6,'code'),
  (7,'text'),(8,'database'),(9,'book'),(10,'font'),(11,'mesh'),(12,'config'),(13,'encrypted'),
  (14,'key'),(15,'executable'),(16,'binary'),(17,'spreadsheet'),(18,'presentation'),(19,'email'),
  (20,'calendar'),(21,'contact'),(22,'web'),(23,'shortcut'),(24,'package');

CREATE TABLE mime_types (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

CREATE TABLE locations (
  id              INTEGER PRIMARY KEY,
  uuid            TEXT    NOT NULL UNIQUE,
  device_id       INTEGER NOT NULL REFERENCES devices(id),
  path            TEXT    NOT NULL,
  index_mode      TEXT    NOT NULL,
  root_entry_id   INTEGER,
  scan_state      TEXT    NOT NULL DEFAULT 'pending',
  config          TEXT    NOT NULL DEFAULT '{}',
  last_indexed_at INTEGER,
  created_at      INTEGER NOT NULL,
  UNIQUE (device_id, path)
);

CREATE TABLE content_identities (
  id              INTEGER PRIMARY KEY,
  uuid            TEXT    NOT NULL UNIQUE,
  cas_id          TEXT    NOT NULL UNIQUE,
  cas_algo        TEXT    NOT NULL,
  size            INTEGER NOT NULL,
  kind_id         INTEGER NOT NULL DEFAULT 0 REFERENCES content_kinds(id),
  mime_id         INTEGER REFERENCES mime_types(id),
  integrity_hash  TEXT,
  integrity_algo  TEXT,
  integrity_at    INTEGER,
  created_at      INTEGER NOT NULL
);

-- Entries: one row per file, directory or symlink. The tree is parent_id + name; directories also
-- have a row in dir_paths (their path relative to the location root), which makes subtree queries
-- a range scan and keeps a move or rename O(directories below it) instead of O(entries below it).
-- See core/store/RATIONALE.md and BenchmarkMoveSubtree.
CREATE TABLE entries (
  id           INTEGER PRIMARY KEY,
  location_id  INTEGER NOT NULL REFERENCES locations(id),
  parent_id    INTEGER,
  name         TEXT    NOT NULL,
  extension    TEXT    NOT NULL DEFAULT '',
  kind         INTEGER NOT NULL,
  size         INTEGER NOT NULL DEFAULT 0,
  mtime_ns     INTEGER NOT NULL DEFAULT 0,
  inode        INTEGER NOT NULL DEFAULT 0,
  content_id   INTEGER REFERENCES content_identities(id),
  link_target  TEXT,
  agg_size     INTEGER NOT NULL DEFAULT 0,
  file_count   INTEGER NOT NULL DEFAULT 0,
  dir_count    INTEGER NOT NULL DEFAULT 0,
  child_count  INTEGER NOT NULL DEFAULT 0,
  indexed_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX entries_parent_name ON entries (parent_id, name);
CREATE INDEX entries_location_inode ON entries (location_id, inode);
CREATE INDEX entries_content ON entries (content_id) WHERE content_id IS NOT NULL;
-- the content-identity queue: files with bytes and no content yet
CREATE INDEX entries_needs_content ON entries (location_id, id) WHERE kind = 0 AND content_id IS NULL AND size > 0;

CREATE TABLE dir_paths (
  entry_id     INTEGER PRIMARY KEY,
  location_id  INTEGER NOT NULL,
  path         TEXT    NOT NULL
);
CREATE UNIQUE INDEX dir_paths_location_path ON dir_paths (location_id, path);

-- The pipeline ledger: what stage (at what version) has been done for which content.
CREATE TABLE stage_ledger (
  content_id  INTEGER NOT NULL,
  stage       TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  status      TEXT    NOT NULL,
  error       TEXT,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (content_id, stage)
);

-- Durable jobs.
CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY,
  uuid         TEXT    NOT NULL UNIQUE,
  kind         TEXT    NOT NULL,
  target       TEXT    NOT NULL,
  state        TEXT    NOT NULL,
  control      TEXT    NOT NULL DEFAULT '',
  phase        TEXT    NOT NULL DEFAULT '',
  done         INTEGER NOT NULL DEFAULT 0,
  total        INTEGER NOT NULL DEFAULT 0,
  checkpoint   TEXT,
  error        TEXT,
  owner_pid    INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  finished_at  INTEGER
);
CREATE INDEX jobs_state ON jobs (state);

-- Counted, listed skips of a job: paths it could not read, vanished files, invalid names.
CREATE TABLE job_skips (
  id      INTEGER PRIMARY KEY,
  job_id  INTEGER NOT NULL,
  path    TEXT    NOT NULL,
  reason  TEXT    NOT NULL,
  at      INTEGER NOT NULL
);
CREATE INDEX job_skips_job ON job_skips (job_id);
