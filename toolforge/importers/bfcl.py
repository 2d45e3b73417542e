"""BFCL (Berkeley Function Calling Leaderboard) single-turn question files.

A line is ``{"id", "question": [[{"role", "content"}...]], "function": [docs]}`` with
parameters in BFCL's dialect (``dict``, ``float``, ``tuple``, ``any``), mapped with
:func:`toolforge.validate.dialect.bfcl_to_jsonschema`. Answers are read from
``possible_answer/<same file name>`` next to the question file (or from a
``ground_truth`` key on the line itself). The record's call is the first acceptable
value of each parameter; the whole ground truth is kept in ``meta.bfcl`` so that
``toolforge eval --match bfcl`` accepts every acceptable value. ``irrelevance`` entries
become ``no_tool_needed`` records whose assistant says no tool applies (a fixed text,
marked ``meta.bfcl.synthetic_answer``); ``live_relevance`` entries have no answer and are
reported as not importable. Records with calls are call-only (BFCL has no tool results).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from toolforge.importers import ConversionError
from toolforge.record import Record

NO_CALL_TEXT = "None of the available tools can do this, so I will not call one."


def _load_answers(path: Path) -> dict[str, list[Any]]:
    from toolforge.io.jsonl import read_jsonl

    afile = path.parent / "possible_answer" / path.name
    if not afile.exists():
        return {}
    out: dict[str, list[Any]] = {}
    for line in read_jsonl(afile):
        v = line.value
        if not line.error and isinstance(v, dict) and isinstance(v.get("ground_truth"), list) and "id" in v:
            out[str(v["id"])] = v["ground_truth"]
    return out


def bind_source(path: Path) -> Callable[[Any], Record]:
    """A converter that knows the answers stored next to ``path`` (used by ``import_file``)."""
    answers = _load_answers(Path(path))
    return lambda value: convert(value, answers=answers)


def convert(value: Any, *, answers: dict[str, list[Any]] | None = None) -> Record:
    from toolforge.evaluate.bfcl import ANY_CALL_CATEGORIES, NO_CALL_CATEGORIES, category_of
    from toolforge.evaluate.bfcl_match import gold_calls
    from toolforge.importers.infer import build_record, call_message, tool_from_def

    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise ConversionError('expected a BFCL question object with an "id"')
    bid = value["id"]
    try:
        category = category_of(bid)
    except Exception:
        category = "unknown"
    question = value.get("question")
    if not isinstance(question, list) or not question:
        raise ConversionError('"question" must be a list of turns')
    msgs = [m for turn in question for m in (turn if isinstance(turn, list) else [turn])]
    if not all(isinstance(m, dict) and m.get("role") in ("system", "user", "assistant")
               and isinstance(m.get("content"), str) for m in msgs):
        raise ConversionError("question messages must be {role: system|user|assistant, content: text}")
    functions = value.get("function") or []
    if not isinstance(functions, list):
        raise ConversionError('"function" must be a list of function docs')
    notes: list[str] = []
    truth = value.get("ground_truth")
    if truth is None and answers is not None:
        truth = answers.get(bid)
    meta: dict[str, Any] = {"bfcl": {"id": bid, "category": category}}
    try:
        tools = [tool_from_def(f, notes) for f in functions]
        messages = [{"role": m["role"], "content": m["content"]} for m in msgs]
        if category in NO_CALL_CATEGORIES:
            messages.append({"role": "assistant", "content": NO_CALL_TEXT})
            meta["bfcl"]["synthetic_answer"] = True
        elif category in ANY_CALL_CATEGORIES:
            raise ValueError(f"{category} entries have no ground-truth call to import")
        elif truth is None:
            raise ValueError(f"no possible answer for {bid!r} (expected possible_answer/ next to the question "
                             f"file, or a ground_truth key)")
        else:
            if not isinstance(truth, list) or not all(isinstance(a, dict) and len(a) == 1 for a in truth):
                raise ValueError("ground_truth must be a list of {function_name: {param: [values]}}")
            messages.append(call_message(gold_calls(truth), [0]))
            meta["bfcl"]["ground_truth"] = truth
            meta["call_only"] = True
        return build_record(tools, messages, source="bfcl", notes=notes, meta=meta)
    except ValueError as exc:
        raise ConversionError(str(exc)) from None
