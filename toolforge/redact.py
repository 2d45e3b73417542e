"""Redaction of credentials before anything is recorded (store, logs, cards, reports, errors).

One helper for the whole toolkit: :func:`redact` takes a config value (dict, list,
string, ...) and returns a copy in which

- a password in a URL's user info (``http://user:PASS@host/v1``) becomes ``***``,
- query parameters that carry keys (``?api_key=...``, ``token``, ``sig``, ...) become ``***``,
- values under keys that name a secret (``api_key``, ``token``, ``password``,
  ``authorization``, ``headers.Authorization``, ...) become ``***`` (keys that name an
  environment variable, such as ``api_key_env``, are kept: they hold a name, not a secret),
- strings that look like bearer tokens or provider keys (``Bearer ...``, ``sk-...``,
  ``hf_...``) become ``***``.

``Store.create_run`` and :class:`toolforge.errors.ToolforgeError` apply it, so a run's
config and every error line are redacted whichever command made them; code that names
a teacher or server for display uses :func:`redact_url`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

# keys whose values are secrets (matched on the key lowercased, with - and spaces as _)
_SECRET_KEY = re.compile(
    r"(^|_)(api_?key|apikey|token|access_?token|refresh_?token|auth_?token|password|passwd|pwd|secret|"
    r"client_?secret|secret_?key|access_?key|private_?key|authorization|auth|credentials?|cookie|sig|signature)$"
)
# keys that hold the *name* of where a secret lives, not the secret
_NAME_KEY = re.compile(r"(_env|_envvar|_env_var|_file|_path|_name)$")

_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^\s/@:?#]*):(?P<pw>[^\s/@?#]*)@")
_URL_WITH_QUERY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]*\?[^\s\"'<>]*")
_AUTH_SCHEME = re.compile(r"\b((?i:bearer)|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}")
_TOKEN_PATTERNS = [
    re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"),
    re.compile(r"\bhf_[A-Za-z0-9]{16,}"),
    re.compile(r"\b(ghp|gho|ghs|github_pat)_[A-Za-z0-9_]{16,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
]


def is_secret_key(key: str) -> bool:
    k = re.sub(r"[\s-]+", "_", str(key).strip().lower())
    return bool(_SECRET_KEY.search(k)) and not _NAME_KEY.search(k)


def _redact_query(url: str) -> str:
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return url
    if not any(is_secret_key(k) for k, _ in pairs):
        return url
    query = urlencode([(k, MASK if is_secret_key(k) else v) for k, v in pairs], safe="*")
    return urlunsplit(parts._replace(query=query))


def redact_text(text: str) -> str:
    """``text`` with URL passwords, secret query parameters and token-looking strings masked."""
    if not text:
        return text
    out = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    out = _URL_WITH_QUERY.sub(lambda m: _redact_query(m.group(0)), out)
    out = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", out)
    for pat in _TOKEN_PATTERNS:
        out = pat.sub(MASK, out)
    return out


def redact_url(url: str) -> str:
    """A URL fit to show or record: no password in its user info, no key in its query."""
    return redact_text(url)


def redact(value: Any, *, _key: str | None = None) -> Any:
    """A copy of ``value`` (JSON-like) with every credential masked; see the module docstring."""
    if _key is not None and is_secret_key(_key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, _key=str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    return value
