from __future__ import annotations

import pytest

from toolforge.errors import UsageError
from toolforge.hub import PushOptions, push_dataset
from toolforge.hub.push import _hub_error, check_repo_id, check_s3_url, hub_token


@pytest.mark.parametrize("repo_id", ["me/tools", "my-org/smol_tools.v2", "A1/b"])
def test_good_repo_ids(repo_id):
    assert check_repo_id(repo_id) == repo_id


@pytest.mark.parametrize("repo_id", ["tools", "me/", "/tools", "me/to ols", "me/../x", "a/b/c", "me/x.git", "me/--x",
                                     "-me/x", "me/" + "x" * 97])
def test_bad_repo_ids(repo_id):
    with pytest.raises(UsageError, match="invalid repo id"):
        check_repo_id(repo_id)


def test_s3_urls():
    assert check_s3_url("s3://bucket/prefix/") == "s3://bucket/prefix"
    for bad in ("bucket/prefix", "s3://Bad_Bucket", "s3://b", "http://bucket/x"):
        with pytest.raises(UsageError):
            check_s3_url(bad)


def test_no_token(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_TOKEN", "")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_TOKEN_PATH", str(tmp_path / "token"))
    monkeypatch.setattr(c, "HF_STORED_TOKENS_PATH", str(tmp_path / "stored_tokens"))
    with pytest.raises(UsageError, match="no Hugging Face token") as info:
        hub_token()
    assert "HF_TOKEN" in (info.value.hint or "")


def test_errors_never_carry_the_token():
    err = _hub_error(RuntimeError("401 for hf_secret123 at http://x\nmore"), "hf_secret123", "push failed")
    assert "hf_secret123" not in err.message and "***" in err.message and "\n" not in err.message


def test_option_conflicts(filled_db):
    with pytest.raises(UsageError, match="not both"):
        push_dataset(filled_db, PushOptions(repo_id="me/x", to="s3://bucket/x"))
    with pytest.raises(UsageError, match="no destination"):
        push_dataset(filled_db, PushOptions())
