"""Read a recipe file for ``toolforge run``: one-line errors for every kind of bad file.

The recipe model itself is ``toolforge.recipe`` (generation owns its
``generate`` part; the pipeline adds optional sections from
:mod:`toolforge.pipeline.sections`). This module only guards the way in:
file exists, UTF-8, YAML, a mapping, the model's first validation error as
one line, and paths in the recipe kept inside the working folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolforge.errors import InputError, UsageError


@dataclass
class LoadedRecipe:
    recipe: Any
    name: str
    path: Path
    export_out: Path | None = None


def inside_working_folder(value: str | Path, *, base: Path, what: str) -> Path:
    """Resolve a path written in a recipe (relative to ``base``) and refuse one outside the working folder."""
    p = Path(value)
    resolved = (p if p.is_absolute() else base / p).resolve()
    root = Path.cwd().resolve()
    if resolved != root and root not in resolved.parents:
        raise UsageError(f"{what} {str(value)!r} is outside the working folder {root}",
                         hint="recipes may only name paths inside the folder you run toolforge from")
    return resolved


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    import yaml

    if not path.exists():
        raise InputError(f"recipe not found: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a recipe file")
    raw = path.read_bytes()
    if len(raw) > 4 * 1024 * 1024:
        raise InputError(f"{path}: {len(raw)} bytes is too large for a recipe")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise InputError(f"{path}: not valid YAML ({problem}{where})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a recipe must be a YAML mapping, not {type(data).__name__}")
    return data


def validation_message(exc: Any) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ())) or "recipe"
    msg = err.get("msg", "invalid")
    if err.get("type") == "extra_forbidden":
        msg = "unknown key"
    more = len(exc.errors()) - 1
    return f"{loc}: {msg}" + (f" ({more} more problems)" if more > 0 else "")


def load_pipeline_recipe(path: str | Path) -> LoadedRecipe:
    from pydantic import ValidationError

    p = Path(path)
    data = read_yaml_mapping(p)
    from toolforge import recipe as recipe_mod
    try:
        rec = recipe_mod.Recipe.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{p}: {validation_message(exc)}", hint="see the README section on recipes") from None
    if "path" in type(rec).model_fields:
        rec.path = p  # relative catalog paths resolve against the recipe's folder
    name = str(getattr(rec, "name", None) or p.stem)
    base = p.resolve().parent
    export = getattr(rec, "export", None)
    out = inside_working_folder(export.out, base=base, what="export.out") if export and export.out else None
    return LoadedRecipe(recipe=rec, name=name, path=p, export_out=out)
