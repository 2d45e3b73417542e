"""The ``audio`` table (migration m0400_audio) and the audio folder next to the store.

Audio files live under :func:`audio_root` (``<store folder>/<store stem>-audio/``);
the table holds paths relative to it, so the store and its audio folder can be
moved together. Other stages read rows with :func:`audio_rows` (each with an
absolute ``abs_path``) and the voice distribution with :func:`voice_distribution`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolforge.store.bulk import insert_rows
from toolforge.store.db import ISSUE_COLUMNS

if TYPE_CHECKING:
    from toolforge.store.db import Store

AUDIO_COLUMNS = (("record_id", "VARCHAR"), ("turn", "INTEGER"), ("role", "VARCHAR"), ("path", "VARCHAR"),
                 ("engine", "VARCHAR"), ("voice", "VARCHAR"), ("rate", "DOUBLE"), ("pitch", "DOUBLE"),
                 ("sample_rate", "INTEGER"), ("duration_s", "DOUBLE"), ("qc_ok", "BOOLEAN"), ("qc", "JSON"),
                 ("text_sha", "VARCHAR"), ("params", "JSON"), ("run_id", "VARCHAR"))
COLUMNS = tuple(c for c, _ in AUDIO_COLUMNS)
ISSUE_STAGE = "audio"


def audio_root(store: Store | Path | str) -> Path:
    """The folder that holds a store's audio files: ``<stem>-audio`` beside the store file."""
    path = Path(store.path if hasattr(store, "path") else store).resolve()
    return path.parent / f"{path.stem}-audio"


def safe_stem(record_id: str) -> str:
    """A file-name-safe form of a record id (``b2:ab12..`` -> ``b2_ab12..``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", record_id)


def relative_path(record_id: str, turn: int, role: str, fmt: str) -> str:
    """Where a turn's audio goes, relative to the audio root. Derived from id and turn only."""
    stem = safe_stem(record_id)
    return f"{stem[:5]}/{stem}/t{turn:03d}-{role}.{fmt}"


def audio_rows(store: Store, record_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows of the audio table (``qc`` and ``params`` decoded), each with an absolute ``abs_path``."""
    if not store.has_table("audio"):
        return []
    sql = f"SELECT {', '.join(COLUMNS)}, created_at FROM audio"
    params: list[Any] = []
    if record_ids is not None:
        if not record_ids:
            return []
        sql += " WHERE record_id IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(record_ids))
    sql += " ORDER BY record_id, turn"
    rows = store._dicts(sql, params)
    root = audio_root(store)
    for row in rows:
        row["qc"] = json.loads(row["qc"]) if isinstance(row["qc"], str) else row["qc"]
        if isinstance(row.get("params"), str):
            row["params"] = json.loads(row["params"])
        row["abs_path"] = root / row["path"]
    return rows


def _replace_issues(con: Any, keys: Sequence[tuple[str, str]], issue_rows: Sequence[tuple[Any, ...]]) -> None:
    """Replace the audio-stage issues at ``keys`` ``[(record_id, path)]`` with ``issue_rows``."""
    con.execute("DELETE FROM issues WHERE stage = ? AND (record_id, path) IN "
                "(SELECT (unnest(?::VARCHAR[]), unnest(?::VARCHAR[])))",
                [ISSUE_STAGE, [k[0] for k in keys], [k[1] for k in keys]])
    insert_rows(con, "issues", ISSUE_COLUMNS, issue_rows)


def upsert_audio(store: Store, rows: Iterable[dict[str, Any]]) -> int:
    """Insert or replace audio rows (keyed by record and turn) and their QC issues, in one transaction."""
    rows = list(rows)
    if not rows:
        return 0
    values = [tuple(json.dumps(r[c], ensure_ascii=False) if c in ("qc", "params") else r.get(c) for c in COLUMNS)
              for r in rows]
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in ("record_id", "turn"))
    keys = [(r["record_id"], f"messages[{r['turn']}]") for r in rows]
    issue_rows = [(r["record_id"], ISSUE_STAGE, code, f"messages[{r['turn']}]", message, "error")
                  for r in rows for code, message in r.get("issues", [])]
    with store.transaction() as con:
        _replace_issues(con, keys, issue_rows)
        insert_rows(con, "audio", AUDIO_COLUMNS, values,
                    on_conflict=f"ON CONFLICT (record_id, turn) DO UPDATE SET {updates}, created_at = now()")
    return len(rows)


def record_text_issues(store: Store, problems: Sequence[tuple[str, int, str]]) -> None:
    """Store 'nothing to speak' problems ``[(record_id, turn, message)]`` as audio issues."""
    if not problems:
        return
    with store.transaction() as con:
        _replace_issues(con, [(rid, f"messages[{turn}]") for rid, turn, _ in problems],
                        [(rid, ISSUE_STAGE, "audio.no_text", f"messages[{turn}]", msg, "error")
                         for rid, turn, msg in problems])


def voice_distribution(store: Store) -> dict[str, Any]:
    """How the stored audio spreads over engines, voices, rates and pitches (for `toolforge stats`)."""
    if not store.has_table("audio"):
        return {"files": 0}
    con = store.con
    total = con.execute("SELECT count(*), coalesce(sum(duration_s), 0), count(*) FILTER (WHERE NOT qc_ok) "
                        "FROM audio").fetchone()
    assert total is not None
    by_voice = con.execute(
        "SELECT engine, role, voice, count(*) AS n, round(sum(duration_s), 2) FROM audio "
        "GROUP BY engine, role, voice ORDER BY n DESC, voice").fetchall()
    ranges = con.execute(
        "SELECT engine, role, min(rate), max(rate), round(avg(rate), 1), min(pitch), max(pitch), "
        "round(avg(pitch), 1), count(DISTINCT voice) FROM audio GROUP BY engine, role ORDER BY engine, role"
    ).fetchall()
    return {
        "files": int(total[0]),
        "seconds": round(float(total[1]), 2),
        "qc_failed": int(total[2]),
        "voices": [{"engine": e, "role": ro, "voice": v, "files": int(n), "seconds": float(s)}
                   for e, ro, v, n, s in by_voice],
        "ranges": [{"engine": e, "role": ro, "rate": [a, b], "rate_mean": m, "pitch": [c, d], "pitch_mean": pm,
                    "distinct_voices": int(k)} for e, ro, a, b, m, c, d, pm, k in ranges],
    }
