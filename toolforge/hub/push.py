"""Publish a staged folder: to the Hub in one commit (huggingface_hub), or to S3 (fsspec).

The token comes from ``HF_TOKEN`` or the huggingface_hub login (``get_token``);
it is handed to ``HfApi`` and nowhere else, and scrubbed from any error text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolforge.errors import ExternalServiceError, UsageError

log = logging.getLogger(__name__)

REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
S3_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?$")


def check_repo_id(repo_id: str) -> str:
    """A Hub dataset id ``namespace/name`` (UsageError otherwise)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    ok = bool(REPO_ID_RE.match(repo_id)) and ".." not in repo_id and "--" not in repo_id
    if ok:
        try:
            validate_repo_id(repo_id)
        except HFValidationError:
            ok = False
    if not ok or repo_id.endswith((".git", ".")):
        raise UsageError(f"invalid repo id {repo_id!r}",
                         hint="use namespace/name with letters, digits, '-', '_' or '.', e.g. me/my-tools-data")
    return repo_id


def check_s3_url(url: str) -> str:
    if not S3_RE.match(url):
        raise UsageError(f"invalid S3 location {url!r}", hint="use s3://bucket/prefix")
    return url.rstrip("/")


def hub_token() -> str:
    """The Hub token from HF_TOKEN or the saved login; never logged or returned to callers' output."""
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise UsageError("no Hugging Face token",
                         hint="set the HF_TOKEN environment variable or run `hf auth login` (or use --dry-run)")
    return token


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


@dataclass
class Published:
    url: str
    commit_oid: str | None = None


def _hub_error(exc: BaseException, token: str | None, what: str) -> ExternalServiceError:
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    first = _scrub(lines[0] if lines else type(exc).__name__, token)
    return ExternalServiceError(f"{what}: {first}",
                                hint="check the repo id, your token's write access, and HF_ENDPOINT if you set it")


def publish_hub(stage_dir: Path, repo_id: str, *, token: str, files: Sequence[str], private: bool = True,
                revision: str | None = None, commit_message: str = "Upload dataset with toolforge") -> Published:
    """Create the dataset repo (private unless told otherwise) and branch if needed, then commit
    exactly ``files`` (the staging's allow-list, relative to ``stage_dir``) in one commit.

    Earlier ``data/`` shards that the new staging does not have are deleted in the
    same commit, so a re-push replaces the data; an interrupted push leaves the
    repo at its previous commit (nothing is committed until every file is uploaded).
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True)
        info = api.upload_folder(
            folder_path=str(stage_dir), repo_id=repo_id, repo_type="dataset", revision=revision,
            commit_message=commit_message, delete_patterns=["data/**"], allow_patterns=_allow(files),
        )
    except HfHubHTTPError as exc:
        raise _hub_error(exc, token, f"the Hub refused the push to {repo_id}") from None
    except Exception as exc:  # transport errors differ between huggingface_hub versions
        raise _hub_error(exc, token, f"push to {repo_id} failed") from None
    url = f"{api.endpoint}/datasets/{repo_id}" + (f"/tree/{revision}" if revision else "")
    return Published(url=url, commit_oid=getattr(info, "oid", None))


def _allow(files: Sequence[str]) -> list[str]:
    """Exact relative paths as upload patterns (fnmatch): glob characters in a name are escaped."""
    if not files:
        raise UsageError("nothing staged to publish")
    return [re.sub(r"([*?\[])", r"[\1]", f) for f in files]


def publish_s3(stage_dir: Path, url: str, *, files: Sequence[str],
               storage_options: dict[str, Any] | None = None) -> Published:
    """Copy exactly ``files`` (the staging's allow-list) of the staged folder to ``s3://bucket/prefix``
    through fsspec (s3fs).

    Shards go first and the card last; ``data/`` objects of an earlier push that
    the new staging does not have are removed afterwards. The endpoint and
    credentials come from the usual AWS environment (``AWS_ENDPOINT_URL``,
    ``AWS_ACCESS_KEY_ID``, ...) or ``storage_options``.
    """
    try:
        import fsspec
    except ImportError:  # pragma: no cover - checked by the hub extra
        from toolforge.errors import MissingExtraError

        raise MissingExtraError("S3 publishing (fsspec, s3fs)", extra="hub") from None
    url = check_s3_url(url)
    try:
        fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
        bucket = root.split("/", 1)[0]
        if not fs.exists(bucket):
            raise ExternalServiceError(f"S3 bucket {bucket!r} does not exist or is not reachable",
                                       hint="create it first, and check AWS_ENDPOINT_URL and your credentials")
        ordered = sorted(files, key=lambda rel: (rel == "README.md", rel))  # the card last
        written = set()
        for rel in ordered:
            fs.put_file(str(stage_dir / rel), f"{root}/{rel}")
            written.add(f"{root}/{rel}")
        old = fs.find(f"{root}/data") if fs.exists(f"{root}/data") else []
        for key in old:
            if key not in written:
                fs.rm_file(key)
    except ExternalServiceError:
        raise
    except Exception as exc:  # botocore/aiohttp errors vary; report them in one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExternalServiceError(f"writing to {url} failed: {first}",
                                   hint="check AWS_ENDPOINT_URL, the bucket and your credentials") from None
    return Published(url=url)
