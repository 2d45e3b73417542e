"""Review tables: Label Studio projects, the task each record became, and every annotation.

The resolved verdict per record lives in the core ``review_verdicts`` table;
these tables keep what it was resolved from (all annotators, all edits).
"""

SQL = """
-- A Label Studio project that toolforge pushed to (url + project id identify it).
CREATE TABLE review_projects (
    url          VARCHAR NOT NULL,
    project_id   INTEGER NOT NULL,
    title        VARCHAR NOT NULL,
    config_kind  VARCHAR NOT NULL,          -- text, audio
    config_sha   VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (url, project_id)
);

-- The task a record became in a project; data_sha tells whether the task is up to date.
CREATE TABLE review_tasks (
    url          VARCHAR NOT NULL,
    project_id   INTEGER NOT NULL,
    record_id    VARCHAR NOT NULL,
    task_id      INTEGER NOT NULL,
    data_sha     VARCHAR NOT NULL,
    pushed_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (url, project_id, record_id)
);

-- One row per Label Studio annotation (an annotator's verdict on a task), as last pulled.
CREATE TABLE review_annotations (
    url            VARCHAR NOT NULL,
    project_id     INTEGER NOT NULL,
    annotation_id  INTEGER NOT NULL,
    task_id        INTEGER NOT NULL,
    record_id      VARCHAR NOT NULL,
    annotator      VARCHAR NOT NULL,
    annotated_at   TIMESTAMP,
    status         VARCHAR NOT NULL,        -- ok, skipped (annotator skipped the task), invalid (see problem)
    problem        VARCHAR,                 -- why the annotation does not count (labeling-config mismatch, ...)
    choice         VARCHAR,                 -- accept, reject, needs_fix; NULL when skipped or invalid
    rating         INTEGER,
    notes          VARCHAR,
    edit_status    VARCHAR NOT NULL,        -- none, applied, invalid, not_applied (see edit_reason)
    edit           JSON,                    -- {"answer": ..., "arguments": {"1": {...}}} when edited
    edit_reason    VARCHAR,                 -- why an edit was rejected
    revision_id    VARCHAR,                 -- the revised record this annotation produced
    pulled_at      TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (url, annotation_id)
);
CREATE INDEX review_annotations_record ON review_annotations (record_id);
"""
