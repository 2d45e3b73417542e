"""Tool catalogs: JSON files of tool definitions (``schemas/tools/*.json`` or the user's own).

A catalog file holds either a JSON list of tools, or an object with ``tools``
(and optional ``name``/``description``). Each tool is in the OpenAI form
``{"type": "function", "function": {"name", "description", "parameters"}}``; a
bare ``{"name", "description", "parameters"}`` is accepted too.
"""

from __future__ import annotations

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
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)  # tool name -> result schema, where given

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
    from toolforge.io import safejson

    try:
        data = safejson.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: not UTF-8 text") from None
    except safejson.JSONLimitError as exc:
        if exc.syntax:
            raise CatalogError(f"{path}: not JSON ({exc.msg.removeprefix('not JSON: ')}) [json_invalid]") from None
        raise CatalogError(f"{path}: {exc}") from None
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
        ref_problem = ref_cycle(params)
        if ref_problem:
            problems.append(CatalogProblem(label, ref_problem))
            continue
        try:
            Draft202012Validator.check_schema(params)
        except RecursionError:
            problems.append(CatalogProblem(label, "parameters nest too deeply to check [too_deep]"))
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "parameters"
            problems.append(CatalogProblem(label, f"parameters is not a valid JSON Schema at {where}: {exc.message}"))
        ret = fn.get("returns", fn.get("return"))
        if ret is not None:
            try:
                Draft202012Validator.check_schema(ret if isinstance(ret, dict) else {"type": 0})
            except SchemaError as exc:
                problems.append(CatalogProblem(label, f"returns is not a valid JSON Schema object: {exc.message}"))
        props = params.get("properties", {})
        for req in params.get("required", []) if isinstance(params.get("required"), list) else []:
            if isinstance(props, dict) and req not in props:
                problems.append(CatalogProblem(label, f"required parameter {req!r} is not in properties"))
    return problems


def ref_cycle(schema: Any) -> str | None:
    """Why a parameter schema cannot be used as is: nesting past the depth limit, a local
    ``$ref`` that points nowhere, or a ``$ref`` cycle (a schema that refers back into itself,
    which a generator or validator expanding it would follow forever). None when it is fine."""
    from toolforge.io import safejson

    try:
        safejson.check_value(schema)
    except safejson.JSONLimitError as exc:
        return f"parameters: {exc}"
    refs: dict[str, str] = {}  # pointer of a schema holding a local $ref -> the pointer it refers to
    stack: list[tuple[Any, str]] = [(schema, "#")]
    while stack:
        node, ptr = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                refs[ptr] = ref
            stack.extend((v, f"{ptr}/{_escape(str(k))}") for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{ptr}/{i}") for i, v in enumerate(node))
    for ptr, ref in refs.items():
        if _resolve(schema, ref) is None:
            return f"$ref {ref!r} at {ptr} points to nothing in the schema"
    # an edge from each $ref to every $ref inside (or equal to) the schema it points to
    def targets(ref: str) -> list[str]:
        target = ref if ref != "#/" else "#"
        return [p for p in refs if p == target or p.startswith(target.rstrip("/") + "/") or target == "#"]

    state: dict[str, int] = {}
    for start in refs:
        if state.get(start):
            continue
        path = [start]
        walk = [(start, iter(targets(refs[start])))]
        state[start] = 1
        while walk:
            node, it = walk[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                walk.pop()
                path.pop()
                continue
            if state.get(nxt) == 1:
                return f"$ref cycle: {' -> '.join(refs[p] for p in path[path.index(nxt):] + [nxt])}"
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                walk.append((nxt, iter(targets(refs[nxt]))))
    return None


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _resolve(schema: Any, ref: str) -> Any:
    node = schema
    for part in [p for p in ref[1:].split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


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
    tools = [Tool.model_validate(_without_returns(_normalise(t))) for t in raw.tools]
    return Catalog(name=raw.name, path=path, tools=tools, description=raw.description, returns=_returns(raw.tools))


def _without_returns(tool: Any) -> Any:
    """A tool definition without its optional ``returns`` result schema (not part of the OpenAI form)."""
    fn = tool.get("function") if isinstance(tool, dict) else None
    if isinstance(fn, dict) and ("returns" in fn or "return" in fn):
        fn = {k: v for k, v in fn.items() if k not in ("returns", "return")}
        return {**tool, "function": fn}
    return tool


def _returns(tools: list[Any]) -> dict[str, dict[str, Any]]:
    """``{tool name: result schema}`` from each tool's optional ``returns`` (or HF's ``return``)."""
    out: dict[str, dict[str, Any]] = {}
    for t in tools:
        fn = _normalise(t).get("function") if isinstance(_normalise(t), dict) else None
        ret = fn.get("returns", fn.get("return")) if isinstance(fn, dict) else None
        if isinstance(fn, dict) and isinstance(ret, dict):
            out[str(fn["name"])] = ret
    return out


def load_returns(names: list[str | Path]) -> dict[str, dict[str, Any]]:
    """Result schemas (``returns``) of the tools of several catalogs, where the catalogs give them."""
    out: dict[str, dict[str, Any]] = {}
    for n in names:
        out.update(load_catalog(n).returns)
    return out


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
