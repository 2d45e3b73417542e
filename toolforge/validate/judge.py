"""The semantic check: an LLM judge (any teacher backend) decides whether calls and answer fit the request.

The judge sees the offered tools, the conversation (calls with their
arguments, tool results, the final answer) and answers
``{"verdict": "pass"|"fail", "reason": ...}`` (structured output where the
backend supports it). A ``fail`` becomes a ``judge_reject`` issue (error)
with the judge's reason; an unreadable answer a ``judge_error`` warning. In
a store the verdict and reason are also kept in ``judge_verdicts``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolforge.validate.issues import Issue

log = logging.getLogger(__name__)

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"verdict": {"type": "string", "enum": ["pass", "fail"]},
                   "reason": {"type": "string", "maxLength": 400}},
    "required": ["verdict", "reason"],
    "additionalProperties": False,
}
MAX_TEXT = 1500


@lru_cache(maxsize=1)
def _template() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    return env.from_string((Path(__file__).parent / "prompts" / "judge.j2").read_text(encoding="utf-8"))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " [...]"


def judge_prompt(record: Any) -> str:
    """The judge's prompt for one record (a Record or a record dict)."""
    d = record.to_dict() if hasattr(record, "to_dict") and not isinstance(record, dict) else record
    tools = [{"name": t["function"]["name"], "description": t["function"].get("description", "")}
             for t in d.get("tools") or []]
    msgs = []
    for m in d.get("messages") or []:
        calls = [f"{(c.get('function') or {}).get('name')}({json.dumps((c.get('function') or {}).get('arguments'), ensure_ascii=False)})"
                 for c in m.get("tool_calls") or []]
        msgs.append({"role": m.get("role"), "text": _clip(m.get("content") or ""), "calls": calls})
    return str(_template().render(tools=tools, messages=msgs))


def parse_verdict(text: str) -> tuple[str, str]:
    """``(verdict, reason)`` from the judge's reply; verdict ``error`` when it cannot be read."""
    from toolforge.formats._common import loads_tolerant

    s = text.strip()
    start = s.find("{")
    value: Any = None
    if start >= 0:
        try:
            value = loads_tolerant(s[start: s.rfind("}") + 1] if "}" in s[start:] else s[start:])
        except ValueError:
            value = None
    if isinstance(value, dict) and str(value.get("verdict", "")).lower() in ("pass", "fail"):
        return str(value["verdict"]).lower(), str(value.get("reason") or "")[:400]
    return "error", f"unreadable judge reply: {s[:120]!r}"


class Judge:
    """Judges records one at a time through a teacher; :meth:`close` when done."""

    def __init__(self, teacher: Any, *, spec: str | None = None, max_tokens: int = 200) -> None:
        self.teacher = teacher
        self.spec = spec or getattr(teacher, "name", "judge")
        self.max_tokens = max_tokens
        self._loop = asyncio.new_event_loop()
        self.verdicts: list[tuple[str | None, str, str]] = []  # (record id, verdict, reason)

    @classmethod
    def from_spec(cls, spec: str, **options: Any) -> Judge:
        from toolforge.backends import load_teacher

        return cls(load_teacher(spec, **options), spec=spec)

    async def _ask(self, prompt: str) -> str:
        from toolforge.backends import ChatRequest

        req = ChatRequest(
            messages=[{"role": "user", "content": prompt}],
            response_schema=VERDICT_SCHEMA if getattr(self.teacher, "supports_schema", False) else None,
            temperature=0.0, max_tokens=self.max_tokens, seed=0,
        )
        resp = await self.teacher.chat(req)
        return str(resp.text or "")

    def verdict(self, record: Any) -> tuple[str, str]:
        """``(verdict, reason)`` for one record: pass, fail, or error (the judge failed)."""
        from toolforge.errors import ToolforgeError

        try:
            text = self._loop.run_until_complete(self._ask(judge_prompt(record)))
        except ToolforgeError as exc:
            return "error", f"judge failed: {exc.message}"[:400]
        except Exception as exc:  # a backend's transport error must not stop a whole validation run
            log.warning("judge failed on a record: %s", exc)
            return "error", f"judge failed: {type(exc).__name__}: {exc}"[:400]
        return parse_verdict(text)

    def check(self, record: Any) -> list[Issue]:
        verdict, reason = self.verdict(record)
        self.verdicts.append((getattr(record, "id", None), verdict, reason))
        if verdict == "fail":
            return [Issue("judge_reject", "$", f"{self.spec}: {reason}")]
        if verdict == "error":
            return [Issue("judge_error", "$", reason, severity="warning")]
        return []

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.run_until_complete(self.teacher.aclose())
        finally:
            self._loop.close()


def judge_store(store: Any, selection: Any = None, *, teacher: Any, results: list[Any] | None = None,
                batch_size: int = 100) -> Any:
    """Judge the selected records; issues go to stage ``judge``, verdicts to ``judge_verdicts``."""
    from toolforge.validate.run import Summary

    judge = Judge.from_spec(teacher) if isinstance(teacher, str) else Judge(teacher)
    summary = Summary("judge")
    batch: list[tuple[str, list[Issue]]] = []
    rows: list[tuple[Any, ...]] = []

    def flush() -> None:
        store.replace_issues("judge", batch)
        with store.transaction() as con:
            con.executemany(
                "INSERT INTO judge_verdicts (record_id, judge, verdict, reason) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (record_id, judge) DO UPDATE SET verdict = excluded.verdict, "
                "reason = excluded.reason, judged_at = now()", rows)
        batch.clear()
        rows.clear()

    try:
        for rec in store.iter_records(selection):
            issues = judge.check(rec)
            _, verdict, reason = judge.verdicts[-1]
            summary.add(issues)
            batch.append((rec.id, issues))
            rows.append((rec.id, judge.spec, verdict, reason))
            if results is not None and issues:
                results.append((rec.id, issues))
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    finally:
        judge.close()
    return summary
