"""Figures about a store, all computed with DuckDB SQL.

:func:`compute_stats` returns one JSON-able dict (what ``toolforge stats --json``
prints and what the report charts). Sections:

- ``records``: per scenario, over every latest revision (duplicates included):
  total, valid, invalid, unvalidated, duplicates (marked by any method);
- ``validation``: per scenario over the selection: validated, passed, pass rate,
  and issue codes (records and issues per code);
- ``tools``: calls and records per tool, tools offered vs called (coverage), and
  coverage of a named catalog when one is given;
- ``calls_per_record``, ``turns_per_record`` (messages and user turns),
  ``lengths`` (characters of message text and reasoning, and words): mean,
  median, p90 (``quantile_cont``), max and a histogram;
- ``duplicates``: records marked per dedup method;
- ``diversity``: distinct n-gram ratios and the most repeated openings of requests
  and answers, persona and topic spread, embedding spread per scenario (the
  ``semantic`` extra; see :mod:`toolforge.stats.diversity`);
- ``audio``, ``review``, ``generation``: present when the tables of those stages
  exist and hold rows for the selection; otherwise ``{"available": false}`` with
  the reason.

The *selection* (default: latest revisions, duplicates skipped, any status) is
what every section but ``records`` and ``duplicates`` counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolforge.store.select import Selection, selection_sql

if TYPE_CHECKING:
    from toolforge.store.db import Store

__all__ = ["compute_stats"]

SEL = "_tf_st_sel"
PER = "_tf_st_rec"
_MSGS = "json_extract(r.messages, '$[*]')"


def _dicts(store: Store, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = store.con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _one(store: Store, sql: str, params: list[Any] | None = None) -> Any:
    row = store.con.execute(sql, params or []).fetchone()
    return row[0] if row else None


def _r(x: Any, nd: int = 4) -> Any:
    return round(float(x), nd) if x is not None else None


# multi-turn sessions (meta.mode 'session') have no single-request scenario: their own group
_SCENARIO = "coalesce(r.scenario, CASE WHEN r.meta->>'mode' = 'session' THEN 'session' ELSE '(none)' END)"


def _prepare(store: Store, sel: Selection) -> int:
    where, params = selection_sql(sel, store)
    store.con.execute(f"CREATE OR REPLACE TEMP TABLE {SEL} AS SELECT r.id FROM records r WHERE {where}", params)
    text = (f"array_to_string(list_transform({_MSGS}, lambda m: coalesce(m->>'content', '') || ' ' || "
            "coalesce(m->>'reasoning', '')), ' ')")
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {PER} AS SELECT r.id, {_SCENARIO} AS scenario, "
        f"len({_MSGS}) AS n_messages, "
        f"len(list_filter({_MSGS}, lambda m: m->>'role' = 'user')) AS n_user, "
        f"coalesce(len(json_extract_string(r.messages, '$[*].tool_calls[*].function.name')), 0) AS n_calls, "
        f"coalesce(list_sum(list_transform({_MSGS}, lambda m: length(coalesce(m->>'content', '')) + "
        f"length(coalesce(m->>'reasoning', '')))), 0) AS n_chars, "
        f"len(regexp_extract_all({text}, '\\S+')) AS n_words "
        f"FROM records r WHERE r.id IN (SELECT id FROM {SEL})"
    )
    return int(_one(store, f"SELECT count(*) FROM {PER}") or 0)


def _distribution(store: Store, col: str, *, bins: int | None = None) -> dict[str, Any]:
    row = store.con.execute(
        f"SELECT avg({col}), median({col}), quantile_cont({col}, 0.9), min({col}), max({col}) FROM {PER}"
    ).fetchone()
    if not row or row[0] is None:
        return {"mean": None, "median": None, "p90": None, "min": None, "max": None, "histogram": []}
    mean, med, p90, lo, hi = row
    out: dict[str, Any] = {"mean": _r(mean, 2), "median": _r(med, 2), "p90": _r(p90, 2), "min": int(lo), "max": int(hi)}
    if bins is None or hi - lo < bins:
        counts = dict(store.con.execute(f"SELECT {col}, count(*) FROM {PER} GROUP BY 1").fetchall())
        out["histogram"] = [{"value": v, "records": int(counts.get(v, 0))} for v in range(int(lo), int(hi) + 1)]
    else:
        width = max(1, -(-(int(hi) - int(lo) + 1) // bins))
        counts = dict(store.con.execute(
            f"SELECT ({col} - ?) // ? AS b, count(*) FROM {PER} GROUP BY 1", [int(lo), width]).fetchall())
        n_bins = (int(hi) - int(lo)) // width + 1
        out["histogram"] = [{"from": int(lo) + b * width, "to": int(lo) + (b + 1) * width - 1,
                             "records": int(counts.get(b, 0))} for b in range(n_bins)]
    return out


def _records_section(store: Store, scenarios: list[str] | None) -> dict[str, Any]:
    sel = Selection(include_duplicates=True, scenarios=scenarios)
    where, params = selection_sql(sel, store)
    rows = _dicts(store, f"""
        SELECT {_SCENARIO} AS scenario, count(*) AS total,
          count(*) FILTER (WHERE v.n > 0 AND v.bad = 0) AS valid,
          count(*) FILTER (WHERE v.bad > 0) AS invalid,
          count(*) FILTER (WHERE v.n IS NULL) AS unvalidated,
          count(*) FILTER (WHERE d.record_id IS NOT NULL) AS duplicates
        FROM records r
        LEFT JOIN (SELECT record_id, count(*) AS n, count(*) FILTER (WHERE NOT ok) AS bad
                   FROM validations GROUP BY record_id) v ON v.record_id = r.id
        LEFT JOIN (SELECT DISTINCT record_id FROM dedup_marks) d ON d.record_id = r.id
        WHERE {where} GROUP BY 1 ORDER BY 1""", params)
    totals = {k: sum(r[k] for r in rows) for k in ("total", "valid", "invalid", "unvalidated", "duplicates")}
    return {"by_scenario": rows, **totals}


def _validation_section(store: Store) -> dict[str, Any]:
    if not _one(store, "SELECT count(*) FROM validations"):
        return {"available": False, "reason": "no validation results (run `toolforge validate`)"}
    by = _dicts(store, f"""
        SELECT p.scenario, count(v.record_id) AS validated,
          count(v.record_id) FILTER (WHERE v.bad = 0) AS passed
        FROM {PER} p LEFT JOIN (SELECT record_id, count(*) FILTER (WHERE NOT ok) AS bad
                                 FROM validations GROUP BY record_id) v ON v.record_id = p.id
        GROUP BY 1 ORDER BY 1""")
    for row in by:
        row["pass_rate"] = _r(row["passed"] / row["validated"]) if row["validated"] else None
    validated = sum(r["validated"] for r in by)
    passed = sum(r["passed"] for r in by)
    codes = _dicts(store, f"""
        SELECT p.scenario, i.code, i.severity, count(DISTINCT i.record_id) AS records, count(*) AS issues
        FROM issues i JOIN {PER} p ON p.id = i.record_id GROUP BY 1, 2, 3 ORDER BY 1, records DESC, 2""")
    by_code = _dicts(store, f"""
        SELECT i.code, count(DISTINCT i.record_id) AS records, count(*) AS issues
        FROM issues i JOIN {PER} p ON p.id = i.record_id GROUP BY 1 ORDER BY records DESC, 1""")
    return {"available": True, "validated": validated, "passed": passed,
            "pass_rate": _r(passed / validated) if validated else None,
            "by_scenario": by, "issue_codes": codes, "issue_codes_total": by_code}


def _tools_section(store: Store, catalog: str | None) -> dict[str, Any]:
    usage = _dicts(store, f"""
        WITH called AS (SELECT r.id, unnest(json_extract_string(r.messages, '$[*].tool_calls[*].function.name')) AS tool
                        FROM records r WHERE r.id IN (SELECT id FROM {PER})),
             offered AS (SELECT DISTINCT r.id, unnest(json_extract_string(r.tools, '$[*].function.name')) AS tool
                         FROM records r WHERE r.id IN (SELECT id FROM {PER})),
             c AS (SELECT tool, count(*) AS calls, count(DISTINCT id) AS records FROM called GROUP BY 1),
             o AS (SELECT tool, count(*) AS offered_in FROM offered GROUP BY 1)
        SELECT coalesce(c.tool, o.tool) AS tool, coalesce(c.calls, 0) AS calls, coalesce(c.records, 0) AS records,
               coalesce(o.offered_in, 0) AS offered_in
        FROM c FULL OUTER JOIN o ON o.tool = c.tool ORDER BY calls DESC, tool""")
    offered = {u["tool"] for u in usage if u["offered_in"]}
    called = {u["tool"] for u in usage if u["calls"]}
    out: dict[str, Any] = {
        "usage": usage, "offered": len(offered), "called": len(called & offered),
        "coverage": _r(len(called & offered) / len(offered)) if offered else None,
        "never_called": sorted(offered - called), "called_not_offered": sorted(called - offered),
    }
    if catalog:
        from toolforge.catalog import load_catalog

        cat = load_catalog(catalog)
        names = set(cat.names)
        out["catalog"] = {"name": cat.name, "tools": len(names), "called": len(names & called),
                          "coverage": _r(len(names & called) / len(names)) if names else None,
                          "never_called": sorted(names - called)}
    return out


def _duplicates_section(store: Store) -> dict[str, Any]:
    rows = _dicts(store, "SELECT method, count(*) AS records FROM dedup_marks GROUP BY 1 ORDER BY 1")
    total = _one(store, "SELECT count(DISTINCT record_id) FROM dedup_marks") or 0
    clusters = {}
    if store.has_table("dedup_clusters"):
        clusters = {m: int(n) for m, n in store.con.execute(
            "SELECT method, count(DISTINCT cluster_id) FROM dedup_clusters GROUP BY 1").fetchall()}
    for row in rows:
        row["clusters"] = clusters.get(row["method"])
    return {"by_method": rows, "total": int(total)}


def _audio_section(store: Store) -> dict[str, Any]:
    if not store.has_table("audio"):
        return {"available": False, "reason": "no audio table (run `toolforge tts`)"}
    where = f"a.record_id IN (SELECT id FROM {PER})"
    clips = _one(store, f"SELECT count(*) FROM audio a WHERE {where}") or 0
    if not clips:
        return {"available": False, "reason": "no audio for the selected records"}
    summary = store.con.execute(
        f"SELECT sum(duration_s) / 3600.0, count(DISTINCT record_id), count(*) FILTER (WHERE NOT qc_ok), "
        f"count(DISTINCT engine || ':' || voice) FROM audio a WHERE {where}").fetchone()
    assert summary is not None
    voices = _dicts(store, f"""SELECT engine, voice, count(*) AS clips, round(sum(duration_s) / 3600.0, 4) AS hours
        FROM audio a WHERE {where} GROUP BY 1, 2 ORDER BY clips DESC, 1, 2""")
    roles = _dicts(store, f"""SELECT role, count(*) AS clips, round(sum(duration_s) / 3600.0, 4) AS hours
        FROM audio a WHERE {where} GROUP BY 1 ORDER BY 1""")
    return {"available": True, "clips": int(clips), "hours": _r(summary[0]), "records": int(summary[1]),
            "qc_failed": int(summary[2]), "voices": int(summary[3]), "by_voice": voices, "by_role": roles}


def _review_section(store: Store) -> dict[str, Any]:
    if not _one(store, "SELECT count(*) FROM review_verdicts"):
        return {"available": False, "reason": "no review verdicts (run `toolforge review pull`)"}
    rows = _dicts(store, f"""SELECT verdict, count(*) AS records FROM review_verdicts
        WHERE record_id IN (SELECT id FROM {PER}) GROUP BY 1 ORDER BY 1""")
    reviewed = sum(r["records"] for r in rows)
    return {"available": True, "verdicts": rows, "reviewed": reviewed,
            "accept_rate": _r(sum(r["records"] for r in rows if r["verdict"] == "accept") / reviewed) if reviewed else None}


def _generation_section(store: Store) -> dict[str, Any]:
    if not store.has_table("generation_attempts"):
        return {"available": False, "reason": "no generation table"}
    if not _one(store, "SELECT count(*) FROM generation_attempts"):
        return {"available": False, "reason": "no generation attempts stored"}
    by = _dicts(store, "SELECT scenario, outcome, count(*) AS attempts FROM generation_attempts GROUP BY 1, 2 ORDER BY 1, 2")
    # stepwise/session runs store every step as an outcome 'step' row: a step that went through has no detail
    # and is no failure; a refused step reply is one, named by its step and the issue code that refused it
    reasons = _dicts(store, """SELECT outcome, reason, count(*) AS attempts FROM (
            SELECT outcome, CASE WHEN outcome = 'step' THEN coalesce(reason, '?') || ': ' || split_part(detail, ':', 1)
                                 ELSE coalesce(reason, '(none)') END AS reason
            FROM generation_attempts
            WHERE outcome <> 'accepted' AND NOT (outcome = 'step' AND detail IS NULL))
        GROUP BY 1, 2 ORDER BY attempts DESC, 1, 2""")
    return {"available": True, "by_scenario_outcome": by, "failure_reasons": reasons}


def compute_stats(store: Store, selection: Selection | None = None, *, catalog: str | None = None,
                  embeddings: bool | None = None) -> dict[str, Any]:
    """Every figure of ``toolforge stats`` for the store (see the module doc).

    ``embeddings``: True computes request embeddings that ``dedup --semantic`` has not cached (loads the
    model); None uses the cached ones only.
    """
    from toolforge.stats.diversity import diversity_section

    sel = selection or Selection()
    n = _prepare(store, sel)
    try:
        out: dict[str, Any] = {
            "store": str(store.path),
            "selection": sel.model_dump(exclude_defaults=True),
            "records": _records_section(store, sel.scenarios),
            "selected": n,
            "validation": _validation_section(store),
            "tools": _tools_section(store, catalog),
            "calls_per_record": _distribution(store, "n_calls"),
            "turns_per_record": {"messages": _distribution(store, "n_messages"),
                                 "user_turns": _distribution(store, "n_user")},
            "lengths": {"chars": _distribution(store, "n_chars", bins=20),
                        "words": _distribution(store, "n_words", bins=20)},
            "duplicates": _duplicates_section(store),
            "diversity": diversity_section(store, PER, embeddings=embeddings),
            "audio": _audio_section(store),
            "review": _review_section(store),
            "generation": _generation_section(store),
        }
    finally:
        store.con.execute(f"DROP TABLE IF EXISTS {PER}")
        store.con.execute(f"DROP TABLE IF EXISTS {SEL}")
    return out
