"""The record: one tool-calling conversation in the unified chat format.

This is the interchange format of the whole toolkit (see README, "The record").
Tools are JSON Schema function definitions, tool calls are a field of assistant
messages with ``arguments`` as a JSON object, tool results are ``role: "tool"``
messages, and ``reasoning`` holds the text of a ``<think>`` block.

Validators work on plain dicts so that they can report on records this model
would refuse; everything that enters the store goes through :class:`Record`.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from toolforge.canonical import ID_PREFIX, canonical_json
from toolforge.io import safejson

Scenario = Literal[
    "single_tool",
    "multi_tool_parallel",
    "multi_tool_sequential",
    "no_tool_needed",
    "error_recovery",
    "reasoning_heavy",
    "complex_multi_step",
]
SCENARIOS: tuple[str, ...] = get_args(Scenario)
Role = Literal["system", "user", "assistant", "tool"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FunctionDef(_Strict):
    name: str = Field(min_length=1, max_length=128)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


class Tool(_Strict):
    type: Literal["function"] = "function"
    function: FunctionDef

    @property
    def name(self) -> str:
        return self.function.name


class FunctionCall(_Strict):
    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)

    @field_validator("arguments", mode="before")
    @classmethod
    def _parse_string_arguments(cls, value: Any) -> Any:
        # The OpenAI wire format carries arguments as a JSON string.
        if isinstance(value, str):
            try:
                value = safejson.loads(value) if value.strip() else {}
            except safejson.JSONLimitError as exc:
                raise ValueError(f"arguments is not valid JSON: {exc}") from None
        return value


class ToolCall(_Strict):
    id: str = Field(min_length=1)
    type: Literal["function"] = "function"
    function: FunctionCall

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def arguments(self) -> dict[str, Any]:
        return self.function.arguments


class Message(_Strict):
    role: Role
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None


class Record(_Strict):
    """A conversation plus the tools offered in it.

    ``id`` is derived from ``tools`` and ``messages`` (see :mod:`toolforge.canonical`);
    a given id that disagrees with the content is replaced, so the id is always
    the content address.
    """

    id: str | None = None
    scenario: Scenario | None = None
    tools: list[Tool] = Field(default_factory=list)
    messages: list[Message] = Field(min_length=1)
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _content_id(self, info: ValidationInfo) -> Record:
        # Rows read back from the store carry their id (computed when they were written);
        # everything else gets its id computed from content, which also checks that the
        # content is JSON a reader can take: finite numbers, nesting within the limit.
        stored = info.context.get("stored_id") if isinstance(info.context, dict) else None
        if stored:
            self.id = stored
            return self
        try:
            self.id = self.compute_id()
            safejson.check_value(self.meta)
        except safejson.JSONLimitError as exc:
            raise ValueError(str(exc)) from None
        return self

    def compute_id(self) -> str:
        """The content id; raises :class:`~toolforge.io.safejson.JSONLimitError` for content that
        is not JSON (NaN/Infinity) or nests deeper than :data:`~toolforge.io.safejson.MAX_DEPTH`."""
        import hashlib

        body = {"tools": self.tools_dump(), "messages": self.messages_dump()}
        try:
            text = canonical_json(body)
        except ValueError:  # json.dumps(allow_nan=False) refused a non-finite number
            safejson.check_value(body)
            raise
        except RecursionError:
            raise safejson.JSONLimitError("too_deep", f"JSON nested deeper than {safejson.MAX_DEPTH} levels") from None
        if text.count("[") + text.count("{") > safejson.MAX_DEPTH:  # only then can it be too deep
            safejson.check_depth(body)
        return ID_PREFIX + hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()

    def tools_dump(self) -> list[dict[str, Any]]:
        return [t.model_dump(exclude_none=True) for t in self.tools]

    def messages_dump(self) -> list[dict[str, Any]]:
        return [m.model_dump(exclude_none=True) for m in self.messages]

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON-able form (what JSON Lines exports and the store hold)."""
        out: dict[str, Any] = {"id": self.id}
        if self.scenario is not None:
            out["scenario"] = self.scenario
        out["tools"] = self.tools_dump()
        out["messages"] = self.messages_dump()
        out["meta"] = self.meta
        return out

    # Convenience views used by many stages -------------------------------------------------
    @property
    def tool_names(self) -> list[str]:
        return [t.function.name for t in self.tools]

    def tool(self, name: str) -> Tool | None:
        for t in self.tools:
            if t.function.name == name:
                return t
        return None

    @property
    def calls(self) -> list[ToolCall]:
        return [c for m in self.messages if m.role == "assistant" for c in (m.tool_calls or [])]

    @property
    def first_user_text(self) -> str:
        for m in self.messages:
            if m.role == "user":
                return m.content or ""
        return ""

    @property
    def final_answer(self) -> str | None:
        last = self.messages[-1]
        if last.role == "assistant" and not last.tool_calls:
            return last.content
        return None
