"""Labeling configs for review (``label_studio/review_*.xml``) and what toolforge reads back.

The free edition of Label Studio has no ``<Chat>`` tag, so a conversation is a
``<Paragraphs layout="dialogue">`` with one line per message. The controls a
review config must have (names are the contract between push and pull):

- ``verdict``: ``<Choices>`` with accept / reject / needs_fix (required)
- ``rating``: ``<Rating>``
- ``answer``: ``<TextArea>`` pre-filled with the final answer
- ``args_1`` .. ``args_6``: ``<TextArea>`` pre-filled with each call's arguments as JSON
- ``notes``: ``<TextArea>``
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from toolforge.errors import InputError

CONFIG_KINDS = ("text", "audio")
VERDICTS = ("accept", "reject", "needs_fix")
MAX_CALL_SLOTS = 6  # args_1 .. args_6 in the shipped configs
OBJECT_NAME = "dialogue"


def config_path(kind: str) -> Path:
    from toolforge.resources import label_studio_dir

    return label_studio_dir() / f"review_{kind}.xml"


def load_config(kind: str = "text", path: Path | None = None) -> str:
    """The labeling config XML: a shipped one by kind, or a user's file (checked)."""
    if path is None:
        if kind not in CONFIG_KINDS:
            from toolforge.errors import UsageError

            raise UsageError(f"unknown labeling config kind {kind!r}", hint=f"choose one of: {', '.join(CONFIG_KINDS)}")
        text = config_path(kind).read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read labeling config {path}: {exc.strerror}") from None
    check_config(text, source=str(path) if path else f"review_{kind}.xml")
    return text


def config_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def interface(text: str) -> Any:
    from label_studio_sdk.label_interface import LabelInterface

    return LabelInterface(text)


def check_config(text: str, *, source: str = "labeling config") -> Any:
    """Validate with the SDK's label-interface tools and check the controls pull relies on."""
    try:
        li = interface(text)
        li.validate()
    except Exception as exc:  # the SDK raises several exception types for bad XML/schema
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"{source} is not a valid Label Studio labeling config: {first[:200]}",
            hint="start from label_studio/review_text.xml",
        ) from None
    objects = {o.name for o in li.objects}
    for ctrl in li.controls:
        for target in ctrl.to_name or []:
            if target not in objects:
                raise InputError(
                    f"{source} is not a valid Label Studio labeling config: {ctrl.name} points to "
                    f"toName={target!r}, which is not an object tag",
                    hint="start from label_studio/review_text.xml",
                )
    missing = [n for n in ("verdict",) if n not in control_names(li)]
    if missing:
        raise InputError(
            f"{source} has no <Choices name=\"verdict\"> control, so verdicts cannot be read back",
            hint="keep the control names of label_studio/review_text.xml (verdict, rating, answer, args_N, notes)",
        )
    choices = verdict_values(li)
    unknown = sorted(set(choices) - set(VERDICTS))
    if unknown:
        raise InputError(
            f"{source}: verdict choices {unknown} are not toolforge verdicts",
            hint=f"use the choice values {', '.join(VERDICTS)}",
        )
    return li


def verdict_values(li: Any) -> list[str]:
    ctrl = li.get_control("verdict")
    return [str(v) for v in (getattr(ctrl, "labels", None) or [])]


def control_names(li: Any) -> set[str]:
    return {c.name for c in li.controls}


def call_slots(li: Any) -> int:
    names = control_names(li)
    n = 0
    while f"args_{n + 1}" in names:
        n += 1
    return n
