"""The tool environment of stepwise generation: where tool results come from (issue #15).

For each call the teacher writes, :meth:`Environment.call` returns a
:class:`ToolResult` from the first source that can answer, in this order:

1. ``forced_error``: error_recovery's failing call: the simulator writes an
   error object for these arguments (or a fixed error when there is no simulator);
2. ``mock``: a user's own Python mock module (``--mock FILE``): a function named
   like the tool, called with the arguments bound by name, after they validate
   against the tool's schema; what it returns is the result, what it raises is
   an error result. It is the user's own code, loaded like ``tools from-python``;
3. ``world``: the per-conversation :class:`~toolforge.environment.world.WorldState`
   (a file written is read back, the same call answers the same);
4. ``safe``: a safe registered tool (``calculate``, ``get_current_datetime``; see
   :mod:`toolforge.validate.safe_tools`) run for real in the limited worker
   subprocess. Shell, Python, file, e-mail and network tools are never run;
5. ``simulated``: a tool-simulator request to a teacher that sees the tool's
   schema, the call and the world state, answering in the tool's named result
   shape (its catalog ``returns``), hardened for every grammar dialect.

Every result is checked: an error is an error (``{"error", "message"}``), and
results are JSON objects. Model output is data: it is only ever
``json.loads``-ed.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolforge.environment.world import WorldState
from toolforge.errors import InputError
from toolforge.record import Tool

SOURCES = ("forced_error", "mock", "world", "safe", "simulated")

__all__ = ["SOURCES", "Environment", "ToolResult", "WorldState", "load_mock"]


@dataclass
class ToolResult:
    result: Any
    source: str
    error: bool = False
    detail: str = ""  # the simulator's raw reply or why a source failed (stored with the attempt)

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.result, "source": self.source, "error": self.error}


def load_mock(path: str | Path) -> dict[str, Any]:
    """The public functions of a user's mock module, by name."""
    from toolforge.catalog.from_python import load_module

    module = load_module(path)
    funcs = {name: obj for name, obj in vars(module).items()
             if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("_")}
    if not funcs:
        raise InputError(f"{path}: no public functions to use as tool mocks")
    return funcs


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class Environment:
    """Answers tool calls for stepwise generation (see the module doc)."""

    def __init__(self, tools: list[Tool], *, returns: dict[str, dict[str, Any]] | None = None,
                 simulator: Any = None, mock: dict[str, Any] | None = None, run_safe: bool = True,
                 temperature: float = 0.4, max_tokens: int = 400, timeout_s: float = 5.0) -> None:
        self.tools = {t.function.name: t for t in tools}
        self.returns = returns or {}
        self.simulator = simulator
        self.mock = mock or {}
        self.run_safe = run_safe
        self.temperature = temperature
        self.max_tokens = max_tokens
        self._checker: Any = None
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self.counts: dict[str, int] = dict.fromkeys(SOURCES, 0)

    # -- sources ---------------------------------------------------------------------------
    def _valid_args(self, name: str, args: dict[str, Any]) -> list[str]:
        from toolforge.validate.record_checks import RecordValidator

        tool = self.tools.get(name)
        if tool is None:
            return [f"no tool named {name!r}"]
        return [i.message for i in RecordValidator(check_scenario=False).check_call_arguments(
            tool.model_dump(exclude_none=True), args)]

    def _from_mock(self, name: str, args: dict[str, Any]) -> ToolResult | None:
        fn = self.mock.get(name)
        if fn is None:
            return None
        problems = self._valid_args(name, args)
        if problems:
            return ToolResult({"error": "invalid_arguments", "message": problems[0][:200]}, "mock", True)
        try:
            value = fn(**args)
        except Exception as exc:  # the mock reports an error for these arguments
            return ToolResult({"error": type(exc).__name__.lower(), "message": str(exc)[:200] or "failed"}, "mock", True)
        value = _jsonable(value)
        return ToolResult(value if isinstance(value, dict) else {"result": value}, "mock")

    def _run_safe_sync(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        from toolforge.validate.execute import ExecutionChecker

        with self._lock:
            if self._checker is None:
                self._checker = ExecutionChecker(timeout_s=self._timeout)
            return self._checker.run_tool(name, args)  # type: ignore[no-any-return]

    async def _from_safe(self, name: str, args: dict[str, Any]) -> ToolResult | None:
        from toolforge.validate.safe_tools import NEVER_RUN, SAFE_TOOLS

        if not self.run_safe or name in NEVER_RUN or name not in SAFE_TOOLS or self._valid_args(name, args):
            return None
        reply = await asyncio.to_thread(self._run_safe_sync, name, args)
        if reply.get("ok"):
            return ToolResult(reply["result"], "safe")
        if reply.get("kind") == "tool":
            return ToolResult({"error": "tool_error", "message": str(reply.get("error"))[:200]}, "safe", True)
        return None  # not our implementation of this tool (its schema differs): simulate it

    async def _simulate(self, name: str, args: dict[str, Any], world: WorldState, *, error: bool,
                        seed: int | None) -> ToolResult:
        from toolforge.backends.base import ChatRequest
        from toolforge.generate.prompts import render_step, tool_view
        from toolforge.generate.schema import result_schema

        tool = self.tools[name]
        if self.simulator is None:
            if error:
                return ToolResult({"error": "service_unavailable", "message": f"{name} could not complete the request"},
                                  "forced_error", True)
            return ToolResult({"error": "no_simulator", "message": f"no result source for {name}"}, "simulated", True,
                              detail="no simulator configured")
        messages = render_step("simulate", tool=tool_view(tool, self.returns), world=world.describe(), name=name,
                               arguments=args, error=error)
        schema = result_schema(tool, self.returns, error=error)
        resp = await self.simulator.chat(ChatRequest(messages=messages, response_schema=schema,
                                                     temperature=self.temperature, max_tokens=self.max_tokens,
                                                     seed=seed))
        source = "forced_error" if error else "simulated"
        try:
            value = json.loads(resp.text)
        except json.JSONDecodeError:
            return ToolResult(None, source, error, detail=resp.text[:2000])
        if not isinstance(value, dict):
            return ToolResult(None, source, error, detail=resp.text[:2000])
        is_error = bool(value.get("error"))
        if error and not is_error:
            return ToolResult(None, source, error, detail="the simulator did not return an error")
        return ToolResult(value, source, is_error, detail=resp.text[:2000])

    # -- the one entry point -----------------------------------------------------------------
    async def call(self, name: str, args: dict[str, Any], world: WorldState, *, force_error: bool = False,
                   seed: int | None = None) -> ToolResult:
        """The result of one call (``result`` None when the simulator's reply was unusable)."""
        res: ToolResult | None
        if name not in self.tools:
            res = ToolResult({"error": "unknown_tool", "message": f"no tool named {name}"}, "world", True)
        elif force_error:
            res = await self._simulate(name, args, world, error=True, seed=seed)
        else:
            res = self._from_mock(name, args)
            if res is None:
                hit = world.lookup(name, args)
                res = ToolResult(hit, "world") if hit is not None else None
            if res is None:
                res = await self._from_safe(name, args)
            if res is None:
                res = await self._simulate(name, args, world, error=False, seed=seed)
        assert res is not None
        if res.result is not None:
            world.observe(name, args, res.result, error=res.error)
            self.counts[res.source] = self.counts.get(res.source, 0) + 1
        return res

    def close(self) -> None:
        with self._lock:
            if self._checker is not None:
                self._checker.close()
                self._checker = None
