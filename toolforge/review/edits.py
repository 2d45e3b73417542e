"""Read one annotation, decide what the annotator changed, apply it to the record (pure).

The boxes of a task, per call slot N: ``tool_N`` (the tool's name), ``args_N``
(its arguments as JSON) and ``result_N`` (the tool result), plus ``answer`` (the
final answer). What an annotator can do with them:

- fix arguments, the tool result or the final answer (edit the box);
- change a call's tool name (edit ``tool_N``: the tool must be offered, the
  arguments must fit its schema);
- remove a call (write ``remove`` in ``tool_N``): the call and its tool result go;
- add a call (fill ``tool_N``, ``args_N`` and ``result_N`` of the first free
  slot): it goes in a new assistant turn before the final answer.

An unchanged pre-filled box is not an edit: texts are compared after trimming
whitespace, arguments after parsing the JSON (re-formatting is not an edit).
Anything that does not validate makes the whole edit invalid, with a reason,
and the record is left as it was. When a call changes but its tool result or
the final answer does not, the edit is flagged ``possibly_stale``: the result
and answer that followed may no longer fit (flag only; the edit applies).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from toolforge.io import safejson
from toolforge.record import Record

REMOVE_WORDS = ("", "remove", "(remove)", "-")


@dataclass
class Reading:
    """What one annotation says."""

    choice: str | None = None
    rating: int | None = None
    notes: str | None = None
    answer: str | None = None                                  # text of the answer box, if present
    args: dict[int, str] = field(default_factory=dict)         # slot number -> text of the box
    tools: dict[int, str] = field(default_factory=dict)        # slot number -> tool name box
    results: dict[int, str] = field(default_factory=dict)      # slot number -> tool result box


def _text(value: dict[str, Any]) -> str:
    text = value.get("text")
    if isinstance(text, list):
        return "\n".join(str(t) for t in text)
    return str(text or "")


def read_annotation(result: list[dict[str, Any]]) -> Reading:
    r = Reading()
    slots = {"args_": r.args, "tool_": r.tools, "result_": r.results}
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
        else:
            for prefix, target in slots.items():
                if name.startswith(prefix) and name[len(prefix):].isdigit():
                    target[int(name[len(prefix):])] = _text(value)
    return r


@dataclass
class AddedCall:
    name: str
    arguments: dict[str, Any]
    result: str


@dataclass
class Edit:
    answer: str | None = None                                             # new final answer
    arguments: dict[int, dict[str, Any]] = field(default_factory=dict)    # call number -> new arguments
    names: dict[int, str] = field(default_factory=dict)                   # call number -> new tool name
    results: dict[int, str] = field(default_factory=dict)                 # call number -> new tool result
    removed: list[int] = field(default_factory=list)                      # call numbers removed
    added: list[AddedCall] = field(default_factory=list)
    possibly_stale: list[str] = field(default_factory=list)               # flags, not refusals

    def __bool__(self) -> bool:
        return bool(self.answer is not None or self.arguments or self.names or self.results or self.removed
                    or self.added)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.answer is not None:
            out["answer"] = self.answer
        if self.arguments:
            out["arguments"] = {str(k): v for k, v in sorted(self.arguments.items())}
        if self.names:
            out["tool_names"] = {str(k): v for k, v in sorted(self.names.items())}
        if self.results:
            out["tool_results"] = {str(k): v for k, v in sorted(self.results.items())}
        if self.removed:
            out["removed_calls"] = sorted(self.removed)
        if self.added:
            out["added_calls"] = [{"name": a.name, "arguments": a.arguments, "result": a.result} for a in self.added]
        if self.possibly_stale:
            out["possibly_stale"] = list(self.possibly_stale)
        return out


@dataclass
class _Call:
    name: str
    arguments: dict[str, Any]
    id: str | None = None
    result: str | None = None          # the tool message answering this call, if any


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

    @classmethod
    def of(cls, record: Record | RecordView) -> RecordView:
        if isinstance(record, RecordView):
            return record
        d = record.to_dict()
        return cls(str(record.id), record.scenario, d["tools"], d["messages"], d["meta"])

    @property
    def final_answer(self) -> str | None:
        last = self.messages[-1] if self.messages else {}
        if last.get("role") == "assistant" and not last.get("tool_calls"):
            return last.get("content")
        return None

    @property
    def calls(self) -> list[_Call]:
        results = {m.get("tool_call_id"): m.get("content") or "" for m in self.messages
                   if m.get("role") == "tool" and m.get("tool_call_id")}
        return [_Call(c["function"]["name"], c["function"].get("arguments") or {}, c.get("id"),
                      results.get(c.get("id")))
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


def _parse_args(text: str, label: str, problems: list[str]) -> dict[str, Any] | None:
    if not text.strip():
        problems.append(f"{label} arguments: the box is empty (write {{}} for no arguments)")
        return None
    try:
        new = safejson.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(f"{label} arguments: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return None
    if not isinstance(new, dict):
        problems.append(f"{label} arguments: expected a JSON object, got {type(new).__name__}")
        return None
    return new


def _is_json(text: str) -> bool:
    try:
        safejson.loads(text)
    except (json.JSONDecodeError, ValueError):
        return False
    return True


def find_edit(record: Record | RecordView, reading: Reading) -> Edit:
    """The changes an annotation makes to ``record`` (empty when boxes are as pre-filled).

    Raises :class:`EditError` for an edit that is not valid.
    """
    view = RecordView.of(record)
    edit = Edit()
    problems: list[str] = []
    original = view.final_answer
    if reading.answer is not None and reading.answer.strip() != (original or "").strip():
        if original is None:
            problems.append("the answer box was filled but the record ends without a final answer to replace")
        elif not reading.answer.strip():
            problems.append("the edited final answer is empty")
        else:
            edit.answer = reading.answer.strip()
    calls = view.calls
    slots = sorted(set(reading.args) | set(reading.tools) | set(reading.results))
    for slot in slots:
        args_text = reading.args.get(slot)
        tool_text = reading.tools.get(slot)
        result_text = reading.results.get(slot)
        if slot > len(calls):
            _added_call(view, slot, len(calls), args_text, tool_text, result_text, edit, problems)
            continue
        call = calls[slot - 1]
        label = f"call {slot} ({call.name})"
        if tool_text is not None and tool_text.strip().lower() in REMOVE_WORDS:
            edit.removed.append(slot)      # "remove" in the tool box: the call (and its result) go
            continue
        name = call.name
        if tool_text is not None and tool_text.strip() != call.name:
            name = tool_text.strip()
            if view.tool_parameters(name) is None:
                problems.append(f"{label}: tool {name!r} is not offered in the record "
                                f"(offered: {', '.join(t['function']['name'] for t in view.tools) or 'none'})")
                continue
            edit.names[slot] = name
        new_args = call.arguments
        if args_text is not None:
            parsed = _parse_args(args_text, label, problems)
            if parsed is None:
                continue
            new_args = parsed
        if new_args != call.arguments or name != call.name:
            schema_problem = check_arguments(view, name, new_args)
            if schema_problem:
                problems.append(f"{label} arguments: {schema_problem}")
                continue
            if new_args != call.arguments:
                edit.arguments[slot] = new_args
        if result_text is not None and result_text.strip() != (call.result or "").strip():
            if call.result is None:
                problems.append(f"{label}: the record has no tool result for this call to replace")
            elif not result_text.strip():
                problems.append(f"{label} tool result: the box is empty")
            elif _is_json(call.result) and not _is_json(result_text):
                problems.append(f"{label} tool result: it was JSON and is not valid JSON now")
            else:
                edit.results[slot] = result_text.strip()
        if (slot in edit.arguments or slot in edit.names) and slot not in edit.results and call.result is not None:
            edit.possibly_stale.append(f"call {slot}'s tool result was not edited after its "
                                       f"{'tool' if slot in edit.names else 'arguments'} changed")
    if problems:
        raise EditError("; ".join(problems))
    calls_changed = bool(edit.arguments or edit.names or edit.results or edit.removed or edit.added)
    if calls_changed and original is not None and edit.answer is None:
        edit.possibly_stale.append("the final answer was not edited after the calls changed")
    if edit.removed and len(edit.removed) == len(calls) and not edit.added:
        edit.possibly_stale.append("every call was removed: check the scenario still fits")
    return edit


def _added_call(view: RecordView, slot: int, n_calls: int, args_text: str | None, tool_text: str | None,
                result_text: str | None, edit: Edit, problems: list[str]) -> None:
    filled = [t for t in (args_text, tool_text, result_text) if t is not None and t.strip()]
    if not filled:
        return
    if tool_text is None:  # the tool box was left empty (or the config has none)
        problems.append(f"call {slot}: the record has only {n_calls} call(s); to add one, write the tool's name "
                        "in that slot's tool box")
        return
    label = f"added call {slot}"
    name = tool_text.strip()
    if not name:
        problems.append(f"{label}: write the tool's name in the tool box to add a call")
        return
    if view.tool_parameters(name) is None:
        problems.append(f"{label}: tool {name!r} is not offered in the record")
        return
    args = _parse_args(args_text or "", label, problems)
    if args is None:
        return
    schema_problem = check_arguments(view, name, args)
    if schema_problem:
        problems.append(f"{label} arguments: {schema_problem}")
        return
    if not (result_text or "").strip():
        problems.append(f"{label}: an added call needs its tool result (write it in the result box)")
        return
    edit.added.append(AddedCall(name, args, (result_text or "").strip()))


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
    removed_ids: set[str] = set()
    renamed: dict[str, str] = {}
    new_results: dict[str, str] = {}
    messages: list[dict[str, Any]] = []
    for msg in data["messages"]:
        if msg.get("tool_calls"):
            kept = []
            for call in msg["tool_calls"]:
                call_no += 1
                if call_no in edit.removed:
                    removed_ids.add(call["id"])
                    continue
                if call_no in edit.names:
                    call["function"]["name"] = edit.names[call_no]
                    renamed[call["id"]] = edit.names[call_no]
                if call_no in edit.arguments:
                    call["function"]["arguments"] = edit.arguments[call_no]
                if call_no in edit.results:
                    new_results[call["id"]] = edit.results[call_no]
                kept.append(call)
            if kept:
                msg["tool_calls"] = kept
            else:
                msg.pop("tool_calls")
                if not (msg.get("content") or "").strip():
                    continue  # an assistant turn that only held removed calls goes with them
        messages.append(msg)
    out: list[dict[str, Any]] = []
    for msg in messages:
        if msg.get("role") == "tool":
            cid = msg.get("tool_call_id")
            if cid in removed_ids:
                continue
            if cid in renamed:
                msg["name"] = renamed[cid]
            if cid in new_results:
                msg["content"] = new_results[cid]
        out.append(msg)
    final = None
    if out and out[-1].get("role") == "assistant" and not out[-1].get("tool_calls"):
        final = out.pop()
    for i, added in enumerate(edit.added, start=1):
        cid = f"call_review_{i}"
        out.append({"role": "assistant", "content": "", "tool_calls": [
            {"id": cid, "type": "function", "function": {"name": added.name, "arguments": added.arguments}}]})
        out.append({"role": "tool", "tool_call_id": cid, "name": added.name, "content": added.result})
    if final is not None:
        if edit.answer is not None:
            final["content"] = edit.answer
        out.append(final)
    data["messages"] = out
    data["meta"] = {**record.meta, "review": meta}
    return Record.model_validate(data)


def resolve(choices: list[str]) -> str | None:
    """Majority verdict; a tie goes to the most cautious of the tied choices (reject > needs_fix > accept)."""
    counts = {v: choices.count(v) for v in ("accept", "reject", "needs_fix") if v in choices}
    if not counts:
        return None
    top = max(counts.values())
    tied = [v for v, n in counts.items() if n == top]
    for v in ("reject", "needs_fix", "accept"):
        if v in tied:
            return v
    return None
