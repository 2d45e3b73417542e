"""Validation: the judge's score and rubric per record, and its verdict per rubric check."""

SQL = """
ALTER TABLE judge_verdicts ADD COLUMN score DOUBLE;          -- 1-5, NULL when the judge gave none
ALTER TABLE judge_verdicts ADD COLUMN rubric_sha VARCHAR;    -- which rubric (toolforge.validate.judge.rubric_sha)
CREATE TABLE judge_checks (
    record_id   VARCHAR NOT NULL,
    judge       VARCHAR NOT NULL,
    check_id    VARCHAR NOT NULL,          -- a rubric check (answer_grounded, chained, ...)
    verdict     VARCHAR NOT NULL,          -- pass, fail, na
    reason      VARCHAR NOT NULL,
    PRIMARY KEY (record_id, judge, check_id)
);
"""
