-- Per-device availability of sidecar files (REFERENCE.md §9): a peer that lacks a sidecar can
-- fetch it from a device that has it rather than regenerate it.
CREATE TABLE sidecar_devices (
  sidecar_id  INTEGER NOT NULL,
  device_id   INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  PRIMARY KEY (sidecar_id, device_id)
);
CREATE INDEX sidecars_kind ON sidecars (kind, status);
