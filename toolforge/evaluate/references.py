"""Reference turns from records, and lining predictions up with them."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from toolforge.errors import InputError
from toolforge.evaluate.predictions import Prediction
from toolforge.evaluate.score import RefTurn
from toolforge.io.jsonl import read_jsonl
from toolforge.record import Record

log = logging.getLogger(__name__)


def record_turns(rid: str, rec: Record, *, first_turn_only: bool = False) -> list[RefTurn]:
    """Each assistant message of ``rec`` as a scored turn, given the messages before it."""
    from toolforge.importers.infer import infer_scenario

    scenario = rec.scenario or infer_scenario(rec)
    tools = rec.tools_dump()
    messages = rec.messages_dump()
    bfcl_answers = (rec.meta.get("bfcl") or {}).get("ground_truth") if isinstance(rec.meta.get("bfcl"), dict) else None
    turns: list[RefTurn] = []
    for i, m in enumerate(rec.messages):
        if m.role != "assistant":
            continue
        calls = [{"name": c.name, "arguments": c.arguments} for c in (m.tool_calls or [])]
        answers = bfcl_answers if (not turns and bfcl_answers and len(bfcl_answers) == len(calls)) else None
        turns.append(RefTurn(id=rid, turn=i, scenario=scenario, calls=calls, tools=tools,
                             context=messages[:i], answers=answers))
        if first_turn_only:
            break
    return turns


def turns_from_records(records: Iterable[tuple[str, Record]], *, first_turn_only: bool = False) -> list[RefTurn]:
    out: list[RefTurn] = []
    seen: set[str] = set()
    empty = 0
    for rid, rec in records:
        if rid in seen:
            raise InputError(f"reference id {rid!r} appears twice", hint="give each reference record a unique id")
        seen.add(rid)
        turns = record_turns(rid, rec, first_turn_only=first_turn_only)
        empty += not turns
        out.extend(turns)
    if empty:
        log.warning("%d reference records have no assistant message and are not scored", empty)
    if not out:
        raise InputError("the references contain no assistant message to score")
    return out


def load_reference_records(path: str | Path) -> list[tuple[str, Record]]:
    """Records from a JSON Lines file (or a ``trl`` Parquet export), keyed by the ``id`` they give
    (else their content id).

    Every export format that carries conversations reads back: toolforge records, ``openai``
    (``parallel_tool_calls``, ``reasoning_content``, arguments as strings), ``sharegpt``
    (``conversations``), ``hermes`` (``text`` in ChatML) and ``trl`` (Parquet with JSON
    messages and tools). ``lfm2-audio`` lines hold a transcript and a response, not a
    conversation with tools, and cannot serve as references.
    """
    from toolforge.importers import ConversionError

    out: list[tuple[str, Record]] = []
    bad: list[str] = []
    for number, value, error in _reference_lines(path):
        if error:
            bad.append(f"line {number}: {error}")
            continue
        if isinstance(value, dict) and "question" in value and "function" in value:
            raise InputError(f"{path}: line {number} is a BFCL question, not a record",
                             hint="score BFCL files with --bfcl")
        try:
            rec = reference_record(value)
        except ConversionError as exc:
            bad.append(f"line {number}: {exc}")
            continue
        given = value.get("id") if isinstance(value, dict) else None
        out.append((given if isinstance(given, str) and given else str(rec.id), rec))
    if bad:
        more = f" ({len(bad) - 1} more bad lines)" if len(bad) > 1 else ""
        raise InputError(f"{path}: {bad[0]}{more}",
                         hint="references must be records, or an export in the openai, sharegpt, hermes or trl format")
    if not out:
        raise InputError(f"{path}: no reference records in the file")
    return out


def _reference_lines(path: str | Path) -> Iterator[tuple[int, Any, str | None]]:
    """``(line number, value, error)`` from JSON Lines, or per row of a Parquet file."""
    if str(path) != "-" and Path(path).suffix.lower() == ".parquet":
        yield from _parquet_rows(Path(path))
        return
    for line in read_jsonl(path):
        yield line.number, line.value, line.error


def _parquet_rows(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """Rows of a ``trl`` export: ``messages`` and ``tools`` are lists of JSON texts."""
    import json

    try:
        import pyarrow.parquet as pq
    except ImportError:
        from toolforge.errors import MissingExtraError

        raise MissingExtraError("reading Parquet references (pyarrow)", extra="hub") from None
    if not path.is_file():
        raise InputError(f"file not found: {path}")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError subclasses for damaged files
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{path}: not a readable Parquet file: {first[:200]}") from None
    for i, row in enumerate(table.to_pylist(), start=1):
        try:
            for key in ("messages", "tools"):
                if isinstance(row.get(key), list):
                    row[key] = [json.loads(v) if isinstance(v, str) else v for v in row[key]]
        except ValueError as exc:
            yield i, None, f"{key} holds text that is not JSON ({exc})"
            continue
        yield i, row, None


_RECORD_KEYS = {"tools", "messages", "scenario", "meta", "id"}
_CHATML_TURN = re.compile(r"<\|im_start\|>([A-Za-z_]+)\n(.*?)<\|im_end\|>", re.DOTALL)


def reference_record(value: Any) -> Record:
    """One reference line as a record, whichever export layout it has (see :func:`load_reference_records`).

    Records and ``openai``/``trl`` rows go through the strict record model (unknown keys are
    refused) after the two OpenAI-only spellings are mapped: ``parallel_tool_calls`` is dropped
    and ``reasoning_content`` is the record's ``reasoning``.
    """
    from toolforge.importers import get_converter

    if isinstance(value, dict) and "messages" not in value:
        if isinstance(value.get("conversations"), list):
            return _with_scenario(_join_split_turns(get_converter("sharegpt")(value)), value)
        if isinstance(value.get("text"), str):
            turns = [{"from": _chatml_role(role, text), "value": text.strip("\n")}
                     for role, text in _CHATML_TURN.findall(value["text"])]
            line = {k: v for k, v in value.items() if k not in ("text", "scenario")}
            return _with_scenario(get_converter("hermes")({**line, "conversations": turns}), value)
    if isinstance(value, dict) and "messages" in value:
        value = {k: v for k, v in value.items() if k != "parallel_tool_calls" or k in _RECORD_KEYS}
        if isinstance(value["messages"], list):
            value["messages"] = [_openai_message(m) for m in value["messages"]]
    return get_converter("toolforge")(value)


def _chatml_role(role: str, text: str) -> str:
    """Hermes/Qwen ChatML sends tool results as a user turn of ``<tool_response>`` blocks."""
    if role == "user" and text.strip().startswith("<tool_response>") and text.strip().endswith("</tool_response>"):
        return "tool"
    return role


def _join_split_turns(rec: Record) -> Record:
    """One assistant turn from a text turn followed directly by a call turn (ShareGPT writes a
    turn's reasoning or text as ``gpt`` and its calls as a separate ``function_call``)."""
    msgs = rec.messages_dump()
    out: list[dict[str, Any]] = []
    for m in msgs:
        prev = out[-1] if out else None
        if (prev is not None and prev["role"] == "assistant" and m["role"] == "assistant"
                and not prev.get("tool_calls") and m.get("tool_calls") and not m.get("content")):
            merged = {**prev, **{k: v for k, v in m.items() if v not in (None, "", [])}}
            merged["content"] = prev.get("content")
            out[-1] = merged
        else:
            out.append(m)
    if len(out) == len(msgs):
        return rec
    return Record.model_validate({"scenario": rec.scenario, "tools": rec.tools_dump(), "messages": out,
                                  "meta": rec.meta})


def _openai_message(m: Any) -> Any:
    if isinstance(m, dict) and "reasoning_content" in m and "reasoning" not in m:
        m = {("reasoning" if k == "reasoning_content" else k): v for k, v in m.items()}
    return m


def _with_scenario(rec: Record, value: dict[str, Any]) -> Record:
    from toolforge.record import SCENARIOS

    given = value.get("scenario")
    if rec.scenario is None and isinstance(given, str) and given in SCENARIOS:
        return rec.model_copy(update={"scenario": given})
    return rec


def align(turns: Sequence[RefTurn], preds: Sequence[Prediction], *, allow_missing: bool = False,
          known_turns: dict[str, set[int]] | None = None) -> tuple[list[tuple[RefTurn, Prediction | None]], dict[str, int]]:
    """Pair each reference turn with its prediction.

    Raises one :class:`InputError` naming what does not line up: predictions for
    unknown ids or for turns that are not assistant messages, duplicates, and
    (unless ``allow_missing``) reference turns without a prediction.
    ``known_turns`` lists every assistant turn per id, so predictions for
    turns that exist but are not scored (``--first-turn-only``) are ignored.
    """
    by_id: dict[str, list[RefTurn]] = {}
    for t in turns:
        by_id.setdefault(t.id, []).append(t)
    found: dict[tuple[str, int], Prediction] = {}
    problems: list[str] = []
    ignored = 0
    for p in preds:
        ref_turns = by_id.get(p.id)
        if ref_turns is None:
            problems.append(f"line {p.line}: no reference with id {p.id!r}")
            continue
        turn = p.turn
        if turn is None:
            if len(ref_turns) != 1:
                problems.append(f"line {p.line}: reference {p.id!r} has {len(ref_turns)} scored turns; give \"turn\"")
                continue
            turn = ref_turns[0].turn
        if not any(t.turn == turn for t in ref_turns):
            if known_turns and turn in known_turns.get(p.id, set()):
                ignored += 1
                continue
            problems.append(f"line {p.line}: reference {p.id!r} has no assistant message at index {turn}"
                            f" (scored turns: {', '.join(str(t.turn) for t in ref_turns)})")
            continue
        if (p.id, turn) in found:
            problems.append(f"line {p.line}: a second prediction for {p.id!r} turn {turn} "
                            f"(first on line {found[(p.id, turn)].line})")
            continue
        found[(p.id, turn)] = p
    missing = [t for t in turns if (t.id, t.turn) not in found]
    if missing and not allow_missing:
        problems.append(f"{len(missing)} of {len(turns)} reference turns have no prediction "
                        f"(first: {missing[0].id!r} turn {missing[0].turn})")
    if problems:
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise InputError(f"predictions do not line up with the references: {problems[0]}{more}",
                         hint="check that the predictions were made for these references; "
                              "--allow-missing scores absent predictions as empty outputs")
    pairs = [(t, found.get((t.id, t.turn))) for t in turns]
    return pairs, {"missing": len(missing), "ignored": ignored}


def all_assistant_turns(records: Iterable[tuple[str, Record]]) -> dict[str, set[int]]:
    return {rid: {i for i, m in enumerate(rec.messages) if m.role == "assistant"} for rid, rec in records}


