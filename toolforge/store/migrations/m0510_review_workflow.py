"""Review workflow: task versions (stale and deleted tasks), how each verdict was reached.

- ``review_tasks.version_sha``: what an annotation on the task was made against (the record id and
  its audio); a task whose version changed after it was annotated is retired, not updated.
- ``review_tasks.parent_record_id``: set when the task's record is a revision of another record.
- ``review_retired_tasks``: tasks that no longer stand for their record's current version
  (``superseded``: audio or content changed, a newer task replaces it; ``deleted``: removed on the
  server by someone, not re-created unless ``push --restore``).
- ``review_outcomes``: per record, how its verdict was reached (majority, tie, ground truth, a
  needs_fix settled by a valid fix, an accept held back by an invalid edit) and why.
"""

SQL = """
ALTER TABLE review_tasks ADD COLUMN version_sha VARCHAR;
ALTER TABLE review_tasks ADD COLUMN parent_record_id VARCHAR;

CREATE TABLE review_retired_tasks (
    url          VARCHAR NOT NULL,
    project_id   INTEGER NOT NULL,
    task_id      INTEGER NOT NULL,
    record_id    VARCHAR NOT NULL,
    state        VARCHAR NOT NULL,          -- superseded, deleted
    reason       VARCHAR NOT NULL,          -- audio changed, revised (new record), deleted on the server
    replaced_by  INTEGER,                   -- the task that replaces it (superseded)
    retired_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (url, project_id, task_id)
);

CREATE TABLE review_outcomes (
    record_id    VARCHAR PRIMARY KEY,
    verdict      VARCHAR NOT NULL,          -- as in review_verdicts
    basis        VARCHAR NOT NULL,          -- majority, tie, ground_truth, fixed, invalid_edit, inherited
    detail       VARCHAR,                   -- the reason, for a lead to read
    pending      BOOLEAN NOT NULL DEFAULT false,  -- not accepted until an annotator or the lead resolves it
    resolved_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
"""
