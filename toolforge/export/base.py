"""What every export format module gets and provides.

A format is one module in ``toolforge/export/`` with ``write(ctx, split, records)
-> list[Path]`` (and optional ``REQUIRES``/``EXTRA`` for its optional
dependencies) plus one line in ``toolforge.export.FORMATS``.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolforge.store import Store


@dataclass
class ExportContext:
    store: Store
    out_dir: Path
    think: str = "tags"
    tool_markup: str = "tag"
    #: records a format could not hold and left out, per reason code (reported in export.json)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, code: str) -> None:
        self.skipped[code] = self.skipped.get(code, 0) + 1


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a bulk step (also usable as a decorator).

    An export holds every selected record's decoded JSON (millions of dicts and lists) while it
    builds more; each full collection walks all of them, and measured here that was a quarter to
    a third of an export's CPU. Decoded JSON has no reference cycles (reference counting frees
    it), so nothing accumulates; the collector's earlier state comes back on exit.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class PlainRecord:
    """A stored record as its plain JSON parts, for writers that need no model.

    The store's ``tools``/``messages`` columns hold exactly ``Record.tools_dump()`` and
    ``messages_dump()``, so a format that reads only ``id``, ``scenario``, ``meta``,
    ``tools_dump()`` and ``messages_dump()`` (a module with ``PLAIN = True``) writes the
    same bytes from this as from a :class:`~toolforge.record.Record`, without building
    one per record. Anything else (``messages``, ``tools``, ...) builds the model once,
    on first use. Callers must not change the returned lists: records share them.
    """

    __slots__ = ("id", "scenario", "meta", "_tools", "_messages", "_model")

    def __init__(self, id: str, scenario: str | None, tools: list[dict[str, Any]],
                 messages: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        self.id = id
        self.scenario = scenario
        self.meta = meta
        self._tools = tools
        self._messages = messages
        self._model: Any = None

    def tools_dump(self) -> list[dict[str, Any]]:
        return self._tools

    def messages_dump(self) -> list[dict[str, Any]]:
        return self._messages

    def model(self) -> Any:
        """The :class:`~toolforge.record.Record` (built on first use)."""
        if self._model is None:
            from toolforge.record import Record

            self._model = Record.model_validate({"scenario": self.scenario, "tools": self._tools,
                                                 "messages": self._messages, "meta": self.meta},
                                                context={"stored_id": self.id})
        return self._model

    def __getattr__(self, name: str) -> Any:  # messages, tools, calls, ...: the model's view
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.model(), name)


def plain_records(store: Store, selection: Any = None, *, batch_size: int = 5000) -> list[PlainRecord]:
    """The selected records (ordered as ``store.iter_records``), decoded straight from the stored JSON.

    Each distinct ``tools`` text is decoded once: a run offers the same few tool sets.
    """
    from toolforge.store.select import Selection, selection_sql

    where, params = selection_sql(selection or Selection(), store)
    cur = store.con.cursor()
    out: list[PlainRecord] = []
    tools_cache: dict[str, Any] = {}
    from toolforge.io.safejson import loads_stored as loads  # NaN/Infinity refused, not exported
    try:
        cur.execute(f"SELECT r.id, r.scenario, r.tools, r.messages, r.meta FROM records r WHERE {where} "
                    "ORDER BY r.created_at, r.id", params)
        while True:
            chunk = cur.fetchmany(batch_size)
            if not chunk:
                break
            for rid, scenario, tools, messages, meta in chunk:
                try:
                    t = tools_cache.get(tools)
                    if t is None:
                        t = tools_cache[tools] = loads(tools)
                    out.append(PlainRecord(rid, scenario, t, loads(messages), loads(meta)))
                except (RecursionError, MemoryError, ValueError) as exc:  # stored by an older version
                    from toolforge.errors import InputError
                    from toolforge.io.safejson import unreadable

                    raise InputError(f"stored record {rid}: {unreadable(exc)}",
                                     hint="`toolforge validate` lists such records; remove them from the store "
                                          "to export") from None
    finally:
        cur.close()
    return out


def json_dataset(rows: list[dict[str, Any]], features: Any) -> Any:
    """``datasets.Dataset.from_list(rows, features=features)``, built as Arrow columns directly.

    For features made of ``Value("string")``, ``Json()`` and ``List(Json())`` the table is
    the one ``from_list`` builds (each JSON value encoded by the same ``ujson_dumps``), so
    ``to_parquet`` writes the same bytes, at a fraction of the per-value Python cost; a list
    shared by many rows (a run's tool set) is encoded once. Any other feature: ``from_list``.
    """
    import pyarrow as pa
    from datasets.fingerprint import generate_random_fingerprint
    from datasets.info import DatasetInfo
    from datasets.table import InMemoryTable
    from datasets.utils.json import ujson_dumps

    from datasets import Dataset, Json, List, Value  # type: ignore[attr-defined]  # mypy sees the repo's datasets/ folder

    def encode(feat: Any, v: Any) -> Any:
        return ujson_dumps(v) if v is not None and not isinstance(v, str) else feat.encode_example(v)

    columns: dict[str, Any] = {}
    for name, feat in features.items():
        values = [r.get(name) for r in rows]
        if isinstance(feat, Value) and feat.dtype == "string" and all(v is None or isinstance(v, str) for v in values):
            columns[name] = pa.array(values, pa.string())
        elif isinstance(feat, Json):
            columns[name] = pa.ExtensionArray.from_storage(pa.json_(), pa.array([encode(feat, v) for v in values],
                                                                                 pa.string()))
        elif isinstance(feat, List) and isinstance(feat.feature, Json) and all(type(v) is list for v in values):
            enc = feat.feature.encode_example
            offsets, flat = [0], []
            shared: dict[int, tuple[list[Any], list[Any]]] = {}
            for v in values:
                hit = shared.get(id(v))
                if hit is not None and hit[0] is v:
                    flat.extend(hit[1])
                else:
                    strs = [ujson_dumps(x) if type(x) is dict else enc(x) for x in v]
                    shared[id(v)] = (v, strs)
                    flat.extend(strs)
                offsets.append(len(flat))
            storage = pa.ExtensionArray.from_storage(pa.json_(), pa.array(flat, pa.string()))
            columns[name] = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), storage)
        else:
            return Dataset.from_list(rows, features=features)
    # a random fingerprint, as datasets gives unhashable data: hashing the table (pickling every value)
    # cost a tenth of an export, and the fingerprint only names cache files; it is not written to Parquet
    return Dataset(InMemoryTable(pa.table(columns)), info=DatasetInfo(features=features),
                   fingerprint=generate_random_fingerprint())


def write_parquet(ds: Any, path: str) -> None:
    """``ds.to_parquet(path)``, with the row-group size datasets would pick given up front.

    ``to_parquet`` estimates the size from a formatted copy of the first 1,000 rows when a
    column decodes (``Json`` does), though only Audio/Image/Video columns change the estimate:
    without them it is ``ds.data.nbytes``, so the same batch size (and the same bytes) comes
    from that directly. Datasets with media columns go through ``to_parquet`` as they are.
    """
    from datasets.arrow_writer import get_writer_batch_size_from_data_size as size_batch
    from datasets.arrow_writer import get_writer_batch_size_from_features as features_batch

    from datasets import Audio, Image, Video  # type: ignore[attr-defined]  # mypy sees the repo's datasets/ folder

    media = False

    def visit(feat: Any) -> None:
        nonlocal media
        if isinstance(feat, Audio | Image | Video):
            media = True
        elif isinstance(feat, dict):
            for v in feat.values():
                visit(v)
        elif isinstance(feat, list | tuple):
            for v in feat:
                visit(v)
        elif hasattr(feat, "feature"):  # List, Sequence, LargeList
            visit(feat.feature)

    visit(dict(ds.features))
    if media or ds._indices is not None:
        ds.to_parquet(path)
        return
    batch = features_batch(ds.features) or size_batch(len(ds), ds.data.nbytes)
    ds.to_parquet(path, batch_size=batch)


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    """Write ready-made JSON Lines (each ending in a newline) atomically (temp file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.writelines(lines)
    tmp.replace(path)
    return path


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    """Write rows as UTF-8 JSON Lines atomically (temp file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")  # NaN is not JSON
    tmp.replace(path)
    return path
