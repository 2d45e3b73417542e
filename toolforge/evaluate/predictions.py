"""Predictions files: one JSON object per scored turn.

``{"id": REFERENCE_ID, "turn": INDEX_OF_THE_ASSISTANT_MESSAGE, "output": "raw model text"}``
or the same with ``"tool_calls": [{"name", "arguments"}]`` instead of ``output``
(``arguments`` as an object or a JSON string; the OpenAI ``{"function": {...}}``
shape is accepted too). ``turn`` may be left out when the reference has one
scored turn (BFCL entries, ``--first-turn-only``).

Raw outputs are parsed with a family parser in strict mode
(:func:`toolforge.formats.get_parser` with ``strict=True``): an output that is
readable only after repair (an unterminated call closed, trailing commas, a
Python literal for JSON) counts as invalid JSON and as no valid call.
Structured calls are taken as they are. A prediction becomes a
:class:`Resolved`: the calls, whether the output tried to call a tool, and
whether what it tried parsed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolforge.errors import InputError, UsageError
from toolforge.io import safejson
from toolforge.io.jsonl import read_jsonl


@dataclass
class Prediction:
    id: str
    turn: int | None
    line: int
    output: str | None = None
    tool_calls: list[Any] | None = None


@dataclass
class Resolved:
    calls: list[dict[str, Any]]   # parsed calls (empty when none or unparseable)
    attempted: bool               # the output contains a call, parseable or not
    valid: bool                   # what it attempted parsed (True when nothing was attempted)
    error: str | None = None      # why it did not parse


def load_predictions(path: str | Path) -> list[Prediction]:
    """Read a predictions file; every malformed line is reported (by number) in one error."""
    preds: list[Prediction] = []
    bad: list[str] = []
    for line in read_jsonl(path):
        if line.error:
            bad.append(f"line {line.number}: {line.error}")
            continue
        try:
            preds.append(_one(line.value, line.number))
        except ValueError as exc:
            bad.append(f"line {line.number}: {exc}")
    if bad:
        more = f" ({len(bad) - 1} more bad lines)" if len(bad) > 1 else ""
        raise InputError(f"{path}: {bad[0]}{more}",
                         hint='each line must be {"id", "turn", "output"} or {"id", "turn", "tool_calls": [...]}')
    if not preds:
        raise InputError(f"{path}: no predictions in the file")
    return preds


def _one(value: Any, number: int) -> Prediction:
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    rid = value.get("id")
    if not isinstance(rid, str) or not rid:
        raise ValueError('missing "id" (the reference record id)')
    turn = value.get("turn")
    if turn is not None and (not isinstance(turn, int) or isinstance(turn, bool) or turn < 0):
        raise ValueError(f'"turn" must be a message index (an integer >= 0), got {turn!r}')
    has_out, has_calls = "output" in value, "tool_calls" in value
    if not has_out and not has_calls:
        raise ValueError('needs "output" (raw text) or "tool_calls"')
    output = value.get("output")
    if has_out and output is not None and not isinstance(output, str):
        raise ValueError('"output" must be a string')
    calls = value.get("tool_calls")
    if has_calls and calls is not None:
        if not isinstance(calls, list):
            raise ValueError('"tool_calls" must be a list')
        for i, c in enumerate(calls):
            c = c.get("function", c) if isinstance(c, dict) else c
            if not isinstance(c, dict) or not isinstance(c.get("name"), str):
                raise ValueError(f'tool_calls[{i}] needs a "name" string')
    return Prediction(id=rid, turn=turn, line=number, output=output if has_out else None,
                      tool_calls=calls if has_calls else None)


def structured_calls(calls: list[Any]) -> Resolved:
    """Calls given as data: valid unless an ``arguments`` string is not a JSON object."""
    out: list[dict[str, Any]] = []
    for c in calls:
        fn = c.get("function", c)
        args = fn.get("arguments", {})
        if isinstance(args, str):
            try:
                args = safejson.loads(args) if args.strip() else {}
            except json.JSONDecodeError as exc:
                return Resolved([], attempted=True, valid=False, error=f"arguments of {fn['name']!r}: {exc}")
        if not isinstance(args, dict):
            return Resolved([], attempted=True, valid=False, error=f"arguments of {fn['name']!r} are not an object")
        out.append({"name": fn["name"], "arguments": args})
    return Resolved(out, attempted=bool(out), valid=True)


Parser = Callable[[str], list[dict[str, Any]]]


def get_family_parser(family: str | None, *, strict: bool = True) -> Parser | None:
    """The family's parser (strict by default: scores count what the model wrote, not a repair),
    or None when no family is named (UnknownFamilyError for a bad name)."""
    if family is None:
        return None
    from toolforge.formats import get_parser

    return get_parser(family, strict=strict)


def resolve(pred: Prediction | None, parser: Parser | None) -> Resolved:
    """Turn a prediction into calls. A missing prediction is an empty output."""
    if pred is None:
        return Resolved([], attempted=False, valid=True)
    if pred.tool_calls is not None:
        return structured_calls(pred.tool_calls)
    text = pred.output or ""
    if not text.strip():
        return Resolved([], attempted=False, valid=True)
    if parser is None:
        raise UsageError("raw outputs need a family parser to read their calls",
                         hint="pass --family (e.g. --family hermes), or give tool_calls in the predictions file")
    from toolforge.formats import ParseError

    try:
        calls = parser(text)
    except ParseError as exc:
        return Resolved([], attempted=True, valid=False, error=str(exc))
    norm = []
    for c in calls:
        args = c.get("arguments", {})
        if not isinstance(args, dict):
            return Resolved([], attempted=True, valid=False, error=f"arguments of {c.get('name')!r} are not an object")
        norm.append({"name": c["name"], "arguments": args})
    return Resolved(norm, attempted=bool(norm), valid=True)


def prediction_line(rid: str, turn: int | None, *, output: str | None = None,
                    tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One line of a predictions file (what ``toolforge eval --model`` writes)."""
    row: dict[str, Any] = {"id": rid}
    if turn is not None:
        row["turn"] = turn
    if tool_calls is not None:
        row["tool_calls"] = [{"name": c["name"], "arguments": c["arguments"]} for c in tool_calls]
    if output is not None:
        row["output"] = output
    return row
