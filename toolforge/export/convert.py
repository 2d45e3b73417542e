"""Pure conversions from a :class:`Record` to the shapes the export formats need.

``think`` says what happens to an assistant message's ``reasoning``:

- ``tags``: prepended to ``content`` as ``<think>...</think>`` (what Qwen3/DeepSeek-style
  templates train on),
- ``field``: kept as ``reasoning_content`` (the key chat templates such as Qwen3's read),
- ``drop``: removed.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from toolforge.record import Record

Think = Literal["tags", "field", "drop"]
THINK_MODES: tuple[str, ...] = ("tags", "field", "drop")


def with_reasoning(msg: dict[str, Any], think: str) -> dict[str, Any]:
    """Apply the ``think`` mode to one message dict (returns a new dict)."""
    out = dict(msg)
    reasoning = out.pop("reasoning", None)
    if not reasoning or out.get("role") != "assistant":
        return out
    if think == "tags":
        content = out.get("content") or ""
        out["content"] = f"<think>\n{reasoning}\n</think>\n\n{content}" if content else f"<think>\n{reasoning}\n</think>"
    elif think == "field":
        out["reasoning_content"] = reasoning
    return out


def chat_messages(record: Record, *, think: str = "tags") -> list[dict[str, Any]]:
    """Messages in the Hugging Face chat-template form (arguments as JSON objects)."""
    out = []
    for m in record.messages_dump():
        m = with_reasoning(m, think)
        if m.get("role") == "assistant" and m.get("tool_calls") and m.get("content") is None:
            m["content"] = ""
        out.append(m)
    return out


def openai_messages(record: Record, *, think: str = "tags") -> list[dict[str, Any]]:
    """Messages as the OpenAI chat API and fine-tuning files want them.

    Tool-call ``arguments`` become JSON strings; an assistant turn that only calls
    tools has ``content: null``; tool results keep ``tool_call_id`` only.
    """
    out = []
    for m in record.messages_dump():
        m = with_reasoning(m, think)
        if m.get("tool_calls"):
            m["tool_calls"] = [
                {"id": c["id"], "type": "function",
                 "function": {"name": c["function"]["name"],
                              "arguments": json.dumps(c["function"].get("arguments", {}), ensure_ascii=False)}}
                for c in m["tool_calls"]
            ]
            if not m.get("content"):
                m["content"] = None
        if m.get("role") == "tool":
            m.pop("name", None)
            m.setdefault("content", "")
        out.append(m)
    return out


SHAREGPT_ROLES = {"user": "human", "assistant": "gpt", "tool": "observation", "system": "system"}


def sharegpt_conversation(record: Record, *, think: str = "tags") -> dict[str, Any]:
    """LLaMA-Factory's ShareGPT form: ``conversations`` of ``{from, value}``, ``system``, ``tools``.

    An assistant turn with calls becomes ``gpt`` (its text, when any) followed by
    ``function_call`` whose value is the JSON call (a list for parallel calls);
    tool results are ``observation``. ``tools`` is a JSON string of the function
    definitions.
    """
    system = ""
    conv: list[dict[str, str]] = []
    for m in record.messages_dump():
        m = with_reasoning(m, "tags" if think == "field" else think)
        role = m["role"]
        if role == "system" and not conv:
            system = m.get("content") or ""
            continue
        if role == "assistant" and m.get("tool_calls"):
            if m.get("content"):
                conv.append({"from": "gpt", "value": m["content"]})
            calls = [{"name": c["function"]["name"], "arguments": c["function"].get("arguments", {})}
                     for c in m["tool_calls"]]
            value = calls[0] if len(calls) == 1 else calls
            conv.append({"from": "function_call", "value": json.dumps(value, ensure_ascii=False)})
            continue
        conv.append({"from": SHAREGPT_ROLES[role], "value": m.get("content") or ""})
    return {
        "conversations": conv,
        "system": system,
        "tools": json.dumps([t["function"] for t in record.tools_dump()], ensure_ascii=False),
    }
