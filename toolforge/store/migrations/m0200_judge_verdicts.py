"""Validation: the LLM judge's verdict and reason per record and judge model."""

SQL = """
CREATE TABLE judge_verdicts (
    record_id   VARCHAR NOT NULL,
    judge       VARCHAR NOT NULL,          -- the teacher spec that judged
    verdict     VARCHAR NOT NULL,          -- pass, fail, error
    reason      VARCHAR NOT NULL,
    judged_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (record_id, judge)
);
"""
