"""Export and push history: which records went to which split of which export or push."""

SQL = """
CREATE TABLE export_runs (
    run_id      VARCHAR PRIMARY KEY,       -- runs.id of the export or push run
    kind        VARCHAR NOT NULL,          -- export, push, s3
    format      VARCHAR NOT NULL,          -- openai, trl, sharegpt, hermes, lfm2-audio, hub
    target      VARCHAR NOT NULL,          -- output folder, repo id or s3:// url (never a token)
    revision    VARCHAR,                   -- Hub branch
    commit_oid  VARCHAR,                   -- Hub commit made by a push
    seed        INTEGER,
    test_fraction DOUBLE,
    n_records   INTEGER NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE export_splits (
    run_id      VARCHAR NOT NULL,
    record_id   VARCHAR NOT NULL,
    split       VARCHAR NOT NULL,          -- train, test
    PRIMARY KEY (run_id, record_id)
);
"""
