"""Core tables: runs, records, validation results, dedup marks, review verdicts."""

SQL = """
CREATE TABLE runs (
    id          VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,          -- generate, import, validate, dedup, tts, review, export, eval, pipeline
    name        VARCHAR,
    config      JSON,
    status      VARCHAR NOT NULL DEFAULT 'running',   -- running, done, failed
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE records (
    id          VARCHAR PRIMARY KEY,       -- content id, see toolforge.canonical
    scenario    VARCHAR,
    tools       JSON NOT NULL,
    messages    JSON NOT NULL,
    meta        JSON NOT NULL,
    source      VARCHAR NOT NULL,          -- generate, import:FORMAT, review
    run_id      VARCHAR,
    parent_id   VARCHAR,                   -- set on a revision: the record it revises
    revision    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- One row per (record, stage) that was checked; ok = no error-level issue.
CREATE TABLE validations (
    record_id    VARCHAR NOT NULL,
    stage        VARCHAR NOT NULL,         -- schema, execution, judge, ...
    ok           BOOLEAN NOT NULL,
    n_issues     INTEGER NOT NULL,
    validated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (record_id, stage)
);

CREATE TABLE issues (
    record_id   VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,
    code        VARCHAR NOT NULL,
    path        VARCHAR NOT NULL,
    message     VARCHAR NOT NULL,
    severity    VARCHAR NOT NULL DEFAULT 'error'
);
CREATE INDEX issues_record ON issues (record_id);

-- A row marks a record as a duplicate (or contaminated) under a method.
CREATE TABLE dedup_marks (
    record_id   VARCHAR NOT NULL,
    method      VARCHAR NOT NULL,          -- exact, near, semantic, against
    cluster_id  VARCHAR NOT NULL,
    kept_id     VARCHAR,                   -- the cluster's representative (NULL for 'against')
    score       DOUBLE,
    marked_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (record_id, method)
);

-- The resolved review verdict per record (annotations live in the review tables).
CREATE TABLE review_verdicts (
    record_id      VARCHAR PRIMARY KEY,
    verdict        VARCHAR NOT NULL,       -- accept, reject, needs_fix
    n_annotations  INTEGER NOT NULL DEFAULT 1,
    resolved_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);
"""
