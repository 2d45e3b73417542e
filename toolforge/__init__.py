"""toolforge: build, validate, voice, review, export and evaluate tool-calling training data.

The names below load on first use, so ``import toolforge`` (and ``toolforge --help``)
does not import pydantic and the record model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["SCENARIOS", "Message", "Record", "Tool", "ToolCall", "ToolforgeError", "__version__"]

if TYPE_CHECKING:
    from toolforge.errors import ToolforgeError
    from toolforge.record import SCENARIOS, Message, Record, Tool, ToolCall


def __getattr__(name: str) -> Any:
    if name == "ToolforgeError":
        from toolforge.errors import ToolforgeError

        return ToolforgeError
    if name in ("SCENARIOS", "Message", "Record", "Tool", "ToolCall"):
        from toolforge import record

        return getattr(record, name)
    raise AttributeError(f"module 'toolforge' has no attribute {name!r}")
