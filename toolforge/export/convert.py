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
#: The one default of ``export`` and ``push``: ``<think>`` in ``content`` is read by every chat
#: template (Qwen3-style templates also split it back out into their reasoning block), while
#: ``reasoning_content`` is read only by templates written for it (README: Reasoning).
DEFAULT_THINK = "tags"


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


class Inexpressible(ValueError):
    """A record that a target format cannot hold as it is (``code`` says why); exporters skip and count it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


#: How LLaMA-Factory joins several tool results into one observation turn (its OpenAI-format
#: converter, src/llamafactory/data/converter.py, OpenAIDatasetConverter).
SHAREGPT_RESULTS_SEPARATOR = "\n</tool_response>\n<tool_response>\n"
SHAREGPT_ODD = ("human", "observation")        # positions 0, 2, 4, ... (LLaMA-Factory's "odd" turns)
SHAREGPT_EVEN = ("gpt", "function_call")       # positions 1, 3, 5, ...


def sharegpt_alternates(conversations: list[dict[str, str]]) -> bool:
    """LLaMA-Factory's acceptance rule for a sharegpt row (SharegptDatasetConverter in
    src/llamafactory/data/converter.py): turn ``i`` is human/observation when ``i`` is even and
    gpt/function_call when odd, and there is an even number of turns (it ends on the model)."""
    accept = (SHAREGPT_ODD, SHAREGPT_EVEN)
    return (len(conversations) % 2 == 0
            and all(t.get("from") in accept[i % 2] for i, t in enumerate(conversations)))


def _thought(parts: list[str]) -> str:
    # LLaMA-Factory's default thought words are "<think>\n" and "\n</think>\n\n"
    text = "\n\n".join(p.strip() for p in parts if p and p.strip())
    return f"<think>\n{text}\n</think>\n\n" if text else ""


def sharegpt_conversation(record: Record, *, think: str = "tags") -> dict[str, Any]:
    """LLaMA-Factory's sharegpt-with-tools form: ``conversations`` of ``{from, value}``, ``system``, ``tools``.

    Roles alternate as LLaMA-Factory requires (``human``/``observation`` at even positions,
    ``gpt``/``function_call`` at odd ones, ending on the model):

    - an assistant turn with calls is one ``function_call`` whose value is the JSON call (a list
      for parallel calls), preceded by a ``<think>`` block when the turn has reasoning or text
      (LLaMA-Factory reads a function_call value as an optional thought plus the JSON; a turn's
      text has nowhere else to go there, its own OpenAI converter drops it);
    - an assistant turn without calls is one ``gpt`` turn, its reasoning as a leading ``<think>`` block;
    - consecutive tool results are one ``observation``, joined as LLaMA-Factory's converter joins them.

    ``think="drop"`` leaves reasoning out (``field`` is read as ``tags``: sharegpt has no
    reasoning field). Raises :class:`Inexpressible` for a record whose turns cannot alternate
    (a system message after the first turn, a conversation that starts with the model or does
    not end with it, two user turns in a row).
    """
    keep_reasoning = think != "drop"
    system = ""
    conv: list[dict[str, str]] = []
    pending_tools: list[str] = []

    def flush_tools() -> None:
        if pending_tools:
            conv.append({"from": "observation", "value": SHAREGPT_RESULTS_SEPARATOR.join(pending_tools)})
            pending_tools.clear()

    for i, m in enumerate(record.messages):
        role = m.role
        if role == "system":
            if i == 0:
                system = m.content or ""
                continue
            raise Inexpressible("sharegpt_system_turn", f"messages[{i}]: a system message after the first turn")
        if role == "tool":
            pending_tools.append(m.content or "")
            continue
        flush_tools()
        reasoning = m.reasoning if keep_reasoning else None
        if role == "user":
            conv.append({"from": "human", "value": m.content or ""})
        elif m.tool_calls:
            calls = [{"name": c.name, "arguments": c.arguments} for c in m.tool_calls]
            value = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
            conv.append({"from": "function_call", "value": _thought([reasoning or "", m.content or ""]) + value})
        else:
            conv.append({"from": "gpt", "value": _thought([reasoning or ""]) + (m.content or "")})
    flush_tools()
    if not sharegpt_alternates(conv):
        roles = ", ".join(t["from"] for t in conv)
        raise Inexpressible("sharegpt_roles", f"turns do not alternate user/model as LLaMA-Factory requires ({roles})")
    return {
        "conversations": conv,
        "system": system,
        "tools": json.dumps([t["function"] for t in record.tools_dump()], ensure_ascii=False),
    }
