"""The execution check: run safe, registered tools and compare with what the record claims.

Only tools in :data:`~toolforge.validate.safe_tools.SAFE_TOOLS` run, in a
worker subprocess with memory/CPU limits and a per-call timeout; everything
else (shell, Python, files, e-mail, network) is never executed. A call runs
only when its arguments pass the record's schema and the safe
implementation's own schema; arguments are bound by name. Model output is
never evaluated as code.

Outcomes (stage ``execution``):

- ``exec_mismatch`` (error): both the record and the run give a number, and they differ
  beyond the precision the record states;
- ``exec_error`` (error): the record shows a successful result but the tool fails
  for these arguments (or times out);
- ``exec_mismatch`` (warning): the record shows an error but the tool succeeds.
"""

from __future__ import annotations

import json
import logging
import os
import re
import selectors
import subprocess
import sys
from pathlib import Path
from typing import Any

from toolforge.validate.issues import Issue
from toolforge.validate.record_checks import RecordValidator
from toolforge.validate.safe_tools import SAFE_TOOLS
from toolforge.validate.scenario import is_error_result

log = logging.getLogger(__name__)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


class ExecutionChecker:
    """Runs safe tools for records; reuse one for many records, then :meth:`close` it."""

    def __init__(self, *, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._validator = RecordValidator(check_scenario=False)
        self.runs = 0

    # -- worker --------------------------------------------------------------------------
    def _start(self) -> subprocess.Popen[str]:
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "toolforge.validate.exec_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, bufsize=1,
        )
        return self._proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=2)
        except (subprocess.TimeoutExpired, OSError):
            proc.kill()
            proc.wait()

    def close(self) -> None:
        self._stop()

    def __enter__(self) -> ExecutionChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run one safe tool in the worker; ``{"ok", "result"|"error", "kind"}``; timeouts kill the worker."""
        proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
        assert proc.stdin is not None and proc.stdout is not None
        self.runs += 1
        try:
            proc.stdin.write(json.dumps({"name": name, "arguments": arguments}) + "\n")
            proc.stdin.flush()
        except OSError:
            self._stop()
            return {"ok": False, "error": "the tool worker died", "kind": "tool"}
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        ready = sel.select(self.timeout_s)
        sel.close()
        if not ready:
            proc.kill()
            proc.wait()
            self._proc = None
            return {"ok": False, "error": f"timed out after {self.timeout_s:g} s", "kind": "timeout"}
        line = proc.stdout.readline()
        if not line:
            self._stop()
            return {"ok": False, "error": "the tool worker died (memory or CPU limit)", "kind": "tool"}
        return json.loads(line)  # type: ignore[no-any-return]

    # -- records -------------------------------------------------------------------------
    def check(self, record: Any) -> list[Issue]:
        """Execution issues of one record (a Record or a record dict)."""
        d = record.to_dict() if hasattr(record, "to_dict") and not isinstance(record, dict) else record
        tools = {t["function"]["name"]: t for t in d.get("tools") or [] if isinstance(t, dict) and "function" in t}
        messages = d.get("messages") or []
        results: dict[str, tuple[int, str]] = {}
        for i, m in enumerate(messages):
            if m.get("role") == "tool" and m.get("tool_call_id"):
                results.setdefault(m["tool_call_id"], (i, m.get("content") or ""))
        issues: list[Issue] = []
        for i, m in enumerate(messages):
            if m.get("role") != "assistant":
                continue
            for j, call in enumerate(m.get("tool_calls") or []):
                fn = call.get("function") or {}
                name = fn.get("name")
                args = fn.get("arguments")
                if isinstance(args, str):
                    try:
                        args = json.loads(args)
                    except json.JSONDecodeError:
                        continue
                if name not in SAFE_TOOLS or name not in tools or not isinstance(args, dict):
                    continue
                if self._validator.check_call_arguments(tools[name], args):
                    continue  # the schema stage reports it; never run on arguments that do not validate
                claimed = results.get(call.get("id") or "")
                reply = self.run_tool(name, args)
                if reply.get("kind") == "internal":
                    continue  # the record's tool is not the one we implement
                path = f"messages[{i}].tool_calls[{j}]"
                issues.extend(self._compare(name, args, reply, claimed, path))
        return issues

    def _compare(self, name: str, args: dict[str, Any], reply: dict[str, Any], claimed: tuple[int, str] | None,
                 path: str) -> list[Issue]:
        if claimed is None:
            if not reply.get("ok"):
                return [Issue("exec_error", path, f"{name} fails for these arguments: {reply.get('error')}")]
            return []
        idx, text = claimed
        rpath = f"messages[{idx}].content"
        claimed_error = is_error_result(text)
        if not reply.get("ok"):
            if claimed_error:
                return []
            return [Issue("exec_error", rpath, f"the record shows a result, but {name} fails for these "
                          f"arguments: {reply.get('error')}")]
        if claimed_error:
            return [Issue("exec_mismatch", rpath, f"the record shows an error, but {name} succeeds: "
                          f"{json.dumps(reply.get('result'))[:200]}", severity="warning")]
        if not SAFE_TOOLS[name].deterministic:
            return []
        ours = _numbers(reply.get("result"))
        theirs = _claimed_numbers(text)
        if not ours or not theirs:
            return []
        if any(_close(o, t, dec) for o in ours for t, dec in theirs):
            return []
        shown = ", ".join(s for _, s in _claimed_numbers(text, raw=True)[:3])
        return [Issue("exec_mismatch", rpath, f"{name}({json.dumps(args, ensure_ascii=False)[:120]}) gives "
                      f"{ours[0]!r}, the record claims {shown}")]


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        if "result" in value:
            return _numbers(value["result"])
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in _numbers(v)]
    return []


def _claimed_numbers(text: str, raw: bool = False) -> list[Any]:
    """Numbers a tool message claims, with their decimals: from JSON ``result`` when present, else the text."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict) and "result" in value and not isinstance(value["result"], (dict, list)):
        pieces = [json.dumps(value["result"])]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        pieces = [json.dumps(value)]
    else:
        pieces = _NUMBER.findall(text)
    out: list[Any] = []
    for p in pieces:
        if not _NUMBER.fullmatch(p):
            continue
        if raw:
            out.append((p, p))
            continue
        mantissa = p.lower().split("e")[0]
        dec = len(mantissa.split(".")[1]) if "." in mantissa else 0
        out.append((float(p), dec))
    return out


def _close(ours: float, theirs: float, decimals: int) -> bool:
    tol = max(0.5 * 10 ** (-decimals), 1e-9 * max(abs(ours), abs(theirs)))
    return abs(ours - theirs) <= tol + 1e-12
