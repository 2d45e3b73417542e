"""The Hub-API test double's HTTP layer and in-memory repos (see the package docstring).

Dataset repos only. Blobs are stored by sha256 under ``ROOT/blobs``; commits are
immutable snapshots ``path -> FileEntry``; a branch points at a commit.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

LFS_EXTENSIONS = (".parquet", ".arrow", ".wav", ".flac", ".mp3", ".bin", ".gz", ".zip")
REGULAR_MAX = 10 * 1024 * 1024
REPO = r"(?P<ns>[^/]+)/(?P<name>[^/]+)"
SEG = r"[^/]+"


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    lfs: bool
    git_oid: str


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    date: str
    files: dict[str, FileEntry]


@dataclass
class Repo:
    repo_id: str
    private: bool
    created: str
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        if rev in self.branches:
            return self.commits[self.branches[rev]]
        return self.commits.get(rev)


class HttpError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class State:
    """Everything the server holds. One lock guards repos; blobs are content-addressed files."""

    def __init__(self, root: Path, token: str) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.token = token
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}
        self.unknown: list[str] = []
        self.requests: list[str] = []
        self.hold = threading.Event()      # set: uploads wait (to interrupt a client mid-push)
        self.release = threading.Event()
        self.waiting = 0
        self.counter = 0
        from tests.hubserver.xet import XetStore

        self.xet = XetStore(root / "xet", self)

    # blobs ------------------------------------------------------------------------------
    def has_blob(self, sha256: str) -> bool:
        return (self.blobs / sha256).is_file()

    def put_blob(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self.blobs / sha
        if not path.exists():
            tmp = path.with_suffix(f".tmp{threading.get_ident()}")
            tmp.write_bytes(data)
            tmp.replace(path)
        return sha

    def blob(self, sha256: str) -> bytes:
        return (self.blobs / sha256).read_bytes()

    def entry_for(self, data: bytes, path: str) -> FileEntry:
        sha = self.put_blob(data)
        lfs = is_lfs(path, len(data), data[:512])
        oid = git_blob_oid(lfs_pointer(sha, len(data))) if lfs else git_blob_oid(data)
        return FileEntry(sha256=sha, size=len(data), lfs=lfs, git_oid=oid)

    # repos --------------------------------------------------------------------------------
    def new_commit(self, repo: Repo, parent: str | None, title: str, files: dict[str, FileEntry]) -> Commit:
        self.counter += 1
        seed = json.dumps([parent, title, sorted((p, f.git_oid) for p, f in files.items()), self.counter,
                           time.time()]).encode()
        oid = hashlib.sha1(seed, usedforsecurity=False).hexdigest()
        commit = Commit(oid=oid, parent=parent, title=title, date=now_iso(), files=dict(files))
        repo.commits[oid] = commit
        return commit

    def repo(self, repo_id: str, *, authed: bool) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or (repo.private and not authed):
            raise HttpError(404, f"Repository not found: {repo_id}", "RepoNotFound")
        return repo


def is_lfs(path: str, size: int, sample: bytes) -> bool:
    return path.endswith(LFS_EXTENSIONS) or size > REGULAR_MAX or b"\0" in sample


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HubServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    @property
    def st(self) -> State:
        return self.server.state

    # plumbing -----------------------------------------------------------------------------
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def json_body(self) -> Any:
        raw = self.body()
        ctype = self.headers.get("Content-Type", "")
        if "application/x-www-form-urlencoded" in ctype:
            return {k: v if len(v) > 1 or k == "paths" else v[0] for k, v in parse_qs(raw.decode()).items()}
        return json.loads(raw or b"{}")

    def send(self, status: int, payload: Any = None, *, headers: dict[str, str] | None = None,
             raw: bytes | None = None, ctype: str = "application/json") -> None:
        data = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else b"")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def authed(self) -> bool:
        auth = self.headers.get("Authorization", "")
        return auth == f"Bearer {self.st.token}"

    def require_auth(self) -> None:
        if not self.authed():
            raise HttpError(401, "Invalid credentials in Authorization header", "Unauthorized")

    # dispatch -----------------------------------------------------------------------------
    def handle_any(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        with self.st.lock:
            self.st.requests.append(f"{self.command} {path}")
        try:
            for method, pattern, fn in ROUTES:
                if method != self.command and not (method == "GET" and self.command == "HEAD"):
                    continue
                m = re.fullmatch(pattern, path)
                if m:
                    fn(self, query=query, **{k: unquote(v) for k, v in m.groupdict().items() if v is not None})
                    return
            with self.st.lock:
                self.st.unknown.append(f"{self.command} {self.path}")
            if self.headers.get("Content-Length") or self.headers.get("Transfer-Encoding"):
                self.body()
            self.send(501, {"error": f"route not implemented by the toolforge Hub test server: {self.command} {path}"})
        except HttpError as exc:
            headers = {"X-Error-Code": exc.code, "X-Error-Message": exc.message} if exc.code else {}
            self.send(exc.status, {"error": exc.message}, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_any


class HubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], state: State) -> None:
        super().__init__(addr, Handler)
        self.state = state


# ---- routes -------------------------------------------------------------------------------------
def r_create(h: Handler, query: Any) -> None:
    h.require_auth()
    body = h.json_body()
    if body.get("type", "model") != "dataset":
        raise HttpError(400, "the test server only hosts dataset repos")
    name, org = body.get("name"), body.get("organization")
    if not org:
        raise HttpError(400, "the test server needs namespace/name repo ids")
    repo_id = f"{org}/{name}"
    url = f"{h.base()}/datasets/{repo_id}"
    with h.st.lock:
        if repo_id in h.st.repos:
            h.send(409, {"error": "You already created this dataset repo", "url": url})
            return
        # huggingface_hub < 1.x sends "private": true; newer clients send "visibility": "private"
        private = bool(body.get("private")) or body.get("visibility") in ("private", "protected")
        repo = Repo(repo_id=repo_id, private=private, created=now_iso())
        ga = h.st.entry_for(b"*.parquet filter=lfs diff=lfs merge=lfs -text\n", ".gitattributes")
        commit = h.st.new_commit(repo, None, "initial commit", {".gitattributes": ga})
        repo.branches["main"] = commit.oid
        h.st.repos[repo_id] = repo
    h.send(200, {"url": url, "name": repo_id, "id": repo_id})


def r_validate_yaml(h: Handler, query: Any) -> None:
    import yaml

    content = h.json_body().get("content", "")
    errors = []
    if content.startswith("---"):
        try:
            meta = yaml.safe_load(content.split("---", 2)[1])
            if meta is not None and not isinstance(meta, dict):
                errors.append({"message": "metadata must be a mapping"})
        except (yaml.YAMLError, IndexError) as exc:
            errors.append({"message": f"invalid YAML: {exc}"})
    h.send(400 if errors else 200, {"errors": errors, "warnings": []},
           headers={"X-Error-Code": "BadRequest"} if errors else None)


def r_agent_harnesses(h: Handler, query: Any) -> None:
    # huggingface_hub >= 2.x fetches this registry for its user-agent (best effort); none is known here.
    h.send(200, {"standardEnvVars": ["AI_AGENT", "AGENT"], "harnesses": {}})


def _info(h: Handler, repo: Repo, commit: Commit) -> dict[str, Any]:
    return {"_id": hashlib.md5(repo.repo_id.encode(), usedforsecurity=False).hexdigest()[:24], "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0], "sha": commit.oid, "lastModified": commit.date,
            "private": repo.private, "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": [],
            "createdAt": repo.created, "siblings": [{"rfilename": p} for p in sorted(commit.files)],
            "usedStorage": sum(f.size for f in commit.files.values())}


def r_info(h: Handler, query: Any, ns: str, name: str, rev: str = "main") -> None:
    with h.st.lock:
        repo = h.st.repo(f"{ns}/{name}", authed=h.authed())
        commit = repo.resolve(rev)
        if commit is None:
            raise HttpError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        h.send(200, _info(h, repo, commit))


def _entry_json(path: str, f: FileEntry, commit: Commit | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "file", "oid": f.git_oid, "size": f.size, "path": path}
    if f.lfs:
        out["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": len(lfs_pointer(f.sha256, f.size))}
    if commit is not None:
        out["lastCommit"] = {"id": commit.oid, "title": commit.title, "date": commit.date}
    return out


def _listing(commit: Commit, prefix: str, recursive: bool, expand: bool) -> list[dict[str, Any]]:
    prefix = prefix.strip("/")
    out: list[dict[str, Any]] = []
    dirs: set[str] = set()
    for path in sorted(commit.files):
        if prefix and not path.startswith(prefix + "/"):
            continue
        rest = path[len(prefix) + 1:] if prefix else path
        parts = rest.split("/")
        for i in range(1, len(parts)):
            d = "/".join(([prefix] if prefix else []) + parts[:i])
            if (recursive or i == 1) and d not in dirs:
                dirs.add(d)
                out.append({"type": "directory", "oid": hashlib.sha1(d.encode(), usedforsecurity=False).hexdigest(),
                            "size": 0, "path": d})
        if recursive or len(parts) == 1:
            out.append(_entry_json(path, commit.files[path], commit if expand else None))
    return out


def r_tree(h: Handler, query: Any, ns: str, name: str, rev: str, path: str = "") -> None:
    recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
    expand = query.get("expand", ["false"])[0].lower() in ("1", "true")
    with h.st.lock:
        repo = h.st.repo(f"{ns}/{name}", authed=h.authed())
        commit = repo.resolve(rev)
        if commit is None:
            raise HttpError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        if path and path.strip("/") in commit.files:
            raise HttpError(404, f"{path} is a file, not a folder", "EntryNotFound")
        entries = _listing(commit, path, recursive, expand)
        if path and not entries:
            raise HttpError(404, f"{path} does not exist on {rev}", "EntryNotFound")
    h.send(200, entries)


def r_paths_info(h: Handler, query: Any, ns: str, name: str, rev: str) -> None:
    body = h.json_body()
    paths = body.get("paths", [])
    paths = [paths] if isinstance(paths, str) else list(paths)
    expand = str(body.get("expand", "false")).lower() in ("1", "true")
    with h.st.lock:
        repo = h.st.repo(f"{ns}/{name}", authed=h.authed())
        commit = repo.resolve(rev)
        if commit is None:
            raise HttpError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        out = []
        for p in paths:
            p = p.strip("/")
            if p in commit.files:
                out.append(_entry_json(p, commit.files[p], commit if expand else None))
            elif any(f.startswith(p + "/") for f in commit.files) or p == "":
                out.append({"type": "directory", "oid": hashlib.sha1(p.encode(), usedforsecurity=False).hexdigest(),
                            "size": 0, "path": p})
    h.send(200, out)


def r_branch(h: Handler, query: Any, ns: str, name: str, branch: str) -> None:
    h.require_auth()
    body = h.json_body()
    with h.st.lock:
        repo = h.st.repo(f"{ns}/{name}", authed=True)
        if branch in repo.branches:
            raise HttpError(409, f"Reference {branch} already exists", "Conflict")
        start = repo.resolve(body.get("startingPoint") or "main")
        if start is None:
            raise HttpError(404, "starting point not found", "RevisionNotFound")
        repo.branches[branch] = start.oid
    h.send(200, {})


def r_preupload(h: Handler, query: Any, ns: str, name: str, rev: str) -> None:
    h.require_auth()
    body = h.json_body()
    with h.st.lock:
        repo = h.st.repo(f"{ns}/{name}", authed=True)
        commit = repo.resolve(rev) or repo.resolve("main")
        assert commit is not None
        files = []
        for f in body.get("files", []):
            sample = base64.b64decode(f.get("sample", ""))
            lfs = is_lfs(f["path"], int(f.get("size", 0)), sample)
            existing = commit.files.get(f["path"])
            oid = (existing.sha256 if existing.lfs else existing.git_oid) if existing else None
            files.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                          "oid": oid})
    h.send(200, {"files": files, "commitOid": commit.oid})


def r_lfs_batch(h: Handler, query: Any, ns: str, name: str) -> None:
    h.require_auth()
    body = h.json_body()
    h.st.repo(f"{ns}/{name}", authed=True)
    if body.get("operation") != "upload":
        raise HttpError(400, "the test server's LFS batch API only uploads")
    objects = []
    for obj in body.get("objects", []):
        item: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
        if not h.st.has_blob(obj["oid"]):
            item["actions"] = {
                "upload": {"href": f"{h.base()}/_lfs/objects/{obj['oid']}", "header": {}},
                "verify": {"href": f"{h.base()}/_lfs/verify", "header": {}},
            }
        objects.append(item)
    h.send(200, {"transfer": "basic", "objects": objects}, ctype="application/vnd.git-lfs+json")


def hold_point(h: Handler) -> None:
    """Uploads wait here while a test holds them (to interrupt a client before its commit)."""
    if h.st.hold.is_set():
        with h.st.lock:
            h.st.waiting += 1
        h.st.release.wait(timeout=120)
        raise HttpError(503, "upload interrupted by the test")


def r_lfs_put(h: Handler, query: Any, oid: str) -> None:
    data = h.body()
    hold_point(h)
    if hashlib.sha256(data).hexdigest() != oid:
        raise HttpError(400, "uploaded content does not match its oid")
    h.st.put_blob(data)
    h.send(200, {})


def r_lfs_verify(h: Handler, query: Any) -> None:
    body = h.json_body()
    if not h.st.has_blob(body.get("oid", "")):
        raise HttpError(404, "object not uploaded")
    h.send(200, {})


def r_commit(h: Handler, query: Any, ns: str, name: str, rev: str) -> None:
    h.require_auth()
    if query.get("create_pr") or query.get("hot_reload"):
        with h.st.lock:
            h.st.unknown.append(f"POST {h.path} (pull requests are not implemented)")
        raise HttpError(501, "pull requests are not implemented by the test server")
    lines = [json.loads(x) for x in h.body().splitlines() if x.strip()]
    with h.st.lock:
        repo = h.st.repo(f"{ns}/{name}", authed=True)
        if rev not in repo.branches:
            raise HttpError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        head = repo.commits[repo.branches[rev]]
        files = dict(head.files)
        header = {}
        for line in lines:
            key, val = line.get("key"), line.get("value", {})
            if key == "header":
                header = val
                parent = val.get("parentCommit")
                if parent and parent != head.oid:
                    raise HttpError(412, "parent commit is not the branch head", "PreconditionFailed")
            elif key == "file":
                data = base64.b64decode(val["content"]) if val.get("encoding", "base64") == "base64" else val["content"].encode()
                files[val["path"]] = h.st.entry_for(data, val["path"])
            elif key == "lfsFile":
                sha, size = val["oid"], int(val["size"])
                if not h.st.has_blob(sha) and not h.st.xet.materialize(sha):
                    raise HttpError(422, f"LFS object {sha} for {val['path']} was never uploaded", "BadRequest")
                if len(h.st.blob(sha)) != size:
                    raise HttpError(422, f"size mismatch for {val['path']}", "BadRequest")
                pointer = lfs_pointer(sha, size)
                files[val["path"]] = FileEntry(sha256=sha, size=size, lfs=True, git_oid=git_blob_oid(pointer))
            elif key == "deletedFile":
                if val["path"] not in files:
                    raise HttpError(404, f"A file with this name doesn't exist: {val['path']}", "EntryNotFound")
                del files[val["path"]]
            elif key == "deletedFolder":
                prefix = val["path"].rstrip("/") + "/"
                for p in [p for p in files if p.startswith(prefix)]:
                    del files[p]
            else:
                h.st.unknown.append(f"commit operation {key!r}")
                raise HttpError(501, f"commit operation {key!r} is not implemented by the test server")
        commit = h.st.new_commit(repo, head.oid, header.get("summary", "commit"), files)
        repo.branches[rev] = commit.oid
    h.send(200, {"commitUrl": f"{h.base()}/datasets/{repo.repo_id}/commit/{commit.oid}",
                 "commitOid": commit.oid, "pullRequestUrl": None, "success": True})


def r_resolve(h: Handler, query: Any, ns: str, name: str, rev: str, path: str) -> None:
    with h.st.lock:
        repo = h.st.repo(f"{ns}/{name}", authed=h.authed())
        commit = repo.resolve(rev)
        if commit is None:
            raise HttpError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        entry = commit.files.get(path)
        if entry is None:
            raise HttpError(404, f"Entry not found: {path}", "EntryNotFound")
    data = h.st.blob(entry.sha256)
    headers = {"X-Repo-Commit": commit.oid, "Accept-Ranges": "bytes",
               "ETag": f'"{entry.sha256 if entry.lfs else entry.git_oid}"'}
    if entry.lfs:
        headers["X-Linked-Etag"] = f'"{entry.sha256}"'
        headers["X-Linked-Size"] = str(entry.size)
    rng = h.headers.get("Range")
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng or "")
    if m and (m.group(1) or m.group(2)):
        if m.group(1):
            start = int(m.group(1))
            end = min(int(m.group(2)), len(data) - 1) if m.group(2) else len(data) - 1
        else:
            start, end = max(len(data) - int(m.group(2)), 0), len(data) - 1
        if start >= len(data):
            h.send(416, raw=b"", headers={"Content-Range": f"bytes */{len(data)}"}, ctype="application/octet-stream")
            return
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        h.send(206, raw=data[start:end + 1], headers=headers, ctype="application/octet-stream")
        return
    h.send(200, raw=data, headers=headers, ctype="application/octet-stream")


def r_xet_token(h: Handler, query: Any, ns: str, name: str, kind: str, rev: str = "main") -> None:
    if kind == "write":
        h.require_auth()
    h.st.repo(f"{ns}/{name}", authed=h.authed())
    exp = int(time.time()) + 3600
    cas = f"{h.base()}/_cas"
    token = h.st.xet.issue_token(kind)
    h.send(200, {"casUrl": cas, "accessToken": token, "exp": exp},
           headers={"X-Xet-Cas-Url": cas, "X-Xet-Access-Token": token, "X-Xet-Token-Expiration": str(exp)})


# control routes for tests ---------------------------------------------------------------------------
def c_health(h: Handler, query: Any) -> None:
    h.send(200, {"ok": True})


def c_unknown(h: Handler, query: Any) -> None:
    with h.st.lock:
        h.send(200, list(h.st.unknown))


def c_forget_unknown(h: Handler, query: Any) -> None:
    """Used by the test double's own test, after it has checked that an unknown route was recorded."""
    with h.st.lock:
        h.st.unknown.clear()
    h.send(200, {})


def c_requests(h: Handler, query: Any) -> None:
    with h.st.lock:
        h.send(200, [r for r in h.st.requests if not r.split(" ", 1)[1].startswith("/_hubserver/")])


def c_hold(h: Handler, query: Any) -> None:
    on = bool(h.json_body().get("on"))
    if on:
        h.st.release.clear()
        h.st.waiting = 0
        h.st.hold.set()
    else:
        h.st.hold.clear()
        h.st.release.set()
    h.send(200, {"hold": on})


def c_waiting(h: Handler, query: Any) -> None:
    h.send(200, {"waiting": h.st.waiting})


def c_head(h: Handler, query: Any, ns: str, name: str, rev: str) -> None:
    with h.st.lock:
        repo = h.st.repo(f"{ns}/{name}", authed=True)
        commit = repo.resolve(rev)
        h.send(200, {"oid": commit.oid if commit else None, "n_commits": len(repo.commits),
                     "files": {p: f.sha256 for p, f in commit.files.items()} if commit else {}})


def _xet(fn_name: str) -> Any:
    def route(h: Handler, query: Any, **kw: str) -> None:
        getattr(h.st.xet, fn_name)(h, query, **kw)
    return route


API = f"/api/datasets/{REPO}"
ROUTES: list[tuple[str, str, Any]] = [
    ("POST", r"/api/repos/create", r_create),
    ("POST", r"/api/validate-yaml", r_validate_yaml),
    ("GET", r"/api/agent-harnesses", r_agent_harnesses),
    ("GET", API, r_info),
    ("GET", API + rf"/revision/(?P<rev>{SEG})", r_info),
    ("GET", API + rf"/tree/(?P<rev>{SEG})(?:/(?P<path>.*))?", r_tree),
    ("POST", API + rf"/paths-info/(?P<rev>{SEG})", r_paths_info),
    ("POST", API + rf"/preupload/(?P<rev>{SEG})", r_preupload),
    ("POST", API + rf"/commit/(?P<rev>{SEG})", r_commit),
    ("POST", API + rf"/branch/(?P<branch>{SEG})", r_branch),
    ("GET", API + rf"/xet-(?P<kind>read|write)-token(?:/(?P<rev>{SEG}))?", r_xet_token),
    ("POST", rf"/datasets/{REPO}\.git/info/lfs/objects/batch", r_lfs_batch),
    ("PUT", r"/_lfs/objects/(?P<oid>[0-9a-f]{64})", r_lfs_put),
    ("POST", r"/_lfs/verify", r_lfs_verify),
    ("GET", rf"/datasets/{REPO}/resolve/(?P<rev>{SEG})/(?P<path>.+)", r_resolve),
    ("GET", r"/_cas/v1/chunks/(?P<prefix>[^/]+)/(?P<hash>[0-9a-f]{64})", _xet("get_chunk_dedup")),
    ("POST", r"/_cas/v1/xorb-grants/(?P<prefix>[^/]+)/(?P<hash>[0-9a-f]{64})", _xet("xorb_grant")),
    ("POST", r"/_cas/v1/xorbs/(?P<prefix>[^/]+)/(?P<hash>[0-9a-f]{64})", _xet("put_xorb")),
    ("POST", r"/_cas/v2/shards", _xet("shard_v2")),
    ("POST", r"/_cas/v1/shards", _xet("put_shard")),
    ("POST", r"(?:/_cas)?/v1/telemetry", _xet("telemetry")),
    ("GET", r"/_hubserver/health", c_health),
    ("GET", r"/_hubserver/unknown", c_unknown),
    ("GET", r"/_hubserver/requests", c_requests),
    ("POST", r"/_hubserver/forget-unknown", c_forget_unknown),
    ("POST", r"/_hubserver/hold", c_hold),
    ("GET", r"/_hubserver/waiting", c_waiting),
    ("GET", rf"/_hubserver/head/{REPO}/(?P<rev>{SEG})", c_head),
]


def serve(*, port: int, root: Path, token: str, port_file: Path) -> None:
    state = State(root, token)
    httpd = HubServer(("127.0.0.1", port), state)
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(httpd.server_address[1]))
    tmp.replace(port_file)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()


__all__ = ["HubServer", "State", "quote", "serve"]
