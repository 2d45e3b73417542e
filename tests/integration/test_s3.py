"""`toolforge push --to s3://...` against a real moto_server on 127.0.0.1 (S3 API), through fsspec/s3fs."""

from __future__ import annotations

import json
import re

import pytest

from tests.fixtures.hub import HUB_TOKEN

pytestmark = pytest.mark.integration


def test_push_to_s3_and_read_back(run_cli, moto_server, filled_db, sample_records):
    import boto3

    from datasets import load_dataset

    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
             "AWS_ENDPOINT_URL": moto_server, "HF_TOKEN": HUB_TOKEN}
    s3 = boto3.client("s3", endpoint_url=moto_server, aws_access_key_id="testing", aws_secret_access_key="testing",
                      region_name="us-east-1")
    s3.create_bucket(Bucket="toolforge-data")

    proc = run_cli("push", "--to", "s3://toolforge-data/runs/v1", "--status", "any", "--test-fraction", "0.25",
                   "--db", filled_db, "--json", env=creds)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["published_to"] == "s3://toolforge-data/runs/v1" and res["rows"] == {"train": 6, "test": 2}
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="toolforge-data")["Contents"])
    # one shard set per split and scenario (the card's per-scenario configs point at them)
    assert keys[0] == "runs/v1/README.md"
    shards = keys[1:]
    assert all(re.fullmatch(r"runs/v1/data/(train|test)-[a-z_]+-00000-of-00001\.parquet", k) for k in shards)
    assert {k.split("/")[-1].split("-")[0] for k in shards} == {"train", "test"}
    assert {k.split("/")[-1].split("-")[1] for k in shards} == {r.scenario for r in sample_records}
    card = s3.get_object(Bucket="toolforge-data", Key="runs/v1/README.md")["Body"].read().decode()
    assert card.startswith("---\n") and "path: data/train-*" in card

    opts = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": moto_server,
                                                                     "region_name": "us-east-1"}}
    ds = load_dataset("parquet", data_files={"train": "s3://toolforge-data/runs/v1/data/train-*.parquet",
                                             "test": "s3://toolforge-data/runs/v1/data/test-*.parquet"},
                      storage_options=opts, cache_dir=str(filled_db.parent / "ds-cache"))
    ids = set(ds["train"]["id"]) | set(ds["test"]["id"])
    assert ids == {r.id for r in sample_records}
    by_id = {r.id: r for r in sample_records}
    for row in ds["train"]:
        assert row["tools"] == by_id[row["id"]].tools_dump()

    # A second push without a test split removes the stale test shard.
    proc = run_cli("push", "--to", "s3://toolforge-data/runs/v1", "--status", "any", "--db", filled_db, env=creds)
    assert proc.returncode == 0, proc.stderr
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="toolforge-data")["Contents"])
    assert keys[0] == "runs/v1/README.md" and all("/data/train-" in k for k in keys[1:])
    assert len(keys) == 1 + len({r.scenario for r in sample_records})

    # A missing bucket is a one-line error.
    proc = run_cli("push", "--to", "s3://no-such-bucket/x", "--status", "any", "--db", filled_db, env=creds)
    assert proc.returncode == 2 and proc.stderr.startswith("error: S3 bucket 'no-such-bucket' does not exist")
    assert HUB_TOKEN not in proc.stderr
