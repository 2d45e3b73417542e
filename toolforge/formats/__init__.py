"""Chat-format renderers and tool-call parsers, one module per model family.

    from toolforge.formats import FAMILIES, get_renderer, get_parser, ParseError
    text = get_renderer("hermes")(record, add_generation_prompt=False)
    calls = get_parser("hermes")(model_output)   # [{"name": str, "arguments": dict}, ...]

A renderer writes a :class:`~toolforge.record.Record` as the family's training
text; a parser reads calls back out of model output (or a whole rendered
conversation, where it reads the assistant turns only). Parsers return ``[]``
when there is no call, raise :class:`ParseError` for call syntax they cannot
read, and never evaluate anything. Adding a family is one module with
``render``, ``parse`` and ``content`` plus one line in :data:`FAMILIES`.

Strict and repaired readings: a parser repairs what it can (an unterminated
call closed, trailing commas dropped, a single-quoted Python literal read as
JSON), which helps when reading teacher output; every repair is noted.
:func:`parse_output` returns the calls with the non-call ``content``, the
``reasoning`` block and the repairs made (``strict`` is True when there were
none); ``get_parser(family, strict=True)`` raises :class:`ParseError` (code
``repaired``) instead of repairing. ``toolforge eval`` scores the strict
reading. NaN/Infinity, text past the size limit and nesting past the depth
limit are refused by every parser, with a code (``json_invalid``, ``too_large``,
``too_deep``), never repaired.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from toolforge.errors import UsageError
from toolforge.formats._common import ParseError, guard_size, tracking

#: family -> (module, what it covers)
FAMILIES: dict[str, tuple[str, str]] = {
    "hermes": ("toolforge.formats.hermes", "Hermes-2-Pro/3, Qwen2.5/3: <tool_call>{json}</tool_call>"),
    "llama3_json": ("toolforge.formats.llama3_json", "Llama 3.1/3.2 JSON with parameters, optional <|python_tag|>"),
    "pythonic": ("toolforge.formats.pythonic", "Llama 3.2/4 pythonic, ToolACE: [f(a=1), g(b='x')]"),
    "mistral": ("toolforge.formats.mistral", "Mistral [TOOL_CALLS] JSON list (v3) and name{json} (v11)"),
    "lfm2": ("toolforge.formats.lfm2", "LFM2: <|tool_call_start|>[f(a=1)]<|tool_call_end|>"),
    "phi4_mini": ("toolforge.formats.phi4_mini", "Phi-4-mini: functools[{json}] or <|tool_call|>{json}<|/tool_call|>"),
    "deepseek_v3": ("toolforge.formats.deepseek_v3", "DeepSeek-V3 tool tokens with a fenced JSON body"),
    "xlam": ("toolforge.formats.xlam", "xLAM: a bare JSON list of calls, possibly fenced"),
}

Renderer = Callable[..., str]
Parser = Callable[[str], list[dict[str, Any]]]


class UnknownFamilyError(UsageError):
    """A family name that toolforge does not know."""


def _module(family: str) -> Any:
    if family not in FAMILIES:
        raise UnknownFamilyError(f"unknown model family {family!r}", hint=f"choose one of: {', '.join(FAMILIES)}")
    return importlib.import_module(FAMILIES[family][0])


def get_renderer(family: str) -> Renderer:
    """``render(record, *, add_generation_prompt=False) -> str`` for ``family``."""
    return _module(family).render  # type: ignore[no-any-return]


@dataclass
class Parsed:
    """One reading of model output."""

    calls: list[dict[str, Any]]
    content: str = ""                  # the text that is not calls or reasoning
    reasoning: str | None = None       # the <think> block(s), when present
    repairs: list[str] = field(default_factory=list)  # what had to be repaired to read the calls

    @property
    def strict(self) -> bool:
        """Read as written, with no repair."""
        return not self.repairs

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "content": self.content, "reasoning": self.reasoning,
                "strict": self.strict, "repairs": self.repairs}


_THINK = re.compile(r"<think>(.*?)(?:</think>|\Z)", re.S)


def split_reasoning(text: str) -> tuple[str | None, str]:
    """``(reasoning, rest)``: the ``<think>`` blocks (or the text before a lone ``</think>``, when
    the template opened the block in the prompt) and the text without them."""
    blocks = [m.group(1).strip() for m in _THINK.finditer(text)]
    rest = _THINK.sub("", text)
    if not blocks and "</think>" in text:
        before, rest = text.split("</think>", 1)
        blocks = [before.strip()]
    return ("\n\n".join(b for b in blocks if b) or None) if blocks else None, rest


def parse_output(family: str, text: str, *, strict: bool = False, content: bool = True) -> Parsed:
    """Read model output: calls, the non-call content, the reasoning, and the repairs made.

    With ``strict=True`` a reading that needed repair raises ParseError (code ``repaired``);
    ``content=False`` skips collecting the non-call text (callers that need the calls only).
    Depth and size limits hold for every family; RecursionError/MemoryError from a
    pathological input become ParseError (``too_deep``/``too_large``) here, at the boundary.
    """
    mod = _module(family)
    guard_size(text)
    reasoning, rest = split_reasoning(text)
    try:
        with tracking() as repairs:
            calls = mod.parse(rest)
        found = list(repairs)
        text_around = mod.content(rest) if content and hasattr(mod, "content") else ""
    except RecursionError:
        raise ParseError("model output nested too deeply to read [too_deep]", code="too_deep") from None
    except MemoryError:
        raise ParseError("model output too large to read [too_large]", code="too_large") from None
    if strict and found:
        raise ParseError(f"not strictly well-formed (readable only after repair: {', '.join(found)}) [repaired]",
                         code="repaired")
    return Parsed(calls=calls, content=text_around, reasoning=reasoning, repairs=found)


def get_parser(family: str, *, strict: bool = False) -> Parser:
    """``parse(text) -> [{"name", "arguments"}, ...]`` for ``family``.

    The default repairs what it can (for reading teacher output); ``strict=True`` raises
    ParseError (code ``repaired``) for output that is readable only after repair.
    """
    _module(family)  # an unknown family fails here, not at the first call

    def parse(text: str) -> list[dict[str, Any]]:
        return parse_output(family, text, strict=strict, content=False).calls

    parse.__name__ = f"parse_{family}"
    return parse


__all__ = ["FAMILIES", "ParseError", "Parsed", "Parser", "Renderer", "UnknownFamilyError", "get_parser",
           "get_renderer", "parse_output", "split_reasoning"]
