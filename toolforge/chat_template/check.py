"""Does a rendered text say everything its record says?

A chat template can drop part of a record without failing: Phi-4-mini's vLLM example
writes a turn's text and leaves out its calls, templates without tool support leave out
the tool definitions, reasoning templates drop earlier turns' reasoning. Each piece of a
record (message text, call name, argument keys and values, tool names, reasoning) must
appear in the text in one of the forms templates write it (as is, trimmed, JSON-escaped
by ``tojson``, or as Python would print it), as often as the record has it.

Codes (``error`` means the text is wrong for training; ``warning`` is by design in many
templates):

| code | severity | meaning |
|---|---|---|
| ``template_raised`` | error | the template called ``raise_exception`` (e.g. Llama 3.1 on parallel calls) |
| ``template_error`` | error | the template failed on this record (undefined attribute, type error) |
| ``content_dropped`` | error | a message's text is not in the output |
| ``call_dropped`` | error | a call's name, an argument name or an argument value is not in the output |
| ``tools_dropped`` | error | an offered tool's name is not in the output |
| ``reasoning_dropped`` | warning | an assistant turn's reasoning is not in the output |
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from toolforge.record import Record

ERROR_CODES = ("template_raised", "template_error", "content_dropped", "call_dropped", "tools_dropped")
WARNING_CODES = ("reasoning_dropped",)


@dataclass(frozen=True)
class TemplateIssue:
    code: str
    path: str
    message: str

    @property
    def severity(self) -> str:
        return "warning" if self.code in WARNING_CODES else "error"

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "path": self.path, "message": self.message}


def _string_forms(s: str) -> set[str]:
    forms = {s, s.strip()}
    for t in (s, s.strip()):
        forms.add(json.dumps(t, ensure_ascii=False)[1:-1])
        forms.add(json.dumps(t, ensure_ascii=True)[1:-1])
        forms.add(repr(t)[1:-1])
    return {f for f in forms if f}


def _short(s: str, n: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 3] + "..."


class _Probe:
    """A copy of a record with every checkable piece replaced by a unique marker.

    Markers are lowercase letters and digits (``tfp`` + kind + number + ``x``), which
    survive ``tojson``, ``trim``, Python formatting and pythonic call syntax; numbers
    become unlikely numbers of the same type. Roles, ids and the shape of the
    conversation stay as they are.
    """

    def __init__(self, record: Record) -> None:
        self.where: dict[str, tuple[str, str, str]] = {}  # marker -> (code, path, what)
        self._n = 0
        data = record.to_dict()
        for k, t in enumerate(data["tools"]):
            t["function"]["name"] = self._mark("t", "tools_dropped", f"tools[{k}]",
                                               f"the offered tool {t['function']['name']!r}")
        for i, m in enumerate(data["messages"]):
            if (m.get("content") or "").strip():
                m["content"] = self._mark("c", "content_dropped", f"messages[{i}].content",
                                          f"the {m['role']} text {_short(m['content'])!r}")
            if (m.get("reasoning") or "").strip():
                m["reasoning"] = self._mark("r", "reasoning_dropped", f"messages[{i}].reasoning", "the turn's reasoning")
            for j, c in enumerate(m.get("tool_calls") or []):
                fn = c["function"]
                where = f"messages[{i}].tool_calls[{j}]"
                fn["name"] = self._mark("n", "call_dropped", where, f"name {_short(fn['name'], 30)!r}")
                fn["arguments"] = self._args(fn.get("arguments") or {}, where)
        self.record = Record.model_validate(data)

    def _mark(self, kind: str, code: str, path: str, what: str) -> str:
        marker = f"tfp{kind}{self._n}x"
        self._n += 1
        self.where[marker] = (code, path, what)
        return marker

    def _args(self, value: Any, where: str) -> Any:
        if isinstance(value, dict):
            return {self._mark("k", "call_dropped", where, f"argument name {_short(str(k), 30)!r}"): self._args(v, where)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self._args(v, where) for v in value]
        if isinstance(value, str) and value.strip():
            return self._mark("v", "call_dropped", where, f"argument value {_short(value, 30)!r}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self._n += 1
            num: int | float = 918270000 + self._n if isinstance(value, int) else 918270000.25 + self._n
            self.where[json.dumps(num)] = ("call_dropped", where, f"argument value {value!r}")
            return num
        return value  # booleans, null, empty strings: nothing distinctive to look for

    def missing(self, text: str) -> list[TemplateIssue]:
        """One issue per dropped message text, reasoning or tool, and one per call with what it lacks."""
        issues: list[TemplateIssue] = []
        calls: dict[str, list[str]] = {}
        for marker, (code, path, what) in self.where.items():
            if marker in text:
                continue
            if code == "call_dropped":
                calls.setdefault(path, []).append(what)
            else:
                issues.append(TemplateIssue(code, path, f"{what} is not in the rendered text"))
        for path, parts in calls.items():
            more = f" and {len(parts) - 3} more" if len(parts) > 3 else ""
            issues.append(TemplateIssue("call_dropped", path, f"not in the rendered text: {', '.join(parts[:3])}{more}"))
        return sorted(issues, key=lambda i: (i.path, i.code))


def check_render(record: Record, text: str, *, think: str = "field",
                 render: Callable[[Record], str] | None = None) -> list[TemplateIssue]:
    """Issues for the parts of ``record`` that ``text`` leaves out (``[]`` when all are there).

    With ``render`` (the same template and options), a marked copy of the record is
    rendered and each marker looked up: exact even where the record's own words also
    appear elsewhere (a tool name in the definitions, a number in a result). When the
    marked copy cannot be rendered, the record's own pieces are looked up in ``text``.
    """
    if render is not None:
        probe = _Probe(record)
        try:
            probe_text = render(probe.record)
        except Exception:  # noqa: BLE001 - the template branches on the words: fall back to the text itself
            probe_text = None
        if probe_text is not None:
            issues = probe.missing(probe_text)
            return [i for i in issues if i.code != "reasoning_dropped"] if think == "drop" else issues
    return _by_presence(record, text, think=think)


def _scalar_forms(v: Any) -> set[str]:
    if isinstance(v, str):
        return _string_forms(v)
    if isinstance(v, bool):
        return {"true", "True"}
    if v is None:
        return {"null", "None"}
    return {json.dumps(v), repr(v), str(v)}


def _leaves(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield "key", k
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield "value", value


def _present(text: str, forms: set[str], need: int = 1) -> bool:
    return max((text.count(f) for f in forms), default=0) >= need


def _by_presence(record: Record, text: str, *, think: str) -> list[TemplateIssue]:
    """The fallback check: each piece of the record, in a form templates write it, in ``text``."""
    issues: list[TemplateIssue] = []
    seen: Counter[str] = Counter()  # the same text twice in a record must appear twice
    for i, m in enumerate(record.messages):
        content = (m.content or "").strip()
        if content:
            seen[content] += 1
            if not _present(text, _string_forms(content), seen[content]):
                issues.append(TemplateIssue("content_dropped", f"messages[{i}].content",
                                            f"the {m.role} text {_short(content)!r} is not in the rendered text"))
        if (m.reasoning and m.reasoning.strip() and think != "drop"
                and not _present(text, _string_forms(m.reasoning.strip()))):
            issues.append(TemplateIssue("reasoning_dropped", f"messages[{i}].reasoning",
                                        "the turn's reasoning is not in the rendered text"))
        for j, call in enumerate(m.tool_calls or []):
            missing = [] if _present(text, {call.name}) else [f"name {call.name!r}"]
            for kind, leaf in _leaves(call.arguments):
                if not _present(text, _scalar_forms(leaf)):
                    missing.append(f"argument {kind} {_short(str(leaf), 30)!r}")
            if missing:
                issues.append(TemplateIssue("call_dropped", f"messages[{i}].tool_calls[{j}]",
                                            f"not in the rendered text: {', '.join(missing[:3])}"))
    for k, tool in enumerate(record.tools):
        if not _present(text, {tool.function.name}):
            issues.append(TemplateIssue("tools_dropped", f"tools[{k}]",
                                        f"the offered tool {tool.function.name!r} is not in the rendered text"))
    return issues
