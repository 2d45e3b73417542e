"""Teacher output (a plan, see :mod:`toolforge.generate.schema`) -> a :class:`Record`.

Parsing is lenient about what the validators judge better (tool names,
argument types) and strict about the plan's own shape; every problem is an
``Issue`` so that the runner can re-ask with it and store it as the reason.
Model output is data: it is only ever ``json.loads``-ed, never evaluated.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from toolforge.generate.plan import Job
from toolforge.record import Record

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


class PlanIssue:
    """Same fields as ``toolforge.validate.Issue`` (code, path, message, severity)."""

    __slots__ = ("code", "message", "path", "severity")

    def __init__(self, code: str, path: str, message: str, severity: str = "error") -> None:
        self.code, self.path, self.message, self.severity = code, path, message, severity

    def __repr__(self) -> str:
        return f"PlanIssue({self.code!r}, {self.path!r}, {self.message!r})"


def load_json(text: str) -> tuple[Any, list[PlanIssue]]:
    m = _FENCE.match(text)
    if m:
        text = m.group(1)
    from toolforge.io import safejson

    try:  # the safe reader: NaN/Infinity, nesting past the limit and huge replies are not JSON either
        return safejson.loads(text), []
    except json.JSONDecodeError as exc:
        what = "truncated" if exc.pos >= len(text.rstrip()) - 1 else "invalid"
        return None, [PlanIssue("json_invalid", "$", f"the reply is not valid JSON ({what}: {exc.msg} at char {exc.pos})")]


def _calls(value: Any, path: str, issues: list[PlanIssue]) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        issues.append(PlanIssue("plan_shape", path, "expected a list of calls"))
        return []
    out = []
    for j, call in enumerate(value):
        cp = f"{path}[{j}]"
        if not isinstance(call, dict) or not isinstance(call.get("name"), str) or not call.get("name"):
            issues.append(PlanIssue("plan_shape", cp, "a call is an object with a 'name', 'arguments' and 'result'"))
            continue
        args = call.get("arguments", {})
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except json.JSONDecodeError:
                issues.append(PlanIssue("json_invalid", f"{cp}.arguments", "arguments are not a JSON object"))
                continue
        if not isinstance(args, dict):
            issues.append(PlanIssue("json_invalid", f"{cp}.arguments", "arguments must be a JSON object"))
            continue
        out.append({"name": call["name"], "arguments": args, "result": call.get("result", {})})
    return out


def plan_turns(plan: dict[str, Any], job: Job, issues: list[PlanIssue]) -> list[list[dict[str, Any]]]:
    if job.scenario == "no_tool_needed" and plan.get("turns") is None:
        return []
    if job.scenario == "error_recovery":
        turns = [_calls(plan.get("failed"), "failed", issues)] if "failed" in plan else []
        if not turns:
            issues.append(PlanIssue("plan_shape", "failed", "error_recovery needs the failed call"))
        if plan.get("retry") is not None:
            turns.append(_calls(plan["retry"], "retry", issues))
        return [t for t in turns if t]
    raw = plan.get("turns")
    if not isinstance(raw, list) or not raw:
        issues.append(PlanIssue("plan_shape", "turns", "expected a non-empty list of turns (lists of calls)"))
        return []
    if all(isinstance(t, dict) for t in raw):  # a flat list of calls: one per turn
        raw = [[t] for t in raw]
    return [c for i, t in enumerate(raw) if (c := _calls(t, f"turns[{i}]", issues))]


def _result_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False)


def build_record(plan: Any, job: Job, meta: dict[str, Any]) -> tuple[Record | None, list[PlanIssue]]:
    """A record from a parsed plan, or the issues that prevent one."""
    messages, issues = plan_messages(plan, job)
    if messages is None:
        return None, issues
    rec, more = record_from_messages(messages, job, meta)
    return rec, issues + more


def record_from_messages(messages: list[dict[str, Any]], job: Job,
                         meta: dict[str, Any]) -> tuple[Record | None, list[PlanIssue]]:
    try:
        rec = Record.model_validate({"scenario": job.scenario, "tools": list(job.tools),  # Tool models: not re-validated
                                     "messages": messages, "meta": meta})
    except ValidationError as exc:
        err = exc.errors()[0]
        return None, [PlanIssue("record_invalid", ".".join(str(p) for p in err["loc"]), err["msg"])]
    return rec, []


def plan_messages(plan: Any, job: Job) -> tuple[list[dict[str, Any]] | None, list[PlanIssue]]:
    """The record's messages (plain dicts) from a parsed plan, or the issues that prevent them."""
    if not isinstance(plan, dict):
        return None, [PlanIssue("plan_shape", "$", "the reply must be a JSON object")]
    issues: list[PlanIssue] = []
    user: Any = plan.get("user")
    answer: Any = plan.get("answer")
    if not isinstance(user, str) or not user.strip():
        issues.append(PlanIssue("plan_shape", "user", "'user' must be the user's message (text)"))
    if not isinstance(answer, str) or not answer.strip():
        issues.append(PlanIssue("plan_shape", "answer", "'answer' must be the assistant's final answer (text)"))
    reasoning = plan.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, str):
        issues.append(PlanIssue("plan_shape", "reasoning", "'reasoning' must be text"))
        reasoning = None
    turns = plan_turns(plan, job, issues)
    if issues:
        return None, issues
    allowed = {t.function.name for t in job.callable}
    for i, turn in enumerate(turns):
        for j, call in enumerate(turn):
            if call["name"] not in allowed and call["name"] in {t.function.name for t in job.distractors}:
                issues.append(PlanIssue("distractor_called", f"turns[{i}][{j}].name",
                                        f"{call['name']} is a distractor here: call only {', '.join(sorted(allowed))}"))
    messages: list[dict[str, Any]] = [{"role": "system", "content": job.system_prompt},
                                      {"role": "user", "content": user.strip()}]
    n = 0
    for i, turn in enumerate(turns):
        calls = []
        for call in turn:
            n += 1
            calls.append({"id": f"call_{n}", "type": "function",
                          "function": {"name": call["name"], "arguments": call["arguments"]}})
        msg: dict[str, Any] = {"role": "assistant", "content": "", "tool_calls": calls}
        if i == 0 and reasoning and reasoning.strip():
            msg["reasoning"] = reasoning.strip()
        messages.append(msg)
        for c, call in zip(calls, turn, strict=True):
            messages.append({"role": "tool", "tool_call_id": c["id"], "name": call["name"],
                             "content": _result_text(call["result"])})
    final: dict[str, Any] = {"role": "assistant", "content": answer.strip()}
    if not turns and reasoning and reasoning.strip():
        final["reasoning"] = reasoning.strip()
    messages.append(final)
    return messages, issues
