"""Tool catalogs: JSON files of tool definitions (``schemas/tools/*.json`` or the user's own).

A catalog file holds either a JSON list of tools, or an object with ``tools``
(and optional ``name``/``description``). Each tool is in the OpenAI form
``{"type": "function", "function": {"name", "description", "parameters"}}``; a
bare ``{"name", "description", "parameters"}`` is accepted too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolforge.errors import CatalogError
from toolforge.record import Tool
from toolforge.resources import schemas_dir

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Catalog:
    name: str
    path: Path
    tools: list[Tool]
    description: str = ""

    def get(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.function.name == name), None)

    @property
    def names(self) -> list[str]:
        return [t.function.name for t in self.tools]


@dataclass
class CatalogProblem:
    tool: str
    message: str


@dataclass
class _Raw:
    name: str
    description: str
    tools: list[dict[str, Any]] = field(default_factory=list)


def builtin_catalogs() -> dict[str, Path]:
    d = schemas_dir() / "tools"
    return {p.stem: p for p in sorted(d.glob("*.json"))}


def resolve_catalog_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".json" or p.exists() or "/" in str(name_or_path):
        if not p.exists():
            raise CatalogError(f"catalog file not found: {p}")
        return p
    builtins = builtin_catalogs()
    if str(name_or_path) in builtins:
        return builtins[str(name_or_path)]
    raise CatalogError(f"unknown catalog {str(name_or_path)!r}",
                       hint=f"use a .json path or one of: {', '.join(builtins)}")


def _read_raw(path: Path) -> _Raw:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(data, list):
        return _Raw(path.stem, "", data)
    if isinstance(data, dict) and isinstance(data.get("tools"), list):
        return _Raw(str(data.get("name") or path.stem), str(data.get("description") or ""), data["tools"])
    raise CatalogError(f"{path}: a catalog is a JSON list of tools or an object with a 'tools' list")


def _normalise(tool: Any) -> dict[str, Any]:
    if isinstance(tool, dict) and "function" not in tool and "name" in tool:
        return {"type": "function", "function": tool}
    return tool


def check_tools(tools: list[Any]) -> list[CatalogProblem]:
    """Problems with a list of tool definitions (names, duplicates, parameter schemas)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    problems: list[CatalogProblem] = []
    seen: set[str] = set()
    for i, raw in enumerate(tools):
        tool = _normalise(raw)
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict):
            problems.append(CatalogProblem(f"#{i}", "not a tool definition (no 'function' object)"))
            continue
        name = fn.get("name")
        label = name if isinstance(name, str) else f"#{i}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.append(CatalogProblem(label, f"name {name!r} is not identifier-like"))
        elif name in seen:
            problems.append(CatalogProblem(label, "duplicate tool name"))
        else:
            seen.add(name)
        params = fn.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(params, dict):
            problems.append(CatalogProblem(label, "parameters is not a JSON Schema object"))
            continue
        if params.get("type") != "object":
            problems.append(CatalogProblem(label, "parameters must be a JSON Schema with type 'object'"))
        try:
            Draft202012Validator.check_schema(params)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "parameters"
            problems.append(CatalogProblem(label, f"parameters is not a valid JSON Schema at {where}: {exc.message}"))
        props = params.get("properties", {})
        for req in params.get("required", []) if isinstance(params.get("required"), list) else []:
            if isinstance(props, dict) and req not in props:
                problems.append(CatalogProblem(label, f"required parameter {req!r} is not in properties"))
    return problems


def validate_catalog_file(path: str | Path) -> list[CatalogProblem]:
    return check_tools(_read_raw(resolve_catalog_path(path)).tools)


def load_catalog(name_or_path: str | Path) -> Catalog:
    """Load and check a catalog; raise CatalogError naming the first problem."""
    path = resolve_catalog_path(name_or_path)
    raw = _read_raw(path)
    problems = check_tools(raw.tools)
    if problems:
        p = problems[0]
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise CatalogError(f"{path}: tool {p.tool}: {p.message}{more}",
                           hint=f"run `toolforge tools validate {path}` for the full list")
    tools = [Tool.model_validate(_normalise(t)) for t in raw.tools]
    return Catalog(name=raw.name, path=path, tools=tools, description=raw.description)


def load_catalogs(names: list[str | Path]) -> list[Tool]:
    """Tools of several catalogs merged; a name defined twice is an error."""
    tools: list[Tool] = []
    seen: dict[str, str] = {}
    for n in names:
        cat = load_catalog(n)
        for t in cat.tools:
            if t.function.name in seen:
                raise CatalogError(f"tool {t.function.name!r} is defined in both {seen[t.function.name]} and {cat.name}")
            seen[t.function.name] = cat.name
            tools.append(t)
    return tools


def find_tool(name: str, catalogs: list[str | Path] | None = None) -> tuple[Catalog, Tool]:
    paths: list[str | Path] = list(catalogs) if catalogs else list(builtin_catalogs().values())
    for p in paths:
        cat = load_catalog(p)
        tool = cat.get(name)
        if tool is not None:
            return cat, tool
    raise CatalogError(f"no tool named {name!r}", hint="see `toolforge tools list`")
