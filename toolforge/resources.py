"""Locate the project's data folders (schemas/, prompts/, datasets/, label_studio/).

In a source checkout (editable install) they sit beside the package; in a
wheel they are packaged under ``toolforge/_resources``.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (_PKG / "_resources" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"toolforge resource folder {name!r} not found")


def schemas_dir() -> Path:
    return resource_dir("schemas")


def prompts_dir() -> Path:
    return resource_dir("prompts")


def recipes_dir() -> Path:
    return resource_dir("datasets")


def label_studio_dir() -> Path:
    return resource_dir("label_studio")
