"""A thin layer over ``label-studio-sdk``: connect, find or create the project, move tasks.

Every network failure becomes a one-line :class:`ExternalServiceError` that
names the fix. The token is read from the environment (``LABEL_STUDIO_API_KEY``)
or from the credentials file of a server started by ``toolforge review serve``;
it never appears in messages, logs or the store.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from toolforge.errors import ExternalServiceError, UsageError

log = logging.getLogger(__name__)
T = TypeVar("T")

TOKEN_ENV = "LABEL_STUDIO_API_KEY"  # noqa: S105 - the name of the variable, not a secret
DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_PROJECT = "toolforge review"


class LabelStudioDown(ExternalServiceError):
    """The server could not be reached (or went away mid-request)."""


def _first_line(text: str) -> str:
    text = str(text).strip()
    return text.splitlines()[0][:300] if text else ""


def _api_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        errs = body.get("validation_errors")
        if isinstance(errs, dict) and errs:
            key = "label_config" if "label_config" in errs else next(iter(errs))
            val = errs[key]
            msg = val[0] if isinstance(val, list) and val else val
            return _first_line(f"{key}: {msg}")
        for key in ("validation_errors", "detail", "label_config", "message"):
            if key in body:
                val = body[key]
                return _first_line(json.dumps(val) if not isinstance(val, str) else val)
        return _first_line(json.dumps(body))
    return _first_line(body or "")


class LabelStudio:
    """One server, one token. Methods raise toolforge errors, never SDK or httpx ones."""

    def __init__(self, url: str, token: str, *, timeout: float = 300.0) -> None:
        from label_studio_sdk import LabelStudio as SDK

        self.url = url.rstrip("/")
        self.sdk = SDK(base_url=self.url, api_key=token, timeout=timeout)

    # -- error translation ---------------------------------------------------------------
    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        try:
            yield
        except ApiError as exc:
            code = exc.status_code
            if code in (401, 403):
                raise ExternalServiceError(
                    f"Label Studio at {self.url} refused the token while {doing} (HTTP {code})",
                    hint=f"set {TOKEN_ENV} to a valid access token (Label Studio: Account & Settings)",
                ) from None
            raise ExternalServiceError(
                f"Label Studio at {self.url} answered HTTP {code} while {doing}: {_api_detail(exc)}",
            ) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError,
                httpx.TimeoutException) as exc:
            raise LabelStudioDown(
                f"cannot reach Label Studio at {self.url} while {doing} ({type(exc).__name__})",
                hint="start it with `toolforge review serve`, or pass --url of a running server; "
                     "a re-run resumes where this one stopped",
            ) from None

    def call(self, doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.errors(doing):
            return fn(*args, **kwargs)

    # -- checks --------------------------------------------------------------------------
    def whoami(self) -> str:
        me = self.call("checking the token", self.sdk.users.whoami)
        return str(me.email or me.username or me.id)

    def users(self) -> dict[int, str]:
        users = self.call("listing users", lambda: list(self.sdk.users.list()))
        return {u.id: str(u.email or u.username or u.id) for u in users}

    # -- projects ------------------------------------------------------------------------
    def get_project(self, project_id: int) -> Any:
        from label_studio_sdk.core.api_error import ApiError

        try:
            with self.errors(f"opening project {project_id}"):
                try:
                    return self.sdk.projects.get(id=project_id)
                except ApiError as exc:
                    if exc.status_code == 404:
                        raise _NotFound() from None
                    raise
        except _NotFound:
            raise UsageError(
                f"Label Studio at {self.url} has no project {project_id}",
                hint="check --project-id (see the project list in Label Studio), or pass --project TITLE "
                     "to find or create one by title",
            ) from None

    def find_project(self, title: str) -> Any | None:
        projects: list[Any] = self.call("listing projects", lambda: list(self.sdk.projects.list(title=title)))
        same = [p for p in projects if p.title == title]
        return min(same, key=lambda p: p.id) if same else None

    def create_project(self, title: str, label_config: str) -> Any:
        from label_studio_sdk.core.api_error import ApiError

        try:
            with self.errors("creating the project"):
                try:
                    return self.sdk.projects.create(
                        title=title, label_config=label_config,
                        description="Review of toolforge records (created by `toolforge review push`).",
                        show_collab_predictions=True, model_version="toolforge",
                        show_skip_button=True, expert_instruction=_instructions(), show_instruction=True,
                    )
                except ApiError as exc:
                    if exc.status_code == 400:
                        raise _Rejected(_api_detail(exc)) from None
                    raise
        except _Rejected as exc:
            raise ExternalServiceError(
                f"Label Studio rejected the labeling config: {exc}",
                hint="use a shipped config (--config text|audio) or fix the XML passed with --label-config",
            ) from None

    def configure_project(self, project: Any, *, overlap: int | None = None) -> dict[str, Any]:
        """Instructions (kept current) and overlap: how many annotators see each task (Label Studio's
        ``maximum_annotations``, which its free edition honours in the labeling queue)."""
        want: dict[str, Any] = {}
        instructions = _instructions()
        if (getattr(project, "expert_instruction", None) or "") != instructions:
            want.update(expert_instruction=instructions, show_instruction=True)
        if overlap is not None and getattr(project, "maximum_annotations", None) != overlap:
            want.update(maximum_annotations=overlap, overlap_cohort_percentage=100)
        if want:
            self.call("updating the project settings", self.sdk.projects.update, id=project.id, **want)
        return want

    def task(self, task_id: int) -> Any | None:
        """One task (None when it is gone)."""
        from label_studio_sdk.core.api_error import ApiError

        with self.errors(f"reading task {task_id}"):
            try:
                return self.sdk.tasks.get(id=str(task_id))
            except ApiError as exc:
                if exc.status_code == 404:
                    return None
                raise

    def set_task_data(self, task_id: int, data: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
        """Replace a task's data (and meta): how feedback and superseded marks reach the task."""
        kwargs: dict[str, Any] = {"data": data}
        if meta is not None:
            kwargs["meta"] = meta
        self.call(f"writing to task {task_id}", self.sdk.tasks.update, id=str(task_id), **kwargs)

    def ensure_local_storage(self, project_id: int, path: str) -> None:
        """A local-files import storage rooted at ``path`` (what lets the server serve audio files)."""
        existing = self.call("listing storages", self.sdk.import_storage.local.list, project=project_id)
        if any(getattr(s, "path", None) == path for s in existing or []):
            return
        self.call("adding the local-files storage", self.sdk.import_storage.local.create, project=project_id,
                  path=path, title="toolforge audio", use_blob_urls=False)

    # -- tasks ---------------------------------------------------------------------------
    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
        res = self.call(f"importing {len(tasks)} tasks", self.sdk.projects.import_tasks, id=project_id,
                        request=tasks, return_task_ids=True, commit_to_project=True)
        ids = list(getattr(res, "task_ids", None) or [])
        if len(ids) != len(tasks):
            raise ExternalServiceError(
                f"Label Studio imported {len(ids)} task ids for {len(tasks)} tasks",
                hint="re-run the push: it syncs with the tasks the server holds",
            )
        return ids

    def export(self, project_id: int, *, all_tasks: bool) -> list[dict[str, Any]]:
        """Every task (or every annotated task) with data, meta and annotations, in one request."""

        def run() -> list[dict[str, Any]]:
            raw = b"".join(self.sdk.projects.exports.download_sync(
                id=project_id, export_type="JSON", download_all_tasks=all_tasks))
            return json.loads(raw) if raw else []

        return self.call("exporting tasks", run)

    def task_count(self, project_id: int) -> int:
        proj = self.call("counting tasks", self.sdk.projects.get, id=project_id)
        return int(getattr(proj, "task_number", None) or 0)

    def update_task(self, task_id: int, task: dict[str, Any]) -> None:
        with self.errors(f"updating task {task_id}"):
            self.sdk.tasks.update(id=str(task_id), data=task["data"], meta=task["meta"])
            for pred in self.sdk.predictions.list(task=task_id):
                self.sdk.predictions.delete(id=pred.id)
            for pred in task.get("predictions") or []:
                self.sdk.predictions.create(task=task_id, result=pred["result"],
                                            model_version=pred["model_version"])


def _instructions() -> str:
    from toolforge.review.guidance import instructions_html

    return instructions_html()


class _NotFound(Exception):
    pass


class _Rejected(Exception):
    pass


def resolve_token(url: str, token: str | None = None) -> str:
    """The API token: an explicit one, ``LABEL_STUDIO_API_KEY``, or a local server's credentials."""
    if token:
        return token
    env = os.environ.get(TOKEN_ENV)
    if env:
        return env
    from toolforge.review.server import credentials_for_url

    creds = credentials_for_url(url)
    if creds:
        return creds["token"]
    raise UsageError(
        f"no Label Studio token for {url}",
        hint=f"set {TOKEN_ENV} (Label Studio: Account & Settings > Access Token), "
             "or start a local server with `toolforge review serve`",
    )


def connect(url: str | None = None, token: str | None = None) -> LabelStudio:
    """Connect and check the token (one request), so bad input fails before any work."""
    url = url or os.environ.get("LABEL_STUDIO_URL") or DEFAULT_URL
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url {url!r} is not an http(s) URL", hint="e.g. --url http://127.0.0.1:8080")
    ls = LabelStudio(url, resolve_token(url, token))
    user = ls.whoami()
    log.info("connected to %s as %s", ls.url, user)
    return ls
