"""Reference turns from records, and lining predictions up with them."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

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
    """Records from a JSON Lines file, keyed by the ``id`` they give (else their content id)."""
    from toolforge.importers import ConversionError
    from toolforge.importers.native import convert

    out: list[tuple[str, Record]] = []
    bad: list[str] = []
    for line in read_jsonl(path):
        if line.error:
            bad.append(f"line {line.number}: {line.error}")
            continue
        if isinstance(line.value, dict) and "question" in line.value and "function" in line.value:
            raise InputError(f"{path}: line {line.number} is a BFCL question, not a record",
                             hint="score BFCL files with --bfcl")
        try:
            rec = convert(line.value)
        except ConversionError as exc:
            bad.append(f"line {line.number}: {exc}")
            continue
        given = line.value.get("id") if isinstance(line.value, dict) else None
        out.append((given if isinstance(given, str) and given else str(rec.id), rec))
    if bad:
        more = f" ({len(bad) - 1} more bad lines)" if len(bad) > 1 else ""
        raise InputError(f"{path}: {bad[0]}{more}", hint="references must be records in the toolforge or OpenAI format")
    if not out:
        raise InputError(f"{path}: no reference records in the file")
    return out


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


