"""Import a JSON Lines file into the store, all or nothing unless told to skip bad lines."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from toolforge.errors import InputError
from toolforge.importers import FORMATS, ConversionError, get_converter
from toolforge.io.jsonl import read_jsonl
from toolforge.record import Record
from toolforge.store.db import Store


@dataclass
class ImportResult:
    lines: int = 0
    converted: int = 0
    new: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def existing(self) -> int:
        return self.converted - self.new


def import_file(store: Store, path: str | Path, *, fmt: str = "toolforge", skip_invalid: bool = False,
                scenario: str | None = None) -> ImportResult:
    """Read ``path`` in format ``fmt`` and upsert its records.

    Without ``skip_invalid``, one bad line stores nothing and raises an
    :class:`InputError` naming the line; with it, good lines are stored and the
    bad ones are listed in the result.
    """
    convert = get_converter(fmt)
    bind = getattr(importlib.import_module(FORMATS[fmt]), "bind_source", None)
    if bind is not None and str(path) != "-":  # a format whose lines need files next to the input (BFCL answers)
        convert = bind(Path(path))
    result = ImportResult()
    records: list[Record] = []
    for line in read_jsonl(path):
        result.lines += 1
        if line.error:
            result.errors.append((line.number, line.error))
            continue
        try:
            rec = convert(line.value)
        except ConversionError as exc:
            result.errors.append((line.number, str(exc)))
            continue
        if scenario and rec.scenario is None:
            rec = rec.model_copy(update={"scenario": scenario})
        records.append(rec)
    result.converted = len(records)
    if result.errors and not skip_invalid:
        number, why = result.errors[0]
        more = f" ({len(result.errors) - 1} more bad lines)" if len(result.errors) > 1 else ""
        raise InputError(f"{path}:{number}: {why}{more}",
                         hint="fix the line, or pass --skip-invalid to import the good lines only")
    # one transaction: a failed import stores nothing, not even a run left marked "running"
    with store.transaction(), store.run("import", name=str(path), config={"format": fmt, "path": str(path)}) as run_id:
        result.new = store.upsert_records(records, source=f"import:{fmt}", run_id=run_id)
    return result
