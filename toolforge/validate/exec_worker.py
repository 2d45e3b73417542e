"""The subprocess that runs safe tools: one JSON request per line in, one JSON reply per line out.

Request: ``{"name": str, "arguments": dict}``; reply: ``{"ok": true, "result": ...}`` or
``{"ok": false, "error": str, "kind": "tool"|"internal"}``. It limits its own
memory and CPU time, runs only :data:`~toolforge.validate.safe_tools.SAFE_TOOLS`,
validates arguments against the tool's own schema and binds them by name.
"""

from __future__ import annotations

import json
import sys


def _limit() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        resource.setrlimit(resource.RLIMIT_CPU, (60, 60))
    except (ImportError, ValueError, OSError):  # not on Linux, or already lower
        pass


def handle(req: dict) -> dict:
    from jsonschema import Draft202012Validator

    from toolforge.validate.safe_tools import NEVER_RUN, SAFE_TOOLS, ToolFailure

    name = req.get("name")
    args = req.get("arguments")
    if name in NEVER_RUN or name not in SAFE_TOOLS:
        return {"ok": False, "error": f"{name!r} is not a safe registered tool", "kind": "internal"}
    tool = SAFE_TOOLS[name]
    if not isinstance(args, dict) or not Draft202012Validator(tool.schema).is_valid(args):
        return {"ok": False, "error": "arguments do not fit the safe implementation", "kind": "internal"}
    try:
        return {"ok": True, "result": tool.run(args)}
    except ToolFailure as exc:
        return {"ok": False, "error": str(exc), "kind": "tool"}
    except (ArithmeticError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "kind": "tool"}


def main() -> None:
    _limit()
    for line in sys.stdin:
        try:
            req = json.loads(line)
            reply = handle(req if isinstance(req, dict) else {})
        except json.JSONDecodeError:
            reply = {"ok": False, "error": "bad request", "kind": "internal"}
        sys.stdout.write(json.dumps(reply, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
