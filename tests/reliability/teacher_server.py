"""A loopback OpenAI-compatible teacher server that injects faults (a test double, kept in tests/).

Good answers come from the ``fake:`` teacher's schema-driven instances (valid records
for any scenario from the tool schemas alone). A seeded share of ``POST
/chat/completions`` requests gets a fault instead, cycling through :data:`FAULTS`:

- ``http_429``: 429 with ``Retry-After: 1``
- ``http_500``: 500 with a JSON error body
- ``reset``: the connection is closed with a TCP reset, no response
- ``timeout``: no answer before the client's timeout (the server sleeps past it)
- ``truncated``: headers promise the whole body, half of it is sent, the connection closes
- ``non_json``: 200 with an HTML page instead of JSON

``injected`` counts what was sent; ``auth_headers`` keeps the Authorization headers seen
(the secrets suite checks the key reached only this server).
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("http_429", "http_500", "reset", "timeout", "truncated", "non_json")
# The reason the generation runner stores for each injected fault.
REASON = {"http_429": "http_429", "http_500": "http_500", "reset": "connection", "timeout": "timeout",
          "truncated": "connection", "non_json": "bad_response"}


class FaultyTeacher:
    def __init__(self, *, rate: float = 0.3, seed: int = 0, timeout_sleep: float = 2.5,
                 reject_auth: bool = False, mutate: Any = None) -> None:
        self.rate = rate
        self.mutate = mutate  # a function applied to each good plan (the model-output-is-data suite)
        self.reject_auth = reject_auth
        self.rng = random.Random(seed)
        self.timeout_sleep = timeout_sleep
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self.answered = 0
        self.auth_headers: list[str] = []
        self._next = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> FaultyTeacher:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def pick(self) -> str | None:
        with self.lock:
            self.requests += 1
            if self.rng.random() >= self.rate:
                return None
            fault = FAULTS[self._next % len(FAULTS)]
            self._next += 1
            self.injected[fault] += 1
            return fault

    def expected_reasons(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for fault, n in self.injected.items():
            out[REASON[fault]] += n
        return out

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        from toolforge.backends.base import ChatRequest
        from toolforge.backends.fake import FakeTeacher

        fmt = body.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema")
        req = ChatRequest(messages=body["messages"], response_schema=schema, seed=body.get("seed"))
        text = FakeTeacher().answer(req).text
        if self.mutate is not None:
            text = json.dumps(self.mutate(json.loads(text)), ensure_ascii=False)
        return {"id": "chatcmpl-fault", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "m"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        teacher = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, payload: bytes, ctype: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def _note_auth(self) -> None:
                auth = self.headers.get("Authorization")
                if auth:
                    with teacher.lock:
                        teacher.auth_headers.append(auth)

            def do_GET(self) -> None:
                self._note_auth()
                if teacher.reject_auth:
                    self._send(401, b'{"error": {"message": "invalid api key"}}')
                elif self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [{"id": "m", "owned_by": "vllm"}]}).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                self._note_auth()
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": "not found"}')
                    return
                fault = teacher.pick()
                if fault == "http_429":
                    self._send(429, b'{"error": {"message": "rate limited"}}', headers={"Retry-After": "1"})
                elif fault == "http_500":
                    self._send(500, b'{"error": {"message": "internal error"}}')
                elif fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                elif fault == "timeout":
                    time.sleep(teacher.timeout_sleep)
                    self.close_connection = True
                elif fault == "truncated":
                    payload = json.dumps(teacher.answer(body)).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                elif fault == "non_json":
                    self._send(200, b"<html><body>502 Bad Gateway</body></html>", ctype="text/html")
                else:
                    self._send(200, json.dumps(teacher.answer(body)).encode())
                    with teacher.lock:
                        teacher.answered += 1

        return Handler
