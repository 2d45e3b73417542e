"""The execution check: safe tools in a subprocess, bound by name, compared with the record."""

from __future__ import annotations

import json

import pytest

from toolforge.validate.execute import ExecutionChecker
from toolforge.validate.safe_tools import NEVER_RUN, SAFE_TOOLS, ToolFailure, calculate


@pytest.fixture(scope="module")
def checker():
    c = ExecutionChecker(timeout_s=20)
    yield c
    c.close()


def _calc_record(expression, claimed, precision=None, tool_schema=None):
    args = {"expression": expression}
    if precision is not None:
        args["precision"] = precision
    params = tool_schema or {"type": "object", "properties": {"expression": {"type": "string"},
                                                            "precision": {"type": "integer"}},
                             "required": ["expression"], "additionalProperties": False}
    return {"tools": [{"type": "function", "function": {"name": "calculate", "parameters": params}}],
            "messages": [{"role": "user", "content": "compute"},
                         {"role": "assistant", "content": "", "tool_calls": [
                             {"id": "c1", "type": "function", "function": {"name": "calculate", "arguments": args}}]},
                         {"role": "tool", "tool_call_id": "c1", "name": "calculate", "content": claimed},
                         {"role": "assistant", "content": "done"}]}


def test_calculate_is_arithmetic_only():
    assert calculate("2 + 3 * 4") == {"result": 14}
    assert calculate("sqrt(16) + 2^3") == {"result": 12}
    assert calculate("2500 * 1.04 ** 7", precision=2) == {"result": 3289.83}
    for bad in ("__import__('os').system('true')", "open('x')", "[1,2]", "(lambda: 1)()", "9 ** 9 ** 9", "1/0", "x + 1"):
        with pytest.raises(ToolFailure):
            calculate(bad)


def test_dangerous_tools_are_never_registered():
    assert not (set(SAFE_TOOLS) & NEVER_RUN)
    assert {"execute_python", "shell_command", "send_email", "http_request", "read_file"} <= NEVER_RUN


@pytest.mark.parametrize("claimed,codes", [
    ('{"result": 14}', []),
    ("14", []),
    ("The result is 14.0", []),
    ('{"result": 15}', ["exec_mismatch"]),
    ('{"error": "bad expression"}', ["exec_mismatch"]),  # warning: the tool would have worked
])
def test_compare_with_claimed_result(checker, claimed, codes):
    issues = checker.check(_calc_record("2 + 3 * 4", claimed))
    assert [i.code for i in issues] == codes
    if claimed.startswith('{"error"'):
        assert issues[0].severity == "warning"


def test_rounding_follows_the_claimed_precision(checker):
    assert checker.check(_calc_record("10 / 3", '{"result": 3.33}')) == []
    assert checker.check(_calc_record("10 / 3", '{"result": 3.3333333333}')) == []
    assert [i.code for i in checker.check(_calc_record("10 / 3", '{"result": 3.5}'))] == ["exec_mismatch"]


def test_tool_failure_against_a_claimed_success(checker):
    issues = checker.check(_calc_record("1 / 0", '{"result": 0}'))
    assert [i.code for i in issues] == ["exec_error"]
    assert checker.check(_calc_record("1 / 0", '{"error": "division by zero"}')) == []


def test_not_run_when_arguments_fail_schema_or_tool_is_not_ours(checker):
    before = checker.runs
    bad = _calc_record("2+2", "4")
    bad["messages"][1]["tool_calls"][0]["function"]["arguments"] = {"expression": 4}
    assert checker.check(bad) == []
    shell = _calc_record("2+2", "5")
    shell["tools"][0]["function"]["name"] = "shell_command"
    shell["messages"][1]["tool_calls"][0]["function"]["name"] = "shell_command"
    assert checker.check(shell) == []
    assert checker.runs == before


def test_timeout_kills_the_worker_and_reports():
    c = ExecutionChecker(timeout_s=0.0001)  # the worker cannot even start in time
    try:
        issues = c.check(_calc_record("2 + 2", '{"result": 4}'))
        assert [i.code for i in issues] == ["exec_error"]
        assert "timed out" in issues[0].message
        assert c._proc is None
    finally:
        c.close()


def test_sample_records_pass_execution(checker, sample_dicts):
    for d in sample_dicts:
        assert checker.check(json.loads(json.dumps(d))) == [], d["scenario"]
