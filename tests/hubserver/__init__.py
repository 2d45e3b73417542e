"""A small Hub-API **test double** for toolforge's push tests. Not a Hub, not for production.

It implements just the Hugging Face Hub HTTP routes that the real
``huggingface_hub`` and ``datasets`` clients call when toolforge pushes a
dataset and reads it back (repo creation, branches, preupload, the LFS batch
API with basic transfer, the Xet CAS upload protocol, NDJSON commits, tree and
paths-info listings, dataset info, and file downloads with ranges), keeping
repos in memory and blobs in a folder. Git semantics are reduced to a linear
history of commits per branch.

Any other route answers 501 and is recorded; the ``hub_server`` fixture
(``tests/fixtures/hub.py``) fails the test that caused it, so a client upgrade
that starts calling something new is noticed instead of silently passing.

Run: ``python -m tests.hubserver --port 0 --root DIR --token TOKEN --port-file F``
(binds 127.0.0.1 only). Control routes for tests live under ``/_hubserver/``.
"""
