-- Where a sidecar's bytes are (host ABI 1.1): 'file', a file under sidecars/ (every sidecar before
-- 1.1), or 'content', the content's own bytes (a plain UTF-8 text file is its own text sidecar,
-- a small image its own thumbnail): no copy is kept and readers open one of the content's files.
ALTER TABLE sidecars ADD COLUMN storage TEXT NOT NULL DEFAULT 'file';
