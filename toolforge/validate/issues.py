"""Typed validation issues and the catalogue of issue codes.

Every validator returns a list of :class:`Issue` ``(code, path, message,
severity)``. ``path`` is a JSON path into the record, written the way a
reader would: ``messages[2].tool_calls[0].function.arguments.city``. The
codes below are a contract: the store, the generator's re-ask prompts, the
stats report and users' filters all key on them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: code -> what it means (README "Validation" lists the same table).
CODES: dict[str, str] = {
    "record_invalid": "the line or record is not a usable record (not an object, no messages list, ...)",
    "json_invalid": "arguments or content that must be JSON is not",
    "unknown_tool": "a call to a tool that the record does not offer",
    "missing_required_arg": "a required argument is missing",
    "unexpected_arg": "an argument that the schema does not declare",
    "arg_type": "an argument has the wrong JSON type",
    "arg_enum": "an argument is not one of the allowed values",
    "arg_constraint": "an argument breaks a constraint (format, minimum, pattern, length, ...)",
    "missing_tool_result": "a call with no matching tool message",
    "orphan_tool_result": "a tool message with no matching call",
    "duplicate_call_id": "two calls share an id",
    "tool_name_mismatch": "a tool message names a different tool than its call",
    "duplicate_tool": "two offered tools share a name",
    "role_order": "bad message order, or no final assistant answer",
    "empty_answer": "an assistant message with neither text nor calls",
    "answer_incomplete": "the final answer is cut off (ends on an opening bracket, a comma or a colon) or runs away "
                         "into a long run of one punctuation mark",
    "think_format": "unbalanced or stray <think> tags in content",
    "tool_schema_invalid": "a tool's parameters is not a valid JSON Schema object",
    "scenario_mismatch": "the record does not have the shape its scenario requires",
    "exec_mismatch": "a tool result differs from what running the tool gives",
    "exec_error": "running a safe tool with the record's arguments failed",
    "judge_reject": "the LLM judge found the calls or the answer do not fit the request",
    "judge_error": "the LLM judge could not give a verdict",
    "copied_example": "the user request or answer copies one of toolforge's own few-shot examples",
    "prompt_leak": "the user request holds generation prompt text (a persona line, a scenario name, instructions)",
    # grounding checks (toolforge.validate.grounding): faults of meaning in well-formed records
    "answer_ungrounded": "the final answer states a value (number, id, name) that no tool result or user message "
                         "holds, or pairs it with the wrong entity",
    "arg_ungrounded": "an argument value grounded nowhere (not in the request, an earlier result, or the schema)",
    "unchained_call": "a later call of a sequential or complex record does not use the earlier result it depends on",
    "tool_mismatch": "the called tool does not fit the request while a better-fitting offered tool exists",
    "result_ignored": "a tool result with data that neither the answer nor a later call uses",
    "duplicate_parallel_call": "the same call (name and arguments) twice in one assistant turn",
    "option_ignored": "a unit or option the user asked for (an enum value) that the call does not set",
    "live_data_no_call": "a no_tool_needed record asks for live data that an offered tool provides",
    "claimed_lookup": "the answer claims a lookup or a tool run that never happened",
    "retry_unchanged": "a call repeats, unchanged, an earlier call whose result was an error (not a transient one)",
    "repeated_call": "the next turn repeats the previous turn's only call, unchanged, with the same result",
    "request_names_tool": "the user request names an offered tool by its identifier (get_weather): users do not know "
                          "them (a warning; generate refuses it)",
}

ARG_CODES = frozenset(
    {"missing_required_arg", "unexpected_arg", "arg_type", "arg_enum", "arg_constraint"}
)


@dataclass(frozen=True)
class Issue:
    """One problem found in one record."""

    code: str
    path: str
    message: str
    severity: str = "error"  # "error" fails the record; "warning" is reported only

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def errors_only(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


#: warnings that ``generate`` refuses all the same: acceptable in data people wrote (a developer may name a
#: function in a BFCL question), a prompt artefact in a request a teacher wrote
REFUSED_IN_GENERATION = frozenset({"request_names_tool"})


def generation_blockers(issues: list[Issue]) -> list[Issue]:
    """The issues that keep ``generate`` from accepting a record: errors, and :data:`REFUSED_IN_GENERATION`."""
    return [i for i in issues if i.severity == "error" or i.code in REFUSED_IN_GENERATION]
