"""Run Label Studio from its own virtual environment (``.venv-labelstudio``).

Label Studio pins ``openai<2`` and ``pyarrow<25``, so it never shares
toolforge's environment; ``scripts/setup.sh`` installs it. A server started
here binds 127.0.0.1, keeps its data dir under the project folder, gets a
generated admin and API token (saved with mode 0600 in
``<data dir>/toolforge-credentials.json``, never in the store), and serves
local files: the document root is the store's folder and push adds a
local-files storage for the store's audio folder inside it (Label Studio
refuses a storage equal to the document root).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolforge.errors import ExternalServiceError, MissingExtraError

log = logging.getLogger(__name__)

LS_VERSION = "1.23.2"
CREDENTIALS = "toolforge-credentials.json"
ADMIN_EMAIL = "admin@toolforge.local"
_REGISTRY = Path.home() / ".cache" / "toolforge" / "labelstudio-servers.json"


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the process that started it dies (a killed test run
    must not leave a server behind)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def find_label_studio() -> Path:
    """The ``label-studio`` executable: $TOOLFORGE_LABEL_STUDIO, the project's .venv-labelstudio, or PATH."""
    candidates = []
    if os.environ.get("TOOLFORGE_LABEL_STUDIO"):
        candidates.append(Path(os.environ["TOOLFORGE_LABEL_STUDIO"]))
    root = Path(__file__).resolve().parents[2]
    candidates.append(root / ".venv-labelstudio" / "bin" / "label-studio")
    candidates.append(Path.cwd() / ".venv-labelstudio" / "bin" / "label-studio")
    on_path = shutil.which("label-studio")
    if on_path:
        candidates.append(Path(on_path))
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    raise MissingExtraError("the Label Studio server (.venv-labelstudio/bin/label-studio)") from None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_credentials(data_dir: Path) -> dict[str, str] | None:
    path = Path(data_dir) / CREDENTIALS
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def make_credentials(data_dir: Path) -> dict[str, str]:
    """Credentials for a data dir, generated once (they must exist before the database is created)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    ignore = data_dir / ".gitignore"
    if not ignore.exists():  # the folder holds credentials: keep it out of any repository it sits in
        ignore.write_text("# created by toolforge review serve: credentials and Label Studio's database\n*\n")
    creds = load_credentials(data_dir)
    if creds:
        return creds
    creds = {"username": ADMIN_EMAIL, "password": secrets.token_urlsafe(18), "token": secrets.token_hex(20)}
    path = data_dir / CREDENTIALS
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh)
    return creds


def _read_registry() -> dict[str, str]:
    try:
        known = json.loads(_REGISTRY.read_text()) if _REGISTRY.is_file() else {}
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in known.items()} if isinstance(known, dict) else {}


def prune_registry(known: dict[str, str] | None = None) -> dict[str, str]:
    """The registry without servers whose data folders are gone (written back when something went)."""
    known = _read_registry() if known is None else known
    kept = {url: d for url, d in known.items() if (Path(d) / CREDENTIALS).is_file()}
    if len(kept) != len(known):
        try:
            _write_registry(kept)
        except OSError:
            log.debug("could not prune the server registry")
    return kept


def _write_registry(known: dict[str, str]) -> None:
    _REGISTRY.parent.mkdir(parents=True, exist_ok=True)
    tmp = _REGISTRY.with_suffix(".tmp")
    tmp.write_text(json.dumps(known))
    tmp.replace(_REGISTRY)


def _remember(url: str, data_dir: Path) -> None:
    try:
        known = prune_registry()
        known[url.rstrip("/")] = str(Path(data_dir).resolve())
        _write_registry(known)
    except OSError:  # remembering is a convenience only
        log.debug("could not remember server %s", url)


def credentials_for_url(url: str) -> dict[str, str] | None:
    """Credentials of a server that ``toolforge review serve`` started at ``url``, if any."""
    data_dir = prune_registry().get(url.rstrip("/"))
    return load_credentials(Path(data_dir)) if data_dir else None


def data_dir_for_url(url: str) -> Path | None:
    data_dir = prune_registry().get(url.rstrip("/"))
    return Path(data_dir) if data_dir else None


FEEDBACK_FILE = "toolforge-feedback.json"


def save_feedback_endpoint(data_dir: Path, url: str, secret: str) -> None:
    """Where the feedback endpoint of a server started by `review serve` listens (mode 0600: holds the secret)."""
    path = Path(data_dir) / FEEDBACK_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": url, "secret": secret}, fh)


def feedback_endpoint_for_url(url: str) -> dict[str, str] | None:
    data_dir = data_dir_for_url(url)
    path = data_dir / FEEDBACK_FILE if data_dir else None
    if path is None or not path.is_file():
        return None
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("url") and found.get("secret") else None


@dataclass
class LabelStudioServer:
    """A Label Studio process on 127.0.0.1 (start, wait until healthy, stop by PID)."""

    data_dir: Path
    files_root: Path
    port: int = 0
    log_path: Path | None = None
    # Label Studio refuses webhook URLs on local addresses while its SSRF protection is on; a server
    # that must call the feedback endpoint on 127.0.0.1 runs with SSRF_PROTECTION_ENABLED=false.
    allow_local_webhooks: bool = False
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def credentials(self) -> dict[str, str]:
        return make_credentials(self.data_dir)

    def env(self) -> dict[str, str]:
        creds = self.credentials
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "DJANGO_"))}
        env.update({
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir),
            "LABEL_STUDIO_USERNAME": creds["username"],
            "LABEL_STUDIO_PASSWORD": creds["password"],
            "LABEL_STUDIO_USER_TOKEN": creds["token"],
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LOCAL_FILES_SERVING_ENABLED": "true",
            "LOCAL_FILES_DOCUMENT_ROOT": str(self.files_root),
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
            "COLLECT_ANALYTICS": "false",
            "LATEST_VERSION_CHECK": "false",  # no call to pypi.org at start (offline machines wait 10 s)
            "PYTHONUNBUFFERED": "1",
        })
        if self.allow_local_webhooks:
            env["SSRF_PROTECTION_ENABLED"] = "false"
        env.pop("VIRTUAL_ENV", None)
        return env

    def command(self) -> list[str]:
        return [str(find_label_studio()), "start", "--no-browser", "--internal-host", "127.0.0.1",
                "--port", str(self.port), "--data-dir", str(self.data_dir)]

    def start(self, *, timeout: float = 240.0, foreground: bool = False) -> LabelStudioServer:
        self.data_dir = Path(self.data_dir).resolve()
        self.files_root = Path(self.files_root).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.files_root.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        cmd = self.command()
        _remember(self.url, self.data_dir)
        if foreground:
            os.execve(cmd[0], cmd, self.env())  # noqa: S606 - `toolforge review serve`: Ctrl-C stops it
        log_path = self.log_path or self.data_dir / "server.log"
        with open(log_path, "ab") as out:
            self.proc = subprocess.Popen(cmd, env=self.env(), stdout=out, stderr=subprocess.STDOUT,
                                         cwd=self.data_dir, start_new_session=True,
                                         preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        self.wait_healthy(timeout=timeout, log_path=log_path)
        return self

    def wait_healthy(self, *, timeout: float, log_path: Path | None = None) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-800:] if log_path and log_path.exists() else ""
                raise ExternalServiceError(f"Label Studio exited with code {self.proc.returncode}: {tail.strip()[-300:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise ExternalServiceError(f"Label Studio did not answer /health within {timeout:.0f} s at {self.url}")

    def stop(self) -> None:
        """Stop the process we started (its whole session), by PID."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def __enter__(self) -> LabelStudioServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def store_audio_root(db: Path) -> Path:
    """The audio folder beside a store (the audio area's ``audio_root``: ``<store stem>-audio``)."""
    try:
        from toolforge.audio.store import audio_root
    except ImportError:  # the audio stage is optional; its folder name is part of the store contract
        return Path(db).parent / f"{Path(db).stem}-audio"
    return audio_root(Path(db))


def default_data_dir(db: Path) -> Path:
    """The server's data dir for a store: ``<store folder>/.labelstudio``."""
    return Path(db).resolve().parent / ".labelstudio"


if __name__ == "__main__":  # pragma: no cover - manual use: python -m toolforge.review.server DIR ROOT
    s = LabelStudioServer(Path(sys.argv[1]), Path(sys.argv[2])).start()
    sys.stdout.write(s.url + "\n")
