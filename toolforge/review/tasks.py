"""Turn a record into a Label Studio task (pure functions, no network).

A task carries the record id in both ``data`` and ``meta`` (Label Studio makes
a new task on every import, so toolforge syncs by that id), the conversation as
dialogue lines, and a prediction that pre-fills the editable boxes with the
final answer and each call's arguments as JSON.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any
from urllib.parse import quote

from toolforge.record import Record
from toolforge.review.config import MAX_CALL_SLOTS, OBJECT_NAME

MODEL_VERSION = "toolforge"


def format_call(name: str, arguments: dict[str, Any]) -> str:
    """``get_weather(city="Oslo", days=2)``: a call as a person reads it."""
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    return f"{name}({args})"


def args_json(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, ensure_ascii=False)


def tools_text(record: Record) -> str:
    lines = []
    for tool in record.tools:
        params = tool.function.parameters or {}
        required = set(params.get("required") or [])
        names = [f"{p}{'*' if p in required else ''}" for p in (params.get("properties") or {})]
        lines.append(f"{tool.name}({', '.join(names)}): {tool.function.description}".rstrip(": "))
    return "\n".join(lines) or "(no tools offered)"


def dialogue(record: Record, audio: dict[int, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One line per message (and per tool call); ``audio`` maps message index -> {start, end}."""
    lines: list[dict[str, Any]] = []
    call_no = 0
    for i, msg in enumerate(record.messages):
        timing = (audio or {}).get(i)
        if msg.role == "assistant":
            if msg.reasoning:
                lines.append({"author": "assistant (thinking)", "text": msg.reasoning})
            if msg.content:
                spoken: dict[str, Any] = {"author": "assistant", "text": msg.content}
                if timing:
                    spoken.update(start=timing["start"], end=timing["end"])
                lines.append(spoken)
            for call in msg.tool_calls or []:
                call_no += 1
                lines.append({"author": f"assistant: tool call {call_no}",
                              "text": format_call(call.name, call.arguments)})
        elif msg.role == "tool":
            lines.append({"author": f"tool result ({msg.name or msg.tool_call_id or 'tool'})",
                          "text": msg.content or ""})
        else:
            line: dict[str, Any] = {"author": msg.role, "text": msg.content or ""}
            if timing:
                line["start"] = timing["start"]
                line["end"] = timing["end"]
            lines.append(line)
    return lines


def local_files_url(rel_path: str) -> str:
    """The URL Label Studio serves a file under LOCAL_FILES_DOCUMENT_ROOT at."""
    return "/data/local-files/?d=" + quote(rel_path, safe="/")


def version_sha(record_id: str, audio: dict[str, Any] | None) -> str:
    """What an annotation is made against: the record (its id is its content) and its audio."""
    blob = json.dumps({"record": record_id, "audio": audio or None}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def build_task(record: Record, *, kind: str = "text", audio: dict[str, Any] | None = None,
               parent: dict[str, Any] | None = None) -> dict[str, Any]:
    """The import payload for one record: ``data``, ``meta`` and a pre-fill prediction.

    ``audio`` (audio configs): ``{"url": ..., "timings": {message index: {"start", "end"}}}``
    (or ``{"url", "turn", "duration_s"}`` for a single spoken turn): the lines the player is synced to.
    ``parent``: ``{"record_id", "task_id", "revision"}`` when the record revises one pushed before.
    """
    from toolforge.review.guidance import checklist

    assert record.id is not None
    calls = record.calls
    timing = None
    if audio:
        timing = audio.get("timings") or {
            audio["turn"]: {"start": 0.0, "end": float(audio.get("duration_s") or 0.0)}}
    results = {m.tool_call_id: m.content or "" for m in record.messages if m.role == "tool" and m.tool_call_id}
    title = f"{record.scenario or 'record'} · {record.id[:15]} · {len(calls)} call(s)"
    if parent:
        rev = f"revision {parent['revision']}" if parent.get("revision") else "revision"
        title += f" · {rev} of {str(parent['record_id'])[:15]}"
    data: dict[str, Any] = {
        "record_id": record.id,
        "scenario": record.scenario or "",
        "title": title,
        "dialogue": dialogue(record, timing),
        "tools": tools_text(record),
        "tools_html": _tools_html(json.dumps(record.tools_dump(), ensure_ascii=False)),  # schema order kept
        "checklist": checklist(record.scenario),
        "revision_of": str(parent["record_id"]) if parent else "",
        "parent_task": int(parent["task_id"]) if parent and parent.get("task_id") else "",
        "review_state": "open",
        "review_feedback": "",
    }
    for i in range(1, MAX_CALL_SLOTS + 1):
        if i <= len(calls):
            has_result = calls[i - 1].id in results
            data[f"call_{i}"] = (f"Call {i}: {calls[i - 1].name}: tool name (write remove to drop the call), "
                                 f"arguments (JSON){', tool result' if has_result else ''}")
        elif i == len(calls) + 1:
            data[f"call_{i}"] = "Add a call (optional): tool name, arguments (JSON), tool result"
        else:
            data[f"call_{i}"] = ""
    if len(calls) > MAX_CALL_SLOTS:
        data[f"call_{MAX_CALL_SLOTS}"] += f" (calls after {MAX_CALL_SLOTS} are shown read-only above)"
    if kind == "audio":
        data["audio"] = audio["url"] if audio else ""
    result = []
    answer = record.final_answer
    if answer:
        result.append(_textarea("answer", answer))
    for i, call in enumerate(calls[:MAX_CALL_SLOTS], start=1):
        result.append(_textarea(f"tool_{i}", call.name))
        result.append(_textarea(f"args_{i}", args_json(call.arguments)))
        if call.id in results and results[call.id]:
            result.append(_textarea(f"result_{i}", results[call.id]))
    meta: dict[str, Any] = {"record_id": record.id,
                            "version_sha": version_sha(record.id, audio if kind == "audio" else None),
                            # what the feedback endpoint validates an annotation against (no store needed)
                            "record": {"scenario": record.scenario, "tools": record.tools_dump(),
                                       "messages": record.messages_dump()}}
    if parent:
        meta["revision_of"] = str(parent["record_id"])
    task: dict[str, Any] = {"data": data, "meta": meta}
    task["meta"]["data_sha"] = data_sha(task, result)
    if result:
        task["predictions"] = [{"model_version": MODEL_VERSION, "result": result}]
    return task


@functools.lru_cache(maxsize=256)
def _tools_html(tools_json: str) -> str:
    """The typed tools panel, built once per distinct tool set (records of a catalog share it)."""
    from toolforge.review.guidance import tools_html

    return tools_html(json.loads(tools_json))


def _textarea(name: str, text: str) -> dict[str, Any]:
    return {"from_name": name, "to_name": OBJECT_NAME, "type": "textarea", "value": {"text": [text]}}


def data_sha(task: dict[str, Any], prefill: list[dict[str, Any]]) -> str:
    blob = json.dumps({"data": task["data"], "prefill": prefill}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def task_record_id(task: dict[str, Any]) -> tuple[str | None, str | None]:
    """(record id, problem): the id from ``meta`` and ``data``, which must agree."""
    meta_id = (task.get("meta") or {}).get("record_id")
    data_id = (task.get("data") or {}).get("record_id")
    if meta_id and data_id and meta_id != data_id:
        return None, f"task {task.get('id')}: record id in meta ({meta_id}) and data ({data_id}) differ"
    rid = meta_id or data_id
    if not rid:
        return None, f"task {task.get('id')} has no record_id in data or meta (not pushed by toolforge)"
    return rid, None
