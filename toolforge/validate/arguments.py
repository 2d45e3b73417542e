"""Tool argument validation with a real JSON Schema validator (Draft 2020-12).

Each tool's ``parameters`` schema is checked and compiled once into a
:class:`CompiledTool` (cached by the tool's canonical JSON), then reused for
every call to it. Errors from the validator are mapped onto the stable issue
codes: ``missing_required_arg``, ``unexpected_arg``, ``arg_type``,
``arg_enum`` and ``arg_constraint``.

The yes/no question (are these arguments valid?) is answered by a compiled
validator, jsonschema-rs (``pip install 'toolforge[fast]'``), in about half a
microsecond per call; only arguments it rejects go to Python ``jsonschema``,
whose errors (messages, paths) are what the issues report. jsonschema-rs also
gets ``multipleOf 0.1`` with ``0.3`` and ``\\p{L}`` patterns right, where
Python's float arithmetic and ``re`` do not; when Python finds no error in
arguments that jsonschema-rs rejects, jsonschema-rs's own errors are reported.
Formats are checked by the same Python format checker on both paths. Without
jsonschema-rs the pure-Python fast path (:mod:`.fastcheck`) answers.

Unexpected arguments: an argument is unexpected when the schema says
``additionalProperties: false``, and also, by default, when the schema does
not declare it at all (no ``additionalProperties``/``patternProperties``
that would admit it). Only ``additionalProperties: true`` (or a subschema)
opens a tool to undeclared arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from toolforge.validate.issues import Issue

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")


def _format_checker() -> Any:
    from jsonschema import FormatChecker

    fc = FormatChecker()

    @fc.checks("uri", raises=ValueError)
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if any(c.isspace() for c in value):
            return False
        parts = urlsplit(value)
        return bool(parts.scheme and _SCHEME.match(parts.scheme) and (parts.netloc or parts.path))

    @fc.checks("uri-reference", raises=ValueError)
    def _uri_ref(value: object) -> bool:
        return not isinstance(value, str) or not any(c.isspace() for c in value)

    if "date-time" not in fc.checkers:  # rfc3339-validator missing: a stdlib fallback
        @fc.checks("date-time", raises=ValueError)
        def _dt(value: object) -> bool:
            if not isinstance(value, str):
                return True
            if "T" not in value.upper() and " " not in value:
                return False
            datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            return True

    return fc


_FORMATS: Any = None


def format_checker() -> Any:
    global _FORMATS
    if _FORMATS is None:
        _FORMATS = _format_checker()
    return _FORMATS


@dataclass
class CompiledTool:
    """A tool with its parameters schema checked and its validator built."""

    name: str
    schema: dict[str, Any]
    validator: Any = None                 # jsonschema validator, None when the schema is invalid
    problem: str | None = None            # why the schema is not usable
    declared: frozenset[str] = frozenset()
    closed: bool = True                   # undeclared top-level arguments are unexpected
    pattern_props: list[re.Pattern[str]] = field(default_factory=list)
    fast: Any = None                      # a predicate that is True only for certainly valid arguments
    compiled: Any = None                  # a jsonschema-rs validator (the yes/no path), None without it

    def check(self, args: dict[str, Any], path: str) -> list[Issue]:
        """Issues for one call's arguments (already a dict)."""
        if self.validator is None:
            return []
        issues: list[Issue] = []
        if self.closed:
            for key in args:
                if key not in self.declared and not any(p.search(key) for p in self.pattern_props):
                    issues.append(Issue("unexpected_arg", f"{path}.{key}",
                                        f"{self.name} has no parameter {key!r}"))
        if self.compiled is not None:
            if self.compiled.is_valid(args):
                return issues
        elif (self.fast is not None and self.fast(args)) or self.validator.is_valid(args):
            return issues
        seen_required: set[str] = set()
        found = False
        try:
            errors = list(self.validator.iter_errors(args))
        except re.error:  # a pattern Python's re cannot run (``\p{L}``): jsonschema-rs's errors below
            errors = []
        for err in errors:
            found = True
            issues.extend(_map_error(err, path, self, seen_required))
        if not found and self.compiled is not None:  # Python jsonschema sees no error: say what jsonschema-rs saw
            issues.extend(_map_rs_error(err, path, self) for err in self.compiled.iter_errors(args))
        return issues


def _join(path: str, parts: Any) -> str:
    for p in parts:
        path += f"[{p}]" if isinstance(p, int) else f".{p}"
    return path


def _map_error(err: Any, base: str, tool: CompiledTool, seen_required: set[str]) -> list[Issue]:
    kw = err.validator
    where = _join(base, err.absolute_path)
    if kw == "required":
        out = []
        inst = err.instance if isinstance(err.instance, dict) else {}
        for name in err.validator_value or []:
            p = f"{where}.{name}"
            if name not in inst and p not in seen_required:
                seen_required.add(p)
                out.append(Issue("missing_required_arg", p, f"{tool.name}: required argument {name!r} is missing"))
        return out
    if kw in ("additionalProperties", "unevaluatedProperties"):
        if not err.absolute_path and tool.closed:
            return []  # top-level extras are already reported by the declared-names check
        inst = err.instance if isinstance(err.instance, dict) else {}
        declared = set((err.schema or {}).get("properties", {}) or {})
        extras = [k for k in inst if k not in declared] or ["?"]
        return [Issue("unexpected_arg", f"{where}.{k}", f"{tool.name}: unexpected argument {k!r}") for k in extras]
    if kw == "type":
        code = "arg_type"
    elif kw in ("enum", "const"):
        code = "arg_enum"
    elif kw in ("anyOf", "oneOf") and err.context and all(c.validator == "type" for c in err.context):
        code = "arg_type"
    else:
        code = "arg_constraint"
    return [Issue(code, where, f"{tool.name}: {_short(err.message)}")]


_RS_CODES = {"type": "arg_type", "enum": "arg_enum", "const": "arg_enum", "required": "missing_required_arg",
             "additionalProperties": "unexpected_arg"}


def _map_rs_error(err: Any, base: str, tool: CompiledTool) -> Issue:
    keyword = next((str(p) for p in reversed(list(err.schema_path)) if not isinstance(p, int)), "")
    return Issue(_RS_CODES.get(keyword, "arg_constraint"), _join(base, err.instance_path),
                 f"{tool.name}: {_short(err.message)}")


#: False turns the compiled yes/no path off (the equivalence tests and the benchmark's baseline)
USE_COMPILED = True


def _formats_in(schema: Any, out: set[str]) -> set[str]:
    if isinstance(schema, dict):
        fmt = schema.get("format")
        if isinstance(fmt, str):
            out.add(fmt)
        for v in schema.values():
            _formats_in(v, out)
    elif isinstance(schema, list):
        for v in schema:
            _formats_in(v, out)
    return out


def compile_rs(schema: dict[str, Any]) -> Any:
    """A jsonschema-rs validator for ``schema`` with the Python format checks, or None (not installed, or
    a schema it cannot compile: then the Python paths answer)."""
    if not USE_COMPILED:
        return None
    try:
        import jsonschema_rs
    except ImportError:
        return None
    fc = format_checker()
    # every format the schema names is checked by the Python checker (or not at all, as Python does)
    formats = {name: (lambda v, n=name: fc.conforms(v, n)) if name in fc.checkers else (lambda v: True)
               for name in _formats_in(schema, set())}
    try:
        return jsonschema_rs.Draft202012Validator(schema, validate_formats=True, formats=formats)
    except Exception:  # noqa: BLE001  (a schema Python accepts but jsonschema-rs does not compile)
        return None


def _only_regex_problems(schema: Any) -> bool:
    from jsonschema import Draft202012Validator

    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = list(meta.iter_errors(schema))
    return bool(errors) and all(e.validator == "format" and e.validator_value == "regex" for e in errors)


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def compile_tool(name: str, schema: Any) -> CompiledTool:
    """Check ``schema`` (a tool's parameters) and build its validator."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if not isinstance(schema, dict):
        return CompiledTool(name, {}, problem="parameters is not a JSON object")
    if schema.get("type") != "object":
        return CompiledTool(name, schema, problem=f"parameters must have type 'object', not {schema.get('type')!r}")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        # a pattern only Python's re refuses (``\p{L}``, valid ECMA-262) is fine when jsonschema-rs runs it
        if not (_only_regex_problems(schema) and compile_rs(schema) is not None):
            where = _join("parameters", exc.absolute_path) if exc.absolute_path else "parameters"
            return CompiledTool(name, schema, problem=f"not a valid JSON Schema at {where}: {_short(exc.message)}")
    props = schema.get("properties") or {}
    addl = schema.get("additionalProperties")
    closed = (addl is None or addl is False) and "unevaluatedProperties" not in schema
    patterns = []
    for pat in (schema.get("patternProperties") or {}):
        try:
            patterns.append(re.compile(pat))
        except re.error:
            return CompiledTool(name, schema, problem=f"patternProperties key {pat!r} is not a valid regex")
    from toolforge.validate.fastcheck import compile_fast

    return CompiledTool(
        name, schema,
        validator=Draft202012Validator(schema, format_checker=format_checker()),
        fast=compile_fast(schema, format_checker()),
        compiled=compile_rs(schema),
        declared=frozenset(props) if isinstance(props, dict) else frozenset(),
        closed=closed, pattern_props=patterns,
    )
