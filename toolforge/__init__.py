"""toolforge: build, validate, voice, review, export and evaluate tool-calling training data."""

from toolforge.errors import ToolforgeError
from toolforge.record import SCENARIOS, Message, Record, Tool, ToolCall

__version__ = "0.1.0"
__all__ = ["SCENARIOS", "Message", "Record", "Tool", "ToolCall", "ToolforgeError", "__version__"]
