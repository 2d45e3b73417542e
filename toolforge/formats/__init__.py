"""Chat-format renderers and tool-call parsers, one module per model family.

    from toolforge.formats import FAMILIES, get_renderer, get_parser, ParseError
    text = get_renderer("hermes")(record, add_generation_prompt=False)
    calls = get_parser("hermes")(model_output)   # [{"name": str, "arguments": dict}, ...]

A renderer writes a :class:`~toolforge.record.Record` as the family's training
text; a parser reads calls back out of model output (or a whole rendered
conversation, where it reads the assistant turns only). Parsers return ``[]``
when there is no call, raise :class:`ParseError` for call syntax they cannot
read, and never evaluate anything. Adding a family is one module with
``render`` and ``parse`` plus one line in :data:`FAMILIES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from toolforge.errors import UsageError
from toolforge.formats._common import ParseError

#: family -> (module, what it covers)
FAMILIES: dict[str, tuple[str, str]] = {
    "hermes": ("toolforge.formats.hermes", "Hermes-2-Pro/3, Qwen2.5/3: <tool_call>{json}</tool_call>"),
    "llama3_json": ("toolforge.formats.llama3_json", "Llama 3.1/3.2 JSON with parameters, optional <|python_tag|>"),
    "pythonic": ("toolforge.formats.pythonic", "Llama 3.2/4 pythonic, ToolACE: [f(a=1), g(b='x')]"),
    "mistral": ("toolforge.formats.mistral", "Mistral [TOOL_CALLS] JSON list (v3) and name{json} (v11)"),
    "lfm2": ("toolforge.formats.lfm2", "LFM2: <|tool_call_start|>[f(a=1)]<|tool_call_end|>"),
    "phi4_mini": ("toolforge.formats.phi4_mini", "Phi-4-mini: functools[{json}]"),
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


def get_parser(family: str) -> Parser:
    """``parse(text) -> [{"name", "arguments"}, ...]`` for ``family``."""
    return _module(family).parse  # type: ignore[no-any-return]


__all__ = ["FAMILIES", "ParseError", "Parser", "Renderer", "UnknownFamilyError", "get_parser", "get_renderer"]
