"""Per-conversation world state: what the tools of one conversation have done so far.

The environment answers some calls from the state itself, deterministically,
so that a conversation stays consistent without asking the simulator:

- a file written (``write_file``) can be read back (``read_file``) with the
  same content, and shows up in ``list_directory`` of its folder;
- the same call made again returns the same result;
- ids that results hand out (``event_id``, ``message_id``, ``id``...) are kept
  and listed for the simulator, so a booked id stays the same.

Everything else the simulator sees as :meth:`WorldState.describe`: the earlier
calls and results of this conversation, and the facts established.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

from toolforge.canonical import canonical_json

DESCRIBE_MAX = 3000


def _norm_path(path: Any) -> str | None:
    if not isinstance(path, str) or not path.strip():
        return None
    p = posixpath.normpath(path.strip().lstrip("./") or ".")
    return p


@dataclass
class WorldState:
    files: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # id value -> the tool that handed it out
    history: list[tuple[str, dict[str, Any], Any, bool]] = field(default_factory=list)  # name, args, result, error

    def _key(self, name: str, args: dict[str, Any]) -> str:
        return name + ":" + canonical_json(args)

    def lookup(self, name: str, args: dict[str, Any]) -> Any | None:
        """A result the state already determines, or None (then the environment asks elsewhere)."""
        key = self._key(name, args)
        for n, a, result, error in reversed(self.history):
            if not error and self._key(n, a) == key and n not in ("write_file", "send_email", "create_calendar_event"):
                return result
        if name == "read_file":
            path = _norm_path(args.get("path"))
            if path is not None and path in self.files:
                content = self.files[path]
                return {"path": args.get("path"), "content": content, "bytes": len(content.encode("utf-8"))}
        if name == "list_directory":
            folder = _norm_path(args.get("path", ".")) or "."
            inside = sorted(posixpath.relpath(p, folder) for p in self.files
                            if folder == "." or p.startswith(folder.rstrip("/") + "/"))
            if inside:
                return {"path": args.get("path", "."), "entries": inside}
        return None

    def observe(self, name: str, args: dict[str, Any], result: Any, *, error: bool) -> None:
        self.history.append((name, args, result, error))
        if error:
            return
        if name == "write_file":
            path = _norm_path(args.get("path"))
            if path is not None and isinstance(args.get("content"), str):
                old = self.files.get(path, "") if args.get("mode") == "append" else ""
                self.files[path] = old + args["content"]
        if isinstance(result, dict):
            for k, v in result.items():
                if (k == "id" or k.endswith("_id")) and isinstance(v, (str, int)) and not isinstance(v, bool):
                    self.ids[str(v)] = name

    def describe(self) -> str:
        """The state as text for the simulator prompt (latest first when it must be cut)."""
        if not self.history:
            return "(nothing yet: this is the first call)"
        lines = []
        for name, args, result, error in self.history:
            outcome = "failed with" if error else "returned"
            lines.append(f"- {name}({json.dumps(args, ensure_ascii=False)}) {outcome} "
                         f"{json.dumps(result, ensure_ascii=False)}")
        if self.files:
            lines.append("Files written: " + ", ".join(sorted(self.files)))
        if self.ids:
            lines.append("Ids handed out: " + ", ".join(sorted(self.ids)))
        text = "\n".join(lines)
        return text if len(text) <= DESCRIBE_MAX else "...\n" + text[-DESCRIBE_MAX:]
