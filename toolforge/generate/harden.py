"""Schema hardening for every structured-output dialect (llama.cpp GBNF, ``json_object`` + schema,
OpenAI/vLLM ``json_schema``): what a teacher is allowed to write is valid JSON by construction.

- **No raw control characters.** A grammar's plain string rule excludes them,
  but a ``pattern`` is compiled character by character: ``.`` (llama.cpp:
  ``[^\\x0A\\x0D]``), negated classes and ``\\s``/``\\S``/``\\D``/``\\W`` let a
  raw tab or ``\\x01`` into a string, and ``json.loads`` then refuses the reply.
  :func:`safe_pattern` rewrites them to classes that also exclude
  ``\\x00-\\x1F``, ``\\x7F``, ``"`` and ``\\`` (so a pattern can never end a
  JSON string early either). The rewritten pattern accepts a subset of what the
  original does.
- **Every string bounded**: free strings get ``maxLength`` (a pattern is
  bounded by its own quantifiers; an unbounded ``*``/``+`` becomes ``{0,N}``/``{1,N}``).
- **Keys bounded and named**: objects with free keys (``additionalProperties``
  a schema) lose them: ``additionalProperties: false`` accepts a subset, and a
  result's keys come from a named shape instead (see :mod:`toolforge.generate.schema`).

The hardened schema accepts only a subset of what the original accepts, so
validation against the catalog's schema stays the judge.
"""

from __future__ import annotations

import re
from typing import Any

CTRL_EXCLUDE = r'\x00-\x1F\x7F"\\'
SAFE_ANY = f"[^{CTRL_EXCLUDE}]"
STRING_MAX = 120
REPEAT_MAX = 40
_CLASS_ESC = {"d": "0-9", "w": "A-Za-z0-9_", "s": " "}
_NEG_ESC = {"D": "0-9", "W": "A-Za-z0-9_", "S": " "}
CONTROL_RE = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]")


def safe_pattern(pattern: str) -> str:
    """``pattern`` with every construct that could match a control character, ``"`` or ``\\`` narrowed."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "s":
                out.append(" ")
            elif nxt in _NEG_ESC:
                out.append(f"[^{_NEG_ESC[nxt]}{CTRL_EXCLUDE}]")
            else:
                out.append(c + nxt)
            i += 2
            continue
        if c == ".":
            out.append(SAFE_ANY)
            i += 1
            continue
        if c == "[":
            j = i + 1
            negated = j < n and pattern[j] == "^"
            if negated:
                j += 1
            body: list[str] = []
            if j < n and pattern[j] == "]":  # a literal ] first in the class
                body.append("\\]")
                j += 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\" and j + 1 < n:
                    e = pattern[j + 1]
                    if e in _CLASS_ESC:
                        body.append(_CLASS_ESC[e])
                    elif e in ("S", "D", "W") or e in ("t", "n", "r", "f", "v"):
                        pass  # cannot be expressed safely inside a class: dropped (narrower)
                    else:
                        body.append(pattern[j:j + 2])
                    j += 2
                    continue
                if pattern[j] in '"' or ord(pattern[j]) < 0x20 or pattern[j] == "\x7f":
                    j += 1
                    continue
                body.append(pattern[j])
                j += 1
            if negated:
                out.append("[^" + "".join(body) + CTRL_EXCLUDE + "]")
            else:
                out.append("[" + ("".join(body) or "a") + "]")
            i = j + 1
            continue
        if c in "*+" and (i + 1 >= n or pattern[i + 1] != "?"):
            out.append(f"{{0,{REPEAT_MAX}}}" if c == "*" else f"{{1,{REPEAT_MAX}}}")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def harden_schema(node: Any, *, string_max: int = STRING_MAX) -> Any:
    """A hardened copy of a response schema (see the module doc); other keywords are kept."""
    if isinstance(node, list):
        return [harden_schema(v, string_max=string_max) for v in node]
    if not isinstance(node, dict):
        return node
    s: dict[str, Any] = {}
    for k, v in node.items():
        if k in ("properties", "$defs", "definitions") and isinstance(v, dict):
            s[k] = {name: harden_schema(sub, string_max=string_max) for name, sub in v.items()}
        elif k in ("items", "anyOf", "oneOf", "allOf", "prefixItems", "not"):
            s[k] = harden_schema(v, string_max=string_max)
        elif k == "pattern" and isinstance(v, str):
            s[k] = safe_pattern(v)
        else:
            s[k] = v
    t = s.get("type")
    is_string = t == "string" or (isinstance(t, list) and "string" in t)
    if is_string and "enum" not in s and "const" not in s and "pattern" not in s \
            and s.get("format") not in ("date-time", "date", "time") and "maxLength" not in s:
        s["maxLength"] = max(int(s.get("minLength", 0)), string_max)  # a stated bound is kept; a free string gets one
    if isinstance(s.get("additionalProperties"), dict) or (
            (t == "object" or "properties" in s) and s.get("additionalProperties", True) is True):
        s["additionalProperties"] = False
        s.setdefault("properties", {})
    return s


def has_control_chars(value: Any) -> bool:
    """Whether any string in a parsed JSON value holds a control character other than tab/newline/CR."""
    if isinstance(value, str):
        return CONTROL_RE.search(value) is not None
    if isinstance(value, dict):
        return any(has_control_chars(k) or has_control_chars(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_control_chars(v) for v in value)
    return False
