"""LFM2-Audio tool-calling pairs: ``{audio, transcript, response, response_audio}`` per user turn.

One JSON line per user turn (tool and non-tool turns alike): the user's audio
and transcript, the response with the turn's tool calls marked, and the
spoken reply's audio. Three markups for the calls, as the LFM2-Audio
tool-calling note names them (calls written Python-style, as LFM2 does):

- ``tag``:    ``<tool>pan_left</tool> Looking left now.``
  (with arguments: ``<tool>get_weather(city="Oslo")</tool> ...``)
- ``lfm2``:   ``<|tool_call_start|>[pan_left()]<|tool_call_end|>Looking left now.``
- ``action``: ``ACTION:pan_left RESPONSE:Looking left now.`` (``ACTION:none`` for no call;
  several calls are joined with ``;``)

Audio paths in the lines are relative to the split file (``audio/<file>``);
files are copied from the store's audio folder. Nothing is written unless
every line has its audio (run ``toolforge tts`` first); the JSON Lines file is
written to a temporary name and renamed last.
"""

from __future__ import annotations

import ast
import json
import logging
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolforge.audio.store import audio_rows, safe_stem
from toolforge.audio.text import exchanges, text_sha
from toolforge.errors import InputError, UsageError
from toolforge.record import Record

if TYPE_CHECKING:
    from toolforge.store.db import Store

log = logging.getLogger(__name__)
MARKUPS: tuple[str, ...] = ("tag", "lfm2", "action")
LFM2_START, LFM2_END = "<|tool_call_start|>", "<|tool_call_end|>"


def py_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return "None"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {py_literal(v)}"
                               for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False, default=str)


def call_text(call: dict[str, Any], *, bare_if_no_args: bool = False) -> str:
    args = call.get("arguments") or {}
    if not args and bare_if_no_args:
        return str(call["name"])
    return f"{call['name']}(" + ", ".join(f"{k}={py_literal(v)}" for k, v in args.items()) + ")"


def render_response(calls: Sequence[dict[str, Any]], reply: str, markup: str = "tag") -> str:
    """The response text of one turn with its tool calls marked in ``markup``."""
    if markup not in MARKUPS:
        raise UsageError(f"unknown tool markup {markup!r}", hint=f"choose one of: {', '.join(MARKUPS)}")
    if markup == "action":
        action = ";".join(call_text(c, bare_if_no_args=True) for c in calls) or "none"
        return f"ACTION:{action} RESPONSE:{reply}"
    if not calls:
        return reply
    if markup == "tag":
        marked = " ".join(f"<tool>{call_text(c, bare_if_no_args=True)}</tool>" for c in calls)
        return f"{marked} {reply}".rstrip()
    return f"{LFM2_START}[{', '.join(call_text(c) for c in calls)}]{LFM2_END}{reply}"


def _parse_calls(text: str) -> list[dict[str, Any]]:
    """Python-style calls ``a(x=1), b`` -> [{"name", "arguments"}], via ast (literals only, never eval)."""
    text = text.strip()
    if not text:
        return []
    tree = ast.parse(f"[{text}]", mode="eval")
    assert isinstance(tree.body, ast.List)
    out = []
    for node in tree.body.elts:
        if isinstance(node, ast.Name):
            out.append({"name": node.id, "arguments": {}})
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
            out.append({"name": node.func.id,
                        "arguments": {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}})
        else:
            raise ValueError(f"not a call: {ast.unparse(node)}")
    return out


def parse_response(text: str, markup: str = "tag") -> tuple[list[dict[str, Any]], str]:
    """The inverse of :func:`render_response`: (calls, spoken reply). ValueError when malformed."""
    if markup == "action":
        m = re.fullmatch(r"ACTION:(.*?) RESPONSE:(.*)", text, re.S)
        if not m:
            raise ValueError("not an ACTION:... RESPONSE:... line")
        action = m.group(1).strip()
        calls = [] if action == "none" else [c for part in _split_top(action, ";") for c in _parse_calls(part)]
        return calls, m.group(2)
    if markup == "tag":
        calls = [c for body in re.findall(r"<tool>(.*?)</tool>", text, re.S) for c in _parse_calls(body)]
        return calls, re.sub(r"<tool>.*?</tool>", "", text, flags=re.S).strip()
    if markup == "lfm2":
        m = re.match(re.escape(LFM2_START) + r"\[(.*)\]" + re.escape(LFM2_END), text, re.S)
        if not m:
            return [], text
        return _parse_calls(m.group(1)), text[m.end():]
    raise UsageError(f"unknown tool markup {markup!r}", hint=f"choose one of: {', '.join(MARKUPS)}")


def _split_top(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote and (not cur or cur[-1] != "\\") else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def _export_name(row: dict[str, Any]) -> str:
    return f"{safe_stem(row['record_id'])}-t{int(row['turn']):03d}-{row['role']}{Path(row['path']).suffix}"


def write_lfm2_audio(store: Store, records: Sequence[Record | str], out_dir: Path, split: str, *,
                     markup: str = "tag", skip_failed_qc: bool = False) -> list[Path]:
    """Write ``<out_dir>/<split>.jsonl`` and copy its audio under ``<out_dir>/audio/``.

    Returns the paths written: the JSON Lines file first, then the audio files.
    Raises InputError (before writing anything) when a user turn or a spoken
    reply has no current audio; with ``skip_failed_qc`` lines whose audio failed
    QC are left out (and logged).
    """
    if markup not in MARKUPS:
        raise UsageError(f"unknown tool markup {markup!r}", hint=f"choose one of: {', '.join(MARKUPS)}")
    recs: list[Record] = []
    for r in records:
        if isinstance(r, str):
            got = store.get_record(r)
            if got is None:
                raise InputError(f"no record {r} in the store")
            recs.append(got)
        else:
            recs.append(r)
    rows = {(row["record_id"], int(row["turn"])): row for row in audio_rows(store, [r.id or "" for r in recs])}
    lines: list[dict[str, Any]] = []
    copies: dict[Path, Path] = {}
    missing: list[str] = []
    skipped = 0

    def audio_for(rid: str, turn: int, text: str) -> dict[str, Any] | None:
        row = rows.get((rid, turn))
        if row is None or row["text_sha"] != text_sha(text) or not Path(row["abs_path"]).is_file():
            missing.append(f"{rid} message {turn}")
            return None
        return row

    for rec in recs:
        assert rec.id is not None
        for ex in exchanges(rec):
            if not ex.user_text:
                missing.append(f"{rec.id} message {ex.user_index} (no text)")
                continue
            user = audio_for(rec.id, ex.user_index, ex.user_text)
            reply = audio_for(rec.id, ex.reply_index, ex.reply_text) if ex.reply_index is not None else None
            if user is None or (ex.reply_index is not None and reply is None):
                continue
            if skip_failed_qc and not (user["qc_ok"] and (reply is None or reply["qc_ok"])):
                skipped += 1
                continue
            user_rel = f"audio/{_export_name(user)}"
            reply_rel = f"audio/{_export_name(reply)}" if reply else None
            line = {"audio": user_rel, "transcript": ex.user_text,
                    "response": render_response(ex.calls, ex.reply_text, markup), "response_audio": reply_rel}
            copies[out_dir / user_rel] = Path(user["abs_path"])
            if reply and reply_rel:
                copies[out_dir / reply_rel] = Path(reply["abs_path"])
            lines.append(line)
    if missing:
        raise InputError(
            f"{len(missing)} turn(s) of the {split} split have no current audio (first: {missing[0]})",
            hint="run `toolforge tts` on these records first (with --replies per-turn); nothing was written",
        )
    if skipped:
        log.warning("left out %d turn(s) of %s whose audio failed QC", skipped, split)
    audio_dir = out_dir / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for dest, src in copies.items():
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(src, tmp)
        tmp.replace(dest)
        written.append(dest)
    path = out_dir / f"{split}.jsonl"
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return [path, *written]
