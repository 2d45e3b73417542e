"""Teacher prompts: ``prompts/<scenario>/prompt.j2`` rendered in a sandbox with StrictUndefined.

Each scenario folder holds ``prompt.j2`` (extending ``_shared/base.j2``) and
``examples.json`` (few-shot plans; a job picks one, so the examples vary).
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


def _param_summary(tool: Tool) -> str:
    props = (tool.function.parameters or {}).get("properties") or {}
    required = set((tool.function.parameters or {}).get("required") or [])
    parts = []
    for name, spec in props.items():
        spec = spec if isinstance(spec, dict) else {}
        kind = "|".join(map(str, spec["enum"])) if "enum" in spec else str(spec.get("type", "any"))
        parts.append(f"{name} ({kind}{', required' if name in required else ''})")
    return ", ".join(parts)


def tool_view(tool: Tool) -> dict[str, str]:
    return {"name": tool.function.name, "description": tool.function.description or "", "params": _param_summary(tool)}


def plan_keys(job: Job) -> list[str]:
    keys = ["user"]
    if job.scenario in ("reasoning_heavy", "complex_multi_step"):
        keys.append("reasoning")
    if job.scenario == "error_recovery":
        keys += ["failed", "retry"] if job.recovery == "retry" else ["failed"]
    elif job.scenario != "no_tool_needed":
        keys.append("turns")
    return keys + ["answer"]


def render_messages(job: Job, *, root: str | None = None) -> list[dict[str, str]]:
    """The chat messages that ask the teacher for one job."""
    env = environment(root)
    exs = examples(job.scenario, root)
    example = exs[job.example % len(exs)]
    if job.scenario == "error_recovery" and job.recovery != "retry":
        example = next((e for e in exs if "retry" not in e), example)
    elif job.scenario == "error_recovery":
        example = next((e for e in exs if "retry" in e), example)
    ctx = {
        "scenario": job.scenario,
        "tools": [tool_view(t) for t in job.tools],
        "callable": [t.function.name for t in job.callable],
        "distractors": [t.function.name for t in job.distractors],
        "persona": job.persona, "style": job.style, "topic": job.topic,
        "calls_per_turn": job.calls_per_turn, "recovery": job.recovery or "",
        "keys": plan_keys(job), "example": example,
    }
    system = _system_prompt(root)
    user = env.get_template(f"{job.scenario}/prompt.j2").render(**ctx).strip()
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
