"""Generation attempts: every request outcome of a generation run, failures with their reason.

One row per outcome: ``accepted`` (a record was stored), ``rejected`` (the
teacher's reply was invalid: the issue code is the reason; the job re-asks),
``transport`` (a request failed: http_429, http_500, timeout, ...; retried),
``gave_up`` (a job used all its attempts and produced no record). Nothing a
teacher returns is dropped silently: rejected replies keep their text.
"""

SQL = """
CREATE TABLE generation_attempts (
    run_id      VARCHAR NOT NULL,
    scenario    VARCHAR NOT NULL,
    job         INTEGER NOT NULL,          -- job index within (run, scenario); fixes the sampled variety
    attempt     INTEGER NOT NULL,          -- 1..max_attempts (re-asks)
    outcome     VARCHAR NOT NULL,          -- accepted, rejected, transport, gave_up
    reason      VARCHAR,                   -- issue or transport code
    detail      VARCHAR,
    record_id   VARCHAR,
    output      VARCHAR,                   -- the teacher's reply (rejected attempts; truncated)
    latency_s   DOUBLE,
    created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
"""
