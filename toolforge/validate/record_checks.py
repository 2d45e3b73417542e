"""Structural and argument checks of one record (the ``schema`` stage).

:class:`RecordValidator` works on plain dicts, so it can judge imported data
that the :class:`~toolforge.record.Record` model would refuse, and keeps a
cache of compiled tool validators keyed by canonical tool JSON: a catalog of
15 tools shared by 100,000 records is compiled 15 times, not 1.5 million.
"""

from __future__ import annotations

import json
import marshal
import re
from dataclasses import dataclass, field
from typing import Any

from toolforge.canonical import canonical_json
from toolforge.validate import grounding, jsontext
from toolforge.validate.arguments import CompiledTool, compile_tool
from toolforge.validate.evidence import ToolInfo, tool_info
from toolforge.validate.issues import Issue
from toolforge.validate.provenance import check_provenance as _check_provenance

ROLES = ("system", "user", "assistant", "tool")
_THINK_OK = re.compile(r"\s*<think>(?:(?!</?think>).)*</think>(?:(?!</?think>).)*\Z", re.S)
_THINK_BLOCK = re.compile(r"\s*<think>.*?</think>", re.S)


@dataclass
class Shape:
    """What the walk over messages saw; the scenario checks read it."""

    n_tools: int = 0
    call_turns: list[tuple[int, list[dict[str, Any]]]] = field(default_factory=list)  # (msg index, [{name, args}])
    results: list[tuple[int, str]] = field(default_factory=list)  # (msg index, content)
    max_reasoning: int = 0
    final_answer: str | None = None
    n_assistant: int = 0

    @property
    def n_calls(self) -> int:
        return sum(len(c) for _, c in self.call_turns)


_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_RUNAWAY = re.compile(r"([.,;:!?])\1{7,}")


def incomplete(answer: str) -> str | None:
    """Why a final answer is not whole, or None: it stops on an opening bracket, a comma or a colon with
    nothing after it, or runs into a long run of one punctuation mark (a reply that hit its token limit;
    Qwen2.5-Coder ended an answer with '.....................{'). Code blocks are left out."""
    text = _FENCE.sub(" CODE ", answer).rstrip()
    if not text:
        return None
    if _RUNAWAY.search(text):
        return "the answer runs into a long run of one punctuation mark: a reply that ran away, not a whole answer"
    if text[-1] in "{[(,:":
        return f"the answer stops on {text[-1]!r}: it is cut off, not whole"
    return None


def _text(content: Any) -> str | None:
    """Message content as text: a string, or the text parts of a list of parts."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, dict) and isinstance(p.get("text"), str):
                parts.append(p["text"])
            elif isinstance(p, str):
                parts.append(p)
            else:
                return None
        return "".join(parts)
    return None


def normalise_tool(tool: Any) -> Any:
    if isinstance(tool, dict) and "function" not in tool and "name" in tool:
        return {"type": "function", "function": tool}
    return tool


class RecordValidator:
    """Validates records; compile once, validate many.

    ``validate(data)`` returns the issues of one record (a dict or a
    :class:`~toolforge.record.Record`). Thread-compatible (no shared mutable
    state besides the append-only caches).
    """

    def __init__(self, *, check_scenario: bool = True, check_grounding: bool = True) -> None:
        self.check_scenario = check_scenario
        self.check_grounding = check_grounding
        self._tool_cache: dict[str, CompiledTool] = {}
        self._info_cache: dict[bytes, ToolInfo | None] = {}
        self._tools_cache: dict[bytes, tuple[dict[str, CompiledTool], list[Issue], dict[str, ToolInfo]]] = {}
        self.compiled_count = 0  # how many schemas were compiled (tests and the benchmark read it)

    # -- tools ---------------------------------------------------------------------------
    def compiled(self, tool: dict[str, Any]) -> CompiledTool:
        """The compiled form of one tool definition, cached by its canonical JSON."""
        key = canonical_json(tool)
        hit = self._tool_cache.get(key)
        if hit is None:
            fn = tool.get("function") or {}
            hit = compile_tool(str(fn.get("name")), fn.get("parameters", {"type": "object", "properties": {}}))
            self._tool_cache[key] = hit
            self.compiled_count += 1
        return hit

    def _tool_info(self, tool: dict[str, Any]) -> ToolInfo | None:
        """``tool_info(tool)``, cached per tool: generation offers each record its own mix of the same
        tools, so the per-tool-set cache below misses while the tools themselves repeat."""
        try:
            key = marshal.dumps(tool, 2)  # version 2: no back-references, so equal tools give equal bytes
        except ValueError:
            return tool_info(tool)
        if key in self._info_cache:
            return self._info_cache[key]
        info = tool_info(tool)
        if len(self._info_cache) < 10_000:
            self._info_cache[key] = info
        return info

    def _tools(self, tools: list[Any]) -> tuple[dict[str, CompiledTool], list[Issue], dict[str, ToolInfo]]:
        try:  # an exact, cheap key (marshal keeps types apart: 1, 1.0, True and "1" differ)
            key: bytes | None = marshal.dumps(tools, 2)  # version 2: equal values, equal bytes (no refs)
        except ValueError:
            key = None
        if key is not None:
            hit = self._tools_cache.get(key)
            if hit is not None:
                return hit
        by_name: dict[str, CompiledTool] = {}
        issues: list[Issue] = []
        infos: dict[str, ToolInfo] = {}  # what the grounding checks need of each tool
        for i, raw in enumerate(tools):
            tool = normalise_tool(raw)
            fn = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn.get("name"):
                issues.append(Issue("tool_schema_invalid", f"tools[{i}]", "not a tool definition (no function name)"))
                continue
            name = fn["name"]
            if name in by_name:
                issues.append(Issue("duplicate_tool", f"tools[{i}].function.name", f"tool {name!r} is offered twice"))
                continue
            ct = self.compiled(tool)
            if ct.problem:
                issues.append(Issue("tool_schema_invalid", f"tools[{i}].function.parameters", f"{name}: {ct.problem}"))
            by_name[name] = ct
            info = self._tool_info(tool)
            if info is not None:
                infos[name] = info
        result = (by_name, issues, infos)
        if key is not None and len(self._tools_cache) < 10_000:
            self._tools_cache[key] = result
        return result

    def check_call_arguments(self, tool: dict[str, Any], arguments: dict[str, Any], path: str = "arguments") -> list[Issue]:
        """Issues of one call's arguments against one tool definition (used by generation re-asks)."""
        ct = self.compiled(normalise_tool(tool))
        if ct.problem:
            return [Issue("tool_schema_invalid", "parameters", f"{ct.name}: {ct.problem}")]
        return ct.check(arguments, path)

    # -- records -------------------------------------------------------------------------
    def validate(self, data: Any, *, check_scenario: bool | None = None,
                 check_grounding: bool | None = None, check_provenance: bool = True) -> list[Issue]:
        issues, _ = self.validate_with_shape(data, check_scenario=check_scenario, check_grounding=check_grounding,
                                             check_provenance=check_provenance)
        return issues

    def validate_with_shape(self, data: Any, *, check_scenario: bool | None = None,
                            check_grounding: bool | None = None,
                            check_provenance: bool = True) -> tuple[list[Issue], Shape | None]:
        if hasattr(data, "to_dict") and not isinstance(data, dict):
            data = data.to_dict()
        jsontext.forget()  # nothing parsed for an earlier record is reused
        if not isinstance(data, dict):
            return [Issue("record_invalid", "$", f"a record is a JSON object, not {type(data).__name__}")], None
        issues: list[Issue] = []
        tools = data.get("tools", [])
        if tools is None:
            tools = []
        if not isinstance(tools, list):
            issues.append(Issue("record_invalid", "tools", "tools must be a list"))
            tools = []
        by_name, tool_issues, infos = self._tools(tools)
        issues.extend(tool_issues)
        messages = data.get("messages")
        if not isinstance(messages, list) or not messages:
            what = "missing" if messages is None else ("empty" if messages == [] else "not a list")
            issues.append(Issue("record_invalid", "messages", f"messages is {what}"))
            return issues, None
        shape = Shape(n_tools=len(by_name))
        self._walk(messages, by_name, issues, shape)
        last = messages[-1]
        if (isinstance(last, dict) and last.get("role") == "assistant" and not last.get("tool_calls")
                and isinstance(shape.final_answer, str) and (why := incomplete(shape.final_answer))):
            issues.append(Issue("answer_incomplete", f"messages[{len(messages) - 1}].content", why))
        do_scenario = self.check_scenario if check_scenario is None else check_scenario
        if do_scenario and data.get("scenario") is not None:
            from toolforge.validate.scenario import check_scenario as _check

            issues.extend(_check(data.get("scenario"), shape))
        do_grounding = self.check_grounding if check_grounding is None else check_grounding
        if do_grounding:
            issues.extend(grounding.check_grounding(data.get("scenario"), messages, shape, infos))
        if check_provenance:  # copied_example / prompt_leak (toolforge.validate.provenance)
            issues.extend(_check_provenance(data))
        return issues, shape

    def _walk(self, messages: list[Any], by_name: dict[str, CompiledTool], issues: list[Issue], shape: Shape) -> None:
        pending: dict[str, tuple[str, str]] = {}  # key -> (call path, tool name)
        ids_seen: dict[str, str] = {}
        seen_user = False
        last_ok: dict[str, Any] | None = None

        def flush() -> None:
            for cpath, name in pending.values():
                issues.append(Issue("missing_tool_result", cpath, f"call to {name} has no tool message answering it"))
            pending.clear()

        for i, m in enumerate(messages):
            mp = f"messages[{i}]"
            if not isinstance(m, dict):
                issues.append(Issue("record_invalid", mp, "a message is a JSON object"))
                continue
            role = m.get("role")
            if role not in ROLES:
                issues.append(Issue("record_invalid", f"{mp}.role", f"unknown role {role!r}"))
                continue
            last_ok = m
            content = _text(m.get("content"))
            if m.get("content") is not None and content is None:
                issues.append(Issue("record_invalid", f"{mp}.content", "content must be text"))
            if role == "system":
                if i != 0:
                    issues.append(Issue("role_order", mp, "a system message is allowed only first"))
            elif role == "user":
                flush()
                seen_user = True
            elif role == "assistant":
                flush()
                shape.n_assistant += 1
                if not seen_user:
                    issues.append(Issue("role_order", mp, "assistant message before any user message"))
                self._assistant(m, mp, content or "", by_name, issues, shape, pending, ids_seen)
            else:  # tool
                self._tool_message(m, mp, content, issues, shape, pending, ids_seen)
        flush()
        if not seen_user:
            issues.append(Issue("role_order", "messages", "no user message"))
        if last_ok is None or last_ok.get("role") != "assistant" or last_ok.get("tool_calls"):
            issues.append(Issue("role_order", f"messages[{len(messages) - 1}]",
                                "the conversation does not end with a final assistant answer"))

    def _assistant(self, m: dict[str, Any], mp: str, content: str, by_name: dict[str, CompiledTool],
                   issues: list[Issue], shape: Shape, pending: dict[str, tuple[str, str]],
                   ids_seen: dict[str, str]) -> None:
        visible = content
        if "think>" in content:
            if not _THINK_OK.match(content):
                issues.append(Issue("think_format", f"{mp}.content",
                                    "unbalanced or stray <think> tags (reasoning belongs in a leading "
                                    "<think>...</think> block or the reasoning field)"))
            else:
                block = _THINK_BLOCK.match(content)
                if block:
                    shape.max_reasoning = max(shape.max_reasoning, len(block.group(0).strip()) - 15)
                    visible = content[block.end():]
        reasoning = m.get("reasoning")
        if isinstance(reasoning, str):
            if "<think>" in reasoning or "</think>" in reasoning:
                issues.append(Issue("think_format", f"{mp}.reasoning", "reasoning holds the text without <think> tags"))
            shape.max_reasoning = max(shape.max_reasoning, len(reasoning.strip()))
        elif reasoning is not None:
            issues.append(Issue("record_invalid", f"{mp}.reasoning", "reasoning must be text"))
        calls = m.get("tool_calls")
        if calls is not None and not isinstance(calls, list):
            issues.append(Issue("record_invalid", f"{mp}.tool_calls", "tool_calls must be a list"))
            calls = []
        calls = calls or []
        if not calls:
            if not visible.strip():
                issues.append(Issue("empty_answer", f"{mp}.content", "assistant message with no text and no tool call"))
            shape.final_answer = visible
            return
        turn: list[dict[str, Any]] = []
        for j, call in enumerate(calls):
            cp = f"{mp}.tool_calls[{j}]"
            if not isinstance(call, dict):
                issues.append(Issue("record_invalid", cp, "a tool call is a JSON object"))
                continue
            fn: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else call
            name = fn.get("name")
            if not isinstance(name, str) or not name:
                issues.append(Issue("record_invalid", f"{cp}.function.name", "a tool call needs a function name"))
                continue
            cid = call.get("id")
            key = f"#{mp}.{j}"
            if isinstance(cid, str) and cid:
                if cid in ids_seen:
                    issues.append(Issue("duplicate_call_id", f"{cp}.id", f"call id {cid!r} is also used at {ids_seen[cid]}"))
                else:
                    ids_seen[cid] = cp
                    key = cid
            elif cid is not None:
                issues.append(Issue("record_invalid", f"{cp}.id", "a call id is a non-empty string"))
            pending[key] = (cp, name)
            args = fn.get("arguments", {})
            ap = f"{cp}.function.arguments"
            if isinstance(args, str):
                try:
                    args = json.loads(args) if args.strip() else {}
                except json.JSONDecodeError as exc:
                    issues.append(Issue("json_invalid", ap, f"arguments of {name} are not JSON: {exc.msg} at column {exc.colno}"))
                    args = None
            elif args is None:
                args = {}
            if args is not None and not isinstance(args, dict):
                issues.append(Issue("json_invalid", ap, f"arguments of {name} must be a JSON object, not {type(args).__name__}"))
                args = None
            turn.append({"name": name, "arguments": args if args is not None else {},
                         "id": cid if isinstance(cid, str) else None})
            tool = by_name.get(name)
            if tool is None:
                offered = ", ".join(sorted(by_name)) or "none"
                issues.append(Issue("unknown_tool", f"{cp}.function.name", f"{name!r} is not offered in this record (offered: {offered})"))
                continue
            if args is not None:
                issues.extend(tool.check(args, ap))
        shape.call_turns.append((int(mp[9:-1]), turn))

    def _tool_message(self, m: dict[str, Any], mp: str, content: str | None, issues: list[Issue], shape: Shape,
                      pending: dict[str, tuple[str, str]], ids_seen: dict[str, str]) -> None:
        tcid = m.get("tool_call_id")
        name = m.get("name")
        matched: tuple[str, str] | None = None
        if isinstance(tcid, str) and tcid:
            matched = pending.pop(tcid, None)
            if matched is None:
                why = ("answers a call of an earlier turn or one already answered" if tcid in ids_seen
                       else "no call has this id")
                issues.append(Issue("orphan_tool_result", f"{mp}.tool_call_id", f"tool result for {tcid!r}: {why}"))
        else:
            for key, (_cp, cname) in list(pending.items()):
                if key.startswith("#") and (name is None or name == cname):
                    matched = pending.pop(key)
                    break
            if matched is None:
                issues.append(Issue("orphan_tool_result", mp, "tool message matches no pending call"))
        if matched is not None and isinstance(name, str) and name and name != matched[1]:
            issues.append(Issue("tool_name_mismatch", f"{mp}.name", f"tool message names {name!r} but its call is to {matched[1]!r}"))
        text = content or ""
        stripped = text.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                jsontext.loads(text)  # json.loads, parsed once per record (the later checks read it too)
            except json.JSONDecodeError as exc:
                issues.append(Issue("json_invalid", f"{mp}.content", f"tool result looks like JSON but is not: {exc.msg}"))
        shape.results.append((int(mp[9:-1]), text))
