"""Teacher prompts: ``prompts/<scenario>/prompt.j2`` rendered in a sandbox with StrictUndefined.

Each scenario folder holds ``prompt.j2`` (extending ``_shared/base.j2``) and
``examples.json`` (a pool of few-shot plans that teach the format; a job draws
one, so the examples rotate). ``_stepwise/`` holds the stepwise mode's prompts
(request, calls, simulate, answer). Tool views show descriptions, enums,
formats, ranges, defaults and, where the catalog gives one, the result shape.
``_shared/system.j2`` is the teacher's system message and ``_shared/reask.j2``
turns validation issues into a re-ask. No prompt text lives in Python.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolforge.errors import InputError
from toolforge.generate.plan import Job
from toolforge.record import Tool
from toolforge.resources import prompts_dir


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@lru_cache(maxsize=4)
def environment(root: str | None = None) -> Any:
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(loader=FileSystemLoader(root or str(prompts_dir())), undefined=StrictUndefined,
                               autoescape=False, keep_trailing_newline=False, trim_blocks=False,
                               auto_reload=False)  # no stat() of every template per request
    env.filters["json"] = _json
    return env


@lru_cache(maxsize=16)
def examples(scenario: str, root: str | None = None) -> list[dict[str, Any]]:
    path = Path(root or prompts_dir()) / scenario / "examples.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise InputError(f"no few-shot examples for scenario {scenario!r} at {path}") from None
    if not isinstance(data, list) or not data:
        raise InputError(f"{path}: expected a non-empty JSON list of example plans")
    return data


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _type_name(spec: dict[str, Any]) -> str:
    t = spec.get("type")
    if isinstance(t, list):
        return "|".join(map(str, t))
    if t == "array":
        items = spec.get("items") if isinstance(spec.get("items"), dict) else {}
        return f"array of {_type_name(items)}" if items else "array"
    if t is None and ("anyOf" in spec or "oneOf" in spec):
        return "|".join(_type_name(x) for x in spec.get("anyOf", spec.get("oneOf", [])) if isinstance(x, dict))
    return str(t or "any")


def _range(spec: dict[str, Any]) -> str:
    parts = []
    for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"),
                      ("minLength", "length >="), ("maxLength", "length <="), ("minItems", "items >="),
                      ("maxItems", "items <=")):
        if isinstance(spec.get(key), (int, float)) and not isinstance(spec.get(key), bool):
            parts.append(f"{word} {spec[key]}")
    if isinstance(spec.get("pattern"), str):
        parts.append(f"pattern {spec['pattern']}")
    return ", ".join(parts)


def param_views(tool: Tool) -> list[dict[str, Any]]:
    """Each parameter with its type, requiredness, description, enum, format, range and default."""
    params = tool.function.parameters or {}
    props = params.get("properties") or {}
    required = set(params.get("required") or [])
    out = []
    for name, spec in props.items():
        spec = spec if isinstance(spec, dict) else {}
        out.append({
            "name": name, "type": _type_name(spec), "required": name in required,
            "description": str(spec.get("description") or ""),
            "enum": ", ".join(_short(v, 30) for v in spec["enum"]) if isinstance(spec.get("enum"), list) else "",
            "format": str(spec.get("format") or ""), "range": _range(spec),
            "default": _short(spec["default"], 40) if "default" in spec else "",
        })
    return out


def returns_view(shape: dict[str, Any] | None) -> str:
    """A result shape in one line: ``{key: type, ...}`` (nested one level)."""
    if not isinstance(shape, dict):
        return ""
    props = shape.get("properties")
    if not isinstance(props, dict) or not props:
        return _type_name(shape)
    parts = []
    for k, v in props.items():
        v = v if isinstance(v, dict) else {}
        if v.get("type") == "array" and isinstance(v.get("items"), dict) and v["items"].get("properties"):
            parts.append(f"{k}: [{returns_view(v['items'])}]")
        elif isinstance(v.get("enum"), list):
            parts.append(f"{k}: {'|'.join(map(str, v['enum']))}")
        else:
            parts.append(f"{k}: {_type_name(v)}")
    return "{" + ", ".join(parts) + "}"


def _param_summary(tool: Tool) -> str:
    """One-line parameter list (kept for callers of the earlier API)."""
    return ", ".join(f"{p['name']} ({p['enum'].replace(', ', '|') or p['type']}{', required' if p['required'] else ''})"
                     for p in param_views(tool))


def tool_view(tool: Tool, returns: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"name": tool.function.name, "description": tool.function.description or "",
            "params": param_views(tool), "returns": returns_view((returns or {}).get(tool.function.name))}


def plan_keys(job: Job) -> list[str]:
    keys = ["user"]
    if job.scenario in ("reasoning_heavy", "complex_multi_step"):
        keys.append("reasoning")
    if job.scenario == "error_recovery":
        keys += ["failed", "retry"] if job.recovery == "retry" else ["failed"]
    elif job.scenario != "no_tool_needed":
        keys.append("turns")
    return keys + ["answer"]


def pick_example(job: Job, root: str | None = None) -> dict[str, Any]:
    """The job's few-shot example, rotated through the scenario's pool (error_recovery: of the job's kind)."""
    exs = examples(job.scenario, root)
    if job.scenario == "error_recovery":
        kind = [e for e in exs if ("retry" in e) == (job.recovery == "retry")] or exs
        return kind[job.example % len(kind)]
    return exs[job.example % len(exs)]


def render_messages(job: Job, *, root: str | None = None,
                    returns: dict[str, dict[str, Any]] | None = None) -> list[dict[str, str]]:
    """The chat messages that ask the teacher for one job (one-shot mode)."""
    env = environment(root)
    ctx = {
        "scenario": job.scenario,
        "tools": [tool_view(t, returns) for t in job.tools],
        "callable": [t.function.name for t in job.callable],
        "distractors": [t.function.name for t in job.distractors],
        "persona": job.persona, "style": job.style, "topic": job.topic,
        "turns": list(job.turns), "calls": list(job.calls), "recovery": job.recovery or "",
        "keys": plan_keys(job), "example": pick_example(job, root),
    }
    system = _system_prompt(root)
    user = env.get_template(f"{job.scenario}/prompt.j2").render(**ctx).strip()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def render_step(step: str, /, *, root: str | None = None, **ctx: Any) -> list[dict[str, str]]:
    """Messages of one stepwise request: ``prompts/_stepwise/<step>_system.j2`` + ``<step>.j2``."""
    env = environment(root)
    system = env.get_template(f"_stepwise/{step}_system.j2").render().strip()
    user = env.get_template(f"_stepwise/{step}.j2").render(**ctx).strip()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@lru_cache(maxsize=4)
def _system_prompt(root: str | None) -> str:
    return str(environment(root).get_template("_shared/system.j2").render().strip())


def render_reask(issues: list[Any], *, root: str | None = None) -> str:
    view = [{"path": getattr(i, "path", "$"), "message": getattr(i, "message", str(i))} for i in issues[:8]]
    return environment(root).get_template("_shared/reask.j2").render(issues=view).strip()


@lru_cache(maxsize=1)
def prompts_sha(root: str | None = None) -> str:
    """A hash of every template and example file (stored in record meta as ``prompt_sha``)."""
    base = Path(root or prompts_dir())
    h = hashlib.blake2b(digest_size=8)
    for p in sorted(base.rglob("*")):
        if p.is_file() and p.suffix in (".j2", ".json", ".yaml"):
            h.update(str(p.relative_to(base)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()
