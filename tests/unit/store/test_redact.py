"""The redaction helper every recorded config and error goes through (toolforge.redact)."""

from __future__ import annotations

import json

from toolforge.errors import BackendError
from toolforge.redact import redact, redact_text, redact_url
from toolforge.store import open_store


def test_url_password_and_query_keys_are_masked():
    assert redact_url("http://alice:p4ss@host:8000/v1") == "http://alice:***@host:8000/v1"
    assert redact_url("https://h/v1?api_key=abc123&model=x") == "https://h/v1?api_key=***&model=x"
    assert redact_url("http://host:8000/v1") == "http://host:8000/v1"
    assert redact_text("openai:m@http://u:pw@h/v1 and Bearer abcdefgh12345") == "openai:m@http://u:***@h/v1 and Bearer ***"
    assert redact_text("the token limit is 512; basic settings") == "the token limit is 512; basic settings"


def test_secret_keys_are_masked_but_env_var_names_are_kept():
    cfg = {"teacher": "openai:m@http://u:pw@h/v1", "teacher_options": {
        "api_key": "sk-zzz", "api_key_env": "OPENAI_API_KEY", "headers": {"Authorization": "Bearer x"},
        "max_tokens": 5, "token": None}, "teachers": [{"spec": "openai:m@http://v:pw2@h2/v1"}]}
    out = redact(cfg)
    assert out["teacher"] == "openai:m@http://u:***@h/v1"
    assert out["teacher_options"] == {"api_key": "***", "api_key_env": "OPENAI_API_KEY",
                                      "headers": {"Authorization": "***"}, "max_tokens": 5, "token": None}
    assert out["teachers"][0]["spec"] == "openai:m@http://v:***@h2/v1"
    assert cfg["teacher_options"]["api_key"] == "sk-zzz"  # a copy: the caller's config is untouched


def test_errors_and_run_configs_are_redacted(tmp_path):
    err = BackendError("cannot reach http://alice:hunter22@h/v1", hint="fix http://alice:hunter22@h/v1")
    assert "hunter22" not in str(err) + (err.hint or "")
    with open_store(tmp_path / "s.duckdb") as store:
        run_id = store.create_run("generate", name="http://a:hunter22@h", config={"url": "http://a:hunter22@h/v1",
                                                                               "password": "hunter22"})
        row = store.get_run(run_id)
    assert row is not None and "hunter22" not in json.dumps(row, default=str)
