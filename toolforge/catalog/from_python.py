"""Python functions as tools, following Hugging Face ``get_json_schema`` conventions.

A function becomes ``{"type": "function", "function": {"name", "description",
"parameters"}}``: the description is the docstring text before ``Args:``; each
parameter needs a type hint and a line in ``Args:``; parameters without a
default are required. Types map as chat templates expect: ``int`` -> integer,
``float`` -> number, ``str`` -> string, ``bool`` -> boolean, ``list[X]`` ->
array of X, ``dict[str, X]`` -> object with ``additionalProperties`` X,
``tuple[X, Y]`` -> array with ``prefixItems``, ``Optional[X]`` -> X with
``"nullable": true``, ``Union`` of simple types -> a list of types,
``Literal[...]`` and ``Enum`` subclasses -> ``enum``, ``Any`` -> no constraint.
The return annotation becomes ``returns`` (the result's shape: a ``TypedDict``
is an object with named keys), which generation uses for per-tool results.
A ``(choices: [...])`` note at the end of an argument's description becomes an
``enum`` too, as in transformers. JSON-able defaults are kept as ``default``.
"""

from __future__ import annotations

import enum
import importlib.util
import inspect
import json
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from toolforge.errors import InputError

_SIMPLE = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null"}
_ARGS_RE = re.compile(r"^\s*Args:\s*$", re.MULTILINE)
_SECTION_RE = re.compile(r"^\s*(Returns|Raises|Yields|Examples?|Notes?):\s*$", re.MULTILINE)
_ARG_LINE_RE = re.compile(r"^(\s*)(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")
_CHOICES_RE = re.compile(r"\(choices:\s*(.*?)\)\s*$", re.IGNORECASE | re.DOTALL)


class SchemaGenerationError(InputError):
    pass


def _type_schema(hint: Any, where: str) -> dict[str, Any]:
    if hint is Any or hint is inspect.Parameter.empty:
        return {}
    if hint in _SIMPLE:
        return {"type": _SIMPLE[hint]}
    if inspect.isclass(hint) and issubclass(hint, enum.Enum):
        values = [m.value for m in hint]
        kinds = {_SIMPLE.get(type(v)) for v in values}
        out: dict[str, Any] = {"type": kinds.pop()} if len(kinds) == 1 and None not in kinds else {}
        out["enum"] = values
        return out
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is Literal:
        kinds = {_SIMPLE.get(type(v)) for v in args}
        out = {"type": kinds.pop()} if len(kinds) == 1 and None not in kinds else {}
        out["enum"] = list(args)
        return out
    if origin in (Union, types.UnionType):
        non_null = [a for a in args if a is not type(None)]
        nullable = len(non_null) < len(args)
        if len(non_null) == 1:
            out = _type_schema(non_null[0], where)
        else:
            subs = [_type_schema(a, where) for a in non_null]
            if all(set(s) == {"type"} and isinstance(s["type"], str) for s in subs):
                out = {"type": [s["type"] for s in subs]}
            else:
                out = {"anyOf": subs}
        if nullable:
            out["nullable"] = True
        return out
    if hint is list or origin is list:
        out = {"type": "array"}
        if args:
            out["items"] = _type_schema(args[0], where)
        return out
    if hint is dict or origin is dict:
        out = {"type": "object"}
        if len(args) == 2:
            out["additionalProperties"] = _type_schema(args[1], where)
        return out
    if hint is tuple or origin is tuple:
        out = {"type": "array"}
        if args and not (len(args) == 2 and args[1] is Ellipsis):
            out["prefixItems"] = [_type_schema(a, where) for a in args]
        elif args:
            out["items"] = _type_schema(args[0], where)
        return out
    raise SchemaGenerationError(f"{where}: type {hint!r} has no JSON Schema mapping")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {arg: description})."""
    doc = inspect.cleandoc(doc)
    m = _ARGS_RE.search(doc)
    if not m:
        end = _SECTION_RE.search(doc)
        return (doc[: end.start()] if end else doc).strip(), {}
    description = doc[: m.start()].strip()
    rest = doc[m.end():]
    end = _SECTION_RE.search(rest)
    block = rest[: end.start()] if end else rest
    args: dict[str, str] = {}
    current: str | None = None
    base_indent: int | None = None
    for line in block.splitlines():
        if not line.strip():
            continue
        am = _ARG_LINE_RE.match(line)
        indent = len(line) - len(line.lstrip())
        if am and (base_indent is None or indent <= base_indent):
            base_indent = indent
            current = am.group(2).lstrip("*")
            args[current] = am.group(4).strip()
        elif current is not None:
            args[current] = (args[current] + " " + line.strip()).strip()
    return description, args


def function_schema(func: Any) -> dict[str, Any]:
    """The tool definition of one function; raises SchemaGenerationError naming what is missing."""
    name = func.__name__
    doc = inspect.getdoc(func)
    if not doc:
        raise SchemaGenerationError(f"function {name!r} has no docstring",
                                    hint="add a Google-style docstring with a description and an Args: section")
    description, arg_docs = _parse_docstring(doc)
    if not description:
        raise SchemaGenerationError(f"function {name!r}: the docstring has no description before Args:")
    try:
        hints = typing.get_type_hints(func)
    except Exception as exc:  # a forward reference that does not resolve
        raise SchemaGenerationError(f"function {name!r}: cannot resolve type hints ({exc})") from None
    properties: dict[str, Any] = {}
    required: list[str] = []
    for pname, param in inspect.signature(func).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if pname not in hints:
            raise SchemaGenerationError(f"function {name!r}: parameter {pname!r} has no type hint")
        if pname not in arg_docs:
            raise SchemaGenerationError(f"function {name!r}: parameter {pname!r} has no description in Args:")
        schema = _type_schema(hints[pname], f"function {name!r}, parameter {pname!r}")
        desc = arg_docs[pname]
        cm = _CHOICES_RE.search(desc)
        if cm:
            try:
                schema["enum"] = json.loads(cm.group(1))
            except json.JSONDecodeError:
                raise SchemaGenerationError(
                    f"function {name!r}: parameter {pname!r}: (choices: ...) is not a JSON list") from None
            desc = desc[: cm.start()].strip()
        schema["description"] = desc
        if param.default is inspect.Parameter.empty:
            required.append(pname)
        else:
            default = param.default.value if isinstance(param.default, enum.Enum) else param.default
            try:
                json.dumps(default)
                schema["default"] = default
            except (TypeError, ValueError):
                pass
        properties[pname] = schema
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    fn: dict[str, Any] = {"name": name, "description": description, "parameters": parameters}
    returns = _returns_schema(hints.get("return"), f"function {name!r}, return value")
    if returns:
        fn["returns"] = returns
    return {"type": "function", "function": fn}


def _returns_schema(hint: Any, where: str) -> dict[str, Any] | None:
    """The result schema of a return annotation (a ``TypedDict`` becomes an object with named keys)."""
    if hint is None or hint is type(None) or hint is inspect.Parameter.empty or hint in (dict, list, tuple, Any):
        return None  # nothing a bare container or Any says about the result's shape
    if typing.is_typeddict(hint):
        hints = typing.get_type_hints(hint)
        props = {k: _type_schema(v, f"{where}, key {k!r}") for k, v in hints.items()}
        req = sorted(getattr(hint, "__required_keys__", set(hints)))
        out: dict[str, Any] = {"type": "object", "properties": props}
        if req:
            out["required"] = req
        return out
    try:
        return _type_schema(hint, where) or None
    except SchemaGenerationError:
        return None  # a return type without a mapping: the result shape stays generic


def load_module(path: str | Path) -> types.ModuleType:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    mod_name = f"_toolforge_user_{p.stem}"
    spec = importlib.util.spec_from_file_location(mod_name, p)
    if spec is None or spec.loader is None:
        raise InputError(f"cannot load {p} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise InputError(f"{p}: importing failed: {type(exc).__name__}: {exc}") from None
    return module


def catalog_from_module(path: str | Path, *, only: list[str] | None = None, name: str | None = None) -> dict[str, Any]:
    module = load_module(path)
    funcs = [
        obj for attr, obj in vars(module).items()
        if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not attr.startswith("_")
    ]
    if only:
        missing = sorted(set(only) - {f.__name__ for f in funcs})
        if missing:
            raise InputError(f"{path}: no public function named {', '.join(map(repr, missing))}")
        funcs = [f for f in funcs if f.__name__ in only]
    if not funcs:
        raise InputError(f"{path}: no public functions found")
    return {"name": name or Path(path).stem, "tools": [function_schema(f) for f in funcs]}
