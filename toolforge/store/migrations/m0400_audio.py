"""Audio (issue 6): one row per spoken turn of a record.

``path`` is relative to the audio root folder next to the store
(``<store stem>-audio/``, see ``toolforge.audio.store.audio_root``). ``rate``
and ``pitch`` are in the engine's own units (espeak: words per minute and
0-99; piper: 1/length_scale and 0); ``params`` holds the whole voice spec.
``qc`` holds the QC figures (and the ASR check, when run); ``qc_ok`` is false
when any QC or ASR rule failed, and the failures are also stored in
``issues`` under stage ``audio``.
"""

SQL = """
CREATE TABLE audio (
    record_id    VARCHAR NOT NULL,
    turn         INTEGER NOT NULL,          -- index into the record's messages
    role         VARCHAR NOT NULL,          -- user, assistant
    path         VARCHAR NOT NULL,          -- relative to the audio root folder
    engine       VARCHAR NOT NULL,
    voice        VARCHAR NOT NULL,
    rate         DOUBLE,
    pitch        DOUBLE,
    sample_rate  INTEGER NOT NULL,
    duration_s   DOUBLE NOT NULL,
    qc_ok        BOOLEAN NOT NULL,
    qc           JSON NOT NULL,
    text_sha     VARCHAR NOT NULL,          -- sha256 of the spoken text
    params       JSON,                      -- the full voice spec
    run_id       VARCHAR,
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (record_id, turn)
);
"""
