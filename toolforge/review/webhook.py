"""Feedback before pull: a small HTTP endpoint that Label Studio calls when an annotation is submitted.

Label Studio posts ``ANNOTATION_CREATED`` / ``ANNOTATION_UPDATED`` with the
annotation, its task (data and meta) and the project (its labeling config). The
endpoint answers at once (Label Studio waits at most ``WEBHOOK_TIMEOUT``, 1 s by
default, and may be single-threaded), then a worker validates the annotation
the way pull will (:func:`toolforge.review.feedback.check_annotation`, against
the record carried in the task's meta; no store is opened, so push and pull
keep the store to themselves) and writes the verdict and any error back to the
task's ``review_state`` / ``review_feedback``. Requests must carry the secret
header set when the webhook was registered; anything else is refused.

Label Studio refuses webhook URLs on local addresses while its SSRF protection
is on (``SSRF_PROTECTION_ENABLED``, default true): a server that should reach an
endpoint on 127.0.0.1 must run with ``SSRF_PROTECTION_ENABLED=false``
(``toolforge review serve --feedback-port`` does so for the server it starts,
which binds 127.0.0.1 only).
"""

from __future__ import annotations

import hmac
import json
import logging
import queue
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from toolforge.review.client import LabelStudio
from toolforge.review.edits import RecordView

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Toolforge-Secret"  # noqa: S105 - a header name, not a secret
ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED")
MAX_BODY = 20 * 1024 * 1024
PATH = "/webhook"


@dataclass
class FeedbackServer:
    """The endpoint: ``start()`` serves in a thread on 127.0.0.1, ``stop()`` ends it."""

    ls: LabelStudio
    port: int = 0
    host: str = "127.0.0.1"
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    on_result: Callable[[int, str, str], None] | None = None   # (task id, state, text): for tests and logs
    handled: int = 0
    _httpd: ThreadingHTTPServer | None = field(default=None, repr=False)
    _jobs: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)
    _configs: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{PATH}"

    def start(self) -> FeedbackServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                if self.path.split("?")[0] != PATH:
                    self._answer(404, "not found")
                    return
                given = self.headers.get(SECRET_HEADER) or ""
                if not hmac.compare_digest(given, server.secret):
                    self._answer(403, "bad secret")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length <= 0 or length > MAX_BODY:
                    self._answer(413 if length > MAX_BODY else 400, "bad length")
                    return
                try:
                    payload = json.loads(self.rfile.read(length))
                except ValueError:
                    self._answer(400, "not JSON")
                    return
                self._answer(200, "queued")
                if isinstance(payload, dict) and payload.get("action") in ACTIONS:
                    server._jobs.put(payload)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(200 if self.path == "/health" else 404, "ok" if self.path == "/health" else "not found")

            def _answer(self, code: int, text: str) -> None:
                body = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("feedback endpoint: " + fmt, *args)

        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = int(self._httpd.server_address[1])
        self._threads = [threading.Thread(target=self._httpd.serve_forever, name="review-feedback-http", daemon=True),
                         threading.Thread(target=self._work, name="review-feedback-worker", daemon=True)]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self._jobs.put(None)
        for t in self._threads:
            t.join(timeout=10)
        self._threads = []

    def __enter__(self) -> FeedbackServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- the work --------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            payload = self._jobs.get()
            if payload is None:
                return
            try:
                self.handle(payload)
            except Exception as exc:  # noqa: BLE001 - one bad event must not stop the endpoint
                log.warning("feedback for a %s event failed: %s", payload.get("action"), exc)

    def _interface(self, config: str) -> Any:
        from toolforge.review.config import config_sha, interface

        key = config_sha(config)
        if key not in self._configs:
            self._configs[key] = interface(config)
        return self._configs[key]

    def handle(self, payload: dict[str, Any]) -> tuple[int, str, str] | None:
        """Validate one annotation event and write the result to its task."""
        from toolforge.review.feedback import check_annotation

        ann = payload.get("annotation") or {}
        task = payload.get("task") or {}
        task_id = task.get("id") or ann.get("task")
        if not task_id:
            return None
        task_id = int(task_id)
        data, meta = task.get("data"), task.get("meta")
        if not isinstance(data, dict) or not isinstance(meta, dict):  # payload without the task: read it
            full = self.ls.task(task_id)
            if full is None:
                return None
            data, meta = dict(full.data or {}), dict(full.meta or {})
        rec = meta.get("record")
        if not isinstance(rec, dict) or not data.get("record_id"):
            return None  # not a toolforge task
        if data.get("review_state") == "superseded":
            state, text = "superseded", str(data.get("review_feedback") or "superseded")
        else:
            view = RecordView(str(data["record_id"]), rec.get("scenario"), rec.get("tools") or [],
                              rec.get("messages") or [], {})
            config = ((payload.get("project") or {}).get("label_config")) or ""
            li = self._interface(config) if config else None
            if ann.get("was_cancelled"):
                state, text = "ok", "skipped"
            else:
                state, text = check_annotation(view, ann.get("result") or [], li)
            who = ann.get("completed_by")
            text = f"annotation {ann.get('id')}" + (f" (user {who})" if who else "") + f": {text}"
            self.ls.set_task_data(task_id, {**data, "review_state": state, "review_feedback": text[:2000]})
        self.handled += 1
        if self.on_result is not None:
            self.on_result(task_id, state, text)
        return task_id, state, text


def register(ls: LabelStudio, project_id: int, url: str, secret: str) -> int:
    """Point the project's annotation webhooks at ``url`` (idempotent: one toolforge webhook per project)."""
    hooks = ls.call("listing webhooks", ls.sdk.webhooks.list, project=str(project_id)) or []
    for h in hooks:
        if getattr(h, "url", None) == url and getattr(h, "project", None) == project_id:
            ls.call("updating the webhook", ls.sdk.webhooks.update, id=h.id, url=url, send_payload=True,
                    send_for_all_actions=False, actions=list(ACTIONS), headers={SECRET_HEADER: secret},
                    is_active=True)
            return int(h.id)
    made = ls.call("creating the webhook", ls.sdk.webhooks.create, url=url, project=project_id, send_payload=True,
                   send_for_all_actions=False, actions=list(ACTIONS), headers={SECRET_HEADER: secret},
                   is_active=True)
    return int(made.id)
