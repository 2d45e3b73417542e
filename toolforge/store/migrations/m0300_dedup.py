"""Dedup tables: clusters per method, contamination against reference sets, cached embeddings.

The core ``dedup_marks`` table (m0001) holds one row per record that later
stages skip; these tables keep the whole picture: every member of a cluster
(the kept representative too) and every reference item a record was too close to.
"""

SQL = """
CREATE TABLE dedup_clusters (
    method      VARCHAR NOT NULL,          -- exact, near, semantic
    cluster_id  VARCHAR NOT NULL,          -- '<method>:<kept record id>'
    record_id   VARCHAR NOT NULL,
    is_kept     BOOLEAN NOT NULL,          -- the cluster's representative
    score       DOUBLE,                    -- best similarity to another member (1.0 for exact)
    run_id      VARCHAR,
    PRIMARY KEY (method, record_id)
);
CREATE INDEX dedup_clusters_cluster ON dedup_clusters (cluster_id);

CREATE TABLE dedup_contamination (
    record_id   VARCHAR NOT NULL,
    reference   VARCHAR NOT NULL,          -- the file checked against
    method      VARCHAR NOT NULL,          -- exact, near, semantic
    ref_id      VARCHAR NOT NULL,          -- the closest item of the reference set
    score       DOUBLE,
    run_id      VARCHAR,
    PRIMARY KEY (record_id, reference, method)
);

CREATE TABLE dedup_embeddings (
    record_id   VARCHAR NOT NULL,
    model       VARCHAR NOT NULL,
    embedding   FLOAT[] NOT NULL,          -- unit length
    PRIMARY KEY (record_id, model)
);
"""
