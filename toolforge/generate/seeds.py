"""Seed pools for request-first generation: personas, styles, topics, and per-tool tasks and keywords.

``prompts/_shared/seeds.yaml`` holds the packaged pools; a user's own YAML file
with the same keys (``personas``, ``user_styles``, ``topics``, ``tools: {name:
{keywords, tasks}}``) is merged over them (lists replace, tool entries merge).
A task seed is drawn from the tools a job may call, so persona, topic and tools
fit each other: no finance topic when only hotel tools are callable.

:func:`request_needs` is the deterministic test of which offered tools a user
request needs (a keyword of the tool appears in the request). Distractors are
drawn only from the tools a request does not need.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolforge.errors import InputError
from toolforge.record import Tool
from toolforge.resources import prompts_dir

_GENERIC = frozenset({"get", "set", "create", "list", "current", "run", "make", "do", "the", "a", "an", "to", "of",
                      "and", "for", "by", "with", "from", "info", "data", "tool", "api", "new", "update", "fetch",
                      "check", "find", "show"})
POOL_KEYS = ("personas", "user_styles", "topics", "system_prompts")


@lru_cache(maxsize=8)
def load_seeds(user_path: str | None = None) -> dict[str, Any]:
    """The packaged pools, with a user's own file (``--seeds``) merged over them."""
    import yaml

    base: dict[str, Any] = yaml.safe_load((prompts_dir() / "_shared" / "seeds.yaml").read_text("utf-8"))
    variety = yaml.safe_load((prompts_dir() / "_shared" / "variety.yaml").read_text("utf-8"))
    base.setdefault("system_prompts", variety["system_prompts"])
    if user_path is None:
        return base
    p = Path(user_path)
    try:
        mine = yaml.safe_load(p.read_text("utf-8"))
    except FileNotFoundError:
        raise InputError(f"seed file not found: {p}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{p}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(mine, dict):
        raise InputError(f"{p}: a seed file is a mapping with personas, user_styles, topics and/or tools")
    unknown = set(mine) - {*POOL_KEYS, "tools"}
    if unknown:
        raise InputError(f"{p}: unknown key(s) {', '.join(sorted(unknown))}",
                         hint=f"use {', '.join(POOL_KEYS)} or tools")
    out = dict(base)
    for key in POOL_KEYS:
        if key in mine:
            value = mine[key]
            if not isinstance(value, list) or not value or not all(isinstance(x, str) and x.strip() for x in value):
                raise InputError(f"{p}: {key} must be a non-empty list of strings")
            out[key] = value
    if "tools" in mine:
        if not isinstance(mine["tools"], dict):
            raise InputError(f"{p}: tools must map tool names to {{keywords, tasks}}")
        tools = dict(base.get("tools") or {})
        for name, entry in mine["tools"].items():
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k, []), list) for k in ("keywords", "tasks")):
                raise InputError(f"{p}: tools.{name} needs lists 'keywords' and/or 'tasks'")
            tools[name] = {**tools.get(name, {}), **entry}
        out["tools"] = tools
    return out


def _name_words(tool: Tool) -> list[str]:
    return [w for w in re.split(r"[_.\-]+", tool.function.name.lower()) if w and w not in _GENERIC and len(w) > 2]


def tool_keywords(tool: Tool, seeds: dict[str, Any]) -> list[str]:
    entry = (seeds.get("tools") or {}).get(tool.function.name) or {}
    words = [str(k).lower() for k in entry.get("keywords") or []]
    return words or _name_words(tool)


def tool_tasks(tool: Tool, seeds: dict[str, Any]) -> list[str]:
    entry = (seeds.get("tools") or {}).get(tool.function.name) or {}
    tasks = [str(t) for t in entry.get("tasks") or []]
    if tasks:
        return tasks
    desc = (tool.function.description or tool.function.name.replace("_", " ")).rstrip(".")
    return [f"something that needs this: {desc[:1].lower() + desc[1:]}"]


@lru_cache(maxsize=4096)
def _kw_re(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(word) + r"(?![a-z0-9])")


def request_needs(text: str, tool: Tool, seeds: dict[str, Any]) -> bool:
    """Whether a user request touches what ``tool`` is for (a keyword of the tool appears in it)."""
    low = text.lower()
    return any(_kw_re(k).search(low) for k in tool_keywords(tool, seeds))


def unneeded(text: str, tools: list[Tool], seeds: dict[str, Any]) -> list[Tool]:
    return [t for t in tools if not request_needs(text, t, seeds)]
