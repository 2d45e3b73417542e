"""Pipeline bookkeeping (issue 10): which stage of which recipe is done in this store.

A row per (recipe, stage). ``config_sha`` is the hash of the part of the recipe
that stage reads (plus the scale); a stage whose row is ``done`` with the same
hash is skipped on the next ``toolforge run``. ``status`` is ``running`` while a
stage works (a crash leaves it so, and the next run re-enters the stage, which
is itself resumable), ``waiting`` while review waits for annotators, ``done``
or ``failed``. ``counts`` holds the stage's figures for the funnel.
"""

SQL = """
CREATE TABLE pipeline_stages (
    recipe       VARCHAR NOT NULL,
    stage        VARCHAR NOT NULL,         -- generate, validate, dedup, tts, review, export, push
    status       VARCHAR NOT NULL,         -- running, waiting, done, failed
    config_sha   VARCHAR NOT NULL,
    run_id       VARCHAR,
    counts       JSON,
    error        VARCHAR,
    started_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    finished_at  TIMESTAMP,
    PRIMARY KEY (recipe, stage)
);
"""
