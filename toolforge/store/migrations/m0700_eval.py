"""Eval results: one row per eval run, its metric groups, and every scored turn."""

SQL = """
CREATE TABLE eval_runs (
    run_id       VARCHAR PRIMARY KEY,      -- also a row of runs (kind 'eval')
    kind         VARCHAR NOT NULL,         -- records, bfcl
    model        VARCHAR,                  -- teacher spec with --model, else NULL
    refs         VARCHAR NOT NULL,         -- references: file, folder or split:NAME
    predictions  VARCHAR NOT NULL,
    overall      JSON NOT NULL,            -- the overall metrics with their counts
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- One row per scenario (records) or category (bfcl).
CREATE TABLE eval_groups (
    run_id   VARCHAR NOT NULL,
    grp      VARCHAR NOT NULL,
    metrics  JSON NOT NULL,
    PRIMARY KEY (run_id, grp)
);

-- One row per scored turn (records) or entry (bfcl; turn = -1).
CREATE TABLE eval_turns (
    run_id      VARCHAR NOT NULL,
    record_id   VARCHAR NOT NULL,
    turn        INTEGER NOT NULL,
    grp         VARCHAR NOT NULL,          -- scenario or BFCL category
    correct     BOOLEAN NOT NULL,          -- exact match (records) or right (bfcl)
    detail      JSON NOT NULL,             -- the TurnScore, or the BFCL failure reason
    PRIMARY KEY (run_id, record_id, turn)
);
"""
