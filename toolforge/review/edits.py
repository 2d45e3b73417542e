"""Read one annotation, decide what the annotator changed, apply it to the record (pure).

An unchanged pre-filled box is not an edit: the answer is compared after
trimming whitespace, arguments after parsing the JSON (so re-formatting is not
an edit either). Edited arguments must be a JSON object that validates against
the called tool's parameter schema; anything else makes the edit invalid, with
a reason, and the record is left as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from toolforge.record import Record
from toolforge.review.config import VERDICTS


@dataclass
class Reading:
    """What one annotation says."""

    choice: str | None = None
    rating: int | None = None
    notes: str | None = None
    answer: str | None = None                                  # text of the answer box, if present
    args: dict[int, str] = field(default_factory=dict)         # slot number -> text of the box


def _text(value: dict[str, Any]) -> str:
    text = value.get("text")
    if isinstance(text, list):
        return "\n".join(str(t) for t in text)
    return str(text or "")


def read_annotation(result: list[dict[str, Any]]) -> Reading:
    r = Reading()
    for region in result:
        name = region.get("from_name", "")
        value = region.get("value") or {}
        if name == "verdict":
            choices = value.get("choices") or []
            r.choice = str(choices[0]) if choices else None
        elif name == "rating":
            r.rating = int(value["rating"]) if value.get("rating") is not None else None
        elif name == "notes":
            r.notes = _text(value).strip() or None
        elif name == "answer":
            r.answer = _text(value)
        elif name.startswith("args_") and name[5:].isdigit():
            r.args[int(name[5:])] = _text(value)
    return r


@dataclass
class Edit:
    answer: str | None = None                                  # new final answer
    arguments: dict[int, dict[str, Any]] = field(default_factory=dict)   # call number -> new arguments

    def __bool__(self) -> bool:
        return self.answer is not None or bool(self.arguments)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.answer is not None:
            out["answer"] = self.answer
        if self.arguments:
            out["arguments"] = {str(k): v for k, v in sorted(self.arguments.items())}
        return out


@dataclass
class _Call:
    name: str
    arguments: dict[str, Any]


@dataclass
class RecordView:
    """A stored record read as plain JSON (no model validation, no id hashing): what pull needs
    to compare boxes with. :meth:`record` builds the full :class:`Record` when an edit is applied."""

    id: str
    scenario: str | None
    tools: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    meta: dict[str, Any]
    revision: int = 0

    @property
    def final_answer(self) -> str | None:
        last = self.messages[-1] if self.messages else {}
        if last.get("role") == "assistant" and not last.get("tool_calls"):
            return last.get("content")
        return None

    @property
    def calls(self) -> list[_Call]:
        return [_Call(c["function"]["name"], c["function"].get("arguments") or {})
                for m in self.messages if m.get("role") == "assistant" for c in (m.get("tool_calls") or [])]

    def tool_parameters(self, name: str) -> dict[str, Any] | None:
        for t in self.tools:
            if t.get("function", {}).get("name") == name:
                return t["function"].get("parameters") or {"type": "object"}
        return None

    def record(self) -> Record:
        return Record.model_validate({"scenario": self.scenario, "tools": self.tools, "messages": self.messages,
                                      "meta": self.meta})


class EditError(ValueError):
    """An edit that cannot be applied; the message is the reason stored with the annotation."""


def find_edit(record: Record | RecordView, reading: Reading) -> Edit:
    """The changes an annotation makes to ``record`` (empty when boxes are as pre-filled).

    Raises :class:`EditError` for an edit that is not valid.
    """
    edit = Edit()
    original = record.final_answer
    if reading.answer is not None and reading.answer.strip() != (original or "").strip():
        if original is None:
            raise EditError("the answer box was filled but the record ends without a final answer to replace")
        if not reading.answer.strip():
            raise EditError("the edited final answer is empty")
        edit.answer = reading.answer.strip()
    calls = record.calls
    problems = []
    for slot, text in sorted(reading.args.items()):
        if slot > len(calls):
            if text.strip():
                problems.append(f"call {slot}: the record has only {len(calls)} call(s)")
            continue
        call = calls[slot - 1]
        if not text.strip():
            problems.append(f"call {slot} ({call.name}) arguments: the box is empty (write {{}} for no arguments)")
            continue
        try:
            new = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(f"call {slot} ({call.name}) arguments: not valid JSON: {exc.msg} "
                            f"at line {exc.lineno} column {exc.colno}")
            continue
        if new == call.arguments:
            continue
        if not isinstance(new, dict):
            problems.append(f"call {slot} ({call.name}) arguments: expected a JSON object, got {type(new).__name__}")
            continue
        schema_problem = check_arguments(record, call.name, new)
        if schema_problem:
            problems.append(f"call {slot} ({call.name}) arguments: {schema_problem}")
            continue
        edit.arguments[slot] = new
    if problems:
        raise EditError("; ".join(problems))
    return edit


def check_arguments(record: Record | RecordView, tool_name: str, arguments: dict[str, Any]) -> str | None:
    """The first schema violation of ``arguments`` for the tool, or None."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if isinstance(record, RecordView):
        params = record.tool_parameters(tool_name)
    else:
        tool = record.tool(tool_name)
        params = (tool.function.parameters or {"type": "object"}) if tool is not None else None
    if params is None:
        return f"tool {tool_name!r} is not offered in the record"
    schema = params
    try:
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))
    except SchemaError as exc:
        return f"the tool's schema is itself invalid: {exc.message}"
    if not errors:
        return None
    err = errors[0]
    where = "/".join(str(p) for p in err.absolute_path)
    return f"does not match the tool's schema{' at ' + where if where else ''}: {err.message}"


def apply_edit(record: Record | RecordView, edit: Edit, *, meta: dict[str, Any]) -> Record:
    """A new record with the edit applied (the original is untouched)."""
    data = (record.record() if isinstance(record, RecordView) else record).to_dict()
    data.pop("id", None)
    call_no = 0
    for msg in data["messages"]:
        for call in msg.get("tool_calls") or []:
            call_no += 1
            if call_no in edit.arguments:
                call["function"]["arguments"] = edit.arguments[call_no]
    if edit.answer is not None:
        last = data["messages"][-1]
        last["content"] = edit.answer
    data["meta"] = {**record.meta, "review": meta}
    return Record.model_validate(data)


def resolve(choices: list[str]) -> str | None:
    """Majority verdict; a tie goes to the most cautious of the tied choices (reject > needs_fix > accept)."""
    counts = {v: choices.count(v) for v in VERDICTS if v in choices}
    if not counts:
        return None
    top = max(counts.values())
    tied = [v for v, n in counts.items() if n == top]
    for v in ("reject", "needs_fix", "accept"):
        if v in tied:
            return v
    return None
