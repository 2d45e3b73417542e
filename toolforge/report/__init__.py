"""`toolforge report`: the stats of a store as one self-contained HTML page.

The page has no external resource (no script, style, font or image is fetched):
charts are inline SVG (:mod:`toolforge.report.svg`), styles are inline, and a
few lines of inline script only check the charts once the page has loaded
(``data-charts`` on ``<body>`` = charts laid out with a non-zero size,
``data-bars`` = bars drawn), which the headless-Chromium test reads.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolforge.report.svg import hbar, histogram, stacked

if TYPE_CHECKING:
    from toolforge.store.db import Store
    from toolforge.store.select import Selection

__all__ = ["render_report", "write_report"]

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2937;max-width:1400px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb}
.meta{color:#6b7280;font-size:13px} .cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:20px} .card span{color:#6b7280;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:24px} figure{margin:0} figcaption{font-weight:600;font-size:14px;margin:4px 0}
svg text{font-size:12px;fill:#374151} svg .note{fill:#9ca3af} svg .axis{stroke:#9ca3af}
table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}
"""

_CHECK = """
(function(){
  var charts = document.querySelectorAll('svg.chart'), shown = 0, bars = 0;
  charts.forEach(function(c){ var r = c.getBoundingClientRect(); if (r.width > 0 && r.height > 0) shown++;
    bars += c.querySelectorAll('rect.bar').length; });
  document.body.setAttribute('data-charts', String(shown));
  document.body.setAttribute('data-bars', String(bars));
})();
"""


def _card(value: Any, label: str) -> str:
    return f'<div class="card"><b>{escape(str(value))}</b><span>{escape(label)}</span></div>'


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(r.get(c, '')))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _diversity_figures(div: dict[str, Any]) -> list[str]:
    """Distinct n-gram ratios, the most repeated openings, persona/topic spread, embedding spread per scenario."""
    req, ans = div["requests"], div["answers"]
    ratios = [(f"{what} distinct-{n}", round(100 * (part[f"distinct_{n}"]["ratio"] or 0), 1))
              for what, part in (("requests", req), ("answers", ans)) for n in (1, 2, 3)]
    figs = [hbar("distinct_ngrams", "Distinct n-grams (share of all n-grams; higher is more varied)", ratios,
                 unit="%", max_value=100, color="#6366f1"),
            hbar("request_openings", "Most repeated request openings (first three words)",
                 [(o["opening"], o["records"]) for o in req["top_openings"]], color="#f97316",
                 note="no opening repeats"),
            hbar("answer_openings", "Most repeated answer openings",
                 [(o["opening"], o["records"]) for o in ans["top_openings"]], color="#f97316",
                 note="no opening repeats")]
    for key, label in (("personas", "Personas"), ("topics", "Topics")):
        part = div[key]
        if part.get("available"):
            figs.append(hbar(f"{key}_spread", f"{label}: {part['distinct']} distinct, evenness {part['evenness']:.2f}",
                             [(t["value"][:60], t["records"]) for t in part["top"]], color="#0ea5e9"))
        else:
            figs.append(f'<p class="meta">{escape(label)}: {escape(part.get("reason", ""))}</p>')
    rows = [{"scenario": s, "records": v["records"], "distinct-2 of requests": _pct(v["requests_distinct_2"]),
             "top opening": f'{v["top_opening"]["opening"]} ({v["top_opening"]["records"]})' if v["top_opening"] else "-"}
            for s, v in div["by_scenario"].items()]
    emb = div["embedding_spread"]
    if emb.get("available"):
        for r in rows:
            e = emb["by_scenario"].get(r["scenario"], {})
            r["embedding mean distance"] = "-" if e.get("mean_distance") is None else e["mean_distance"]
    figs.append(_table(rows, list(rows[0]) if rows else []))
    if not emb.get("available"):
        figs.append(f'<p class="meta">Embedding spread: {escape(emb.get("reason", ""))}</p>')
    return figs


def render_report(stats: dict[str, Any], *, title: str = "toolforge dataset report") -> str:
    rec = stats["records"]
    val = stats["validation"]
    tools = stats["tools"]
    dup = stats["duplicates"]
    audio, review, gen = stats["audio"], stats["review"], stats["generation"]
    cards = [_card(rec["total"], "records (latest revisions)"), _card(stats["selected"], "selected"),
             _card(_pct(val.get("pass_rate")) if val.get("available") else "-", "validation pass rate"),
             _card(_pct(tools.get("coverage")), "offered tools called"),
             _card(dup["total"], "records marked by dedup")]
    if audio.get("available"):
        cards.append(_card(f"{audio['hours']:.2f} h", f"audio, {audio['voices']} voices"))
    if review.get("available"):
        cards.append(_card(_pct(review.get("accept_rate")), "accepted in review"))

    sections: list[tuple[str, list[str]]] = []
    sections.append(("Records", [
        stacked("records_by_scenario", "Records per scenario and status",
                [(r["scenario"], [r["valid"], r["invalid"], r["unvalidated"]]) for r in rec["by_scenario"]],
                ["valid", "invalid", "unvalidated"], note="the store holds no records"),
        hbar("duplicates_by_scenario", "Duplicates per scenario",
             [(r["scenario"], r["duplicates"]) for r in rec["by_scenario"] if r["duplicates"]],
             color="#a3a3a3", note="no record is marked as a duplicate"),
    ]))
    if val.get("available"):
        sections.append(("Validation", [
            hbar("pass_rate_by_scenario", "Validation pass rate per scenario",
                 [(r["scenario"], round(100 * r["pass_rate"], 1)) for r in val["by_scenario"] if r["pass_rate"] is not None],
                 unit="%", max_value=100, color="#10b981"),
            hbar("issue_codes", "Records per issue code", [(r["code"], r["records"]) for r in val["issue_codes_total"][:25]],
                 color="#ef4444", note="no issues"),
            _table(val["issue_codes"], ["scenario", "code", "severity", "records", "issues"]),
        ]))
    else:
        sections.append(("Validation", [f'<p class="meta">{escape(val.get("reason", ""))}</p>']))
    usage = tools["usage"]
    cov = f"{tools['called']} of {tools['offered']} offered tools called ({_pct(tools.get('coverage'))})"
    tool_figs = [hbar("tool_usage", f"Tool calls per tool: {cov}", [(u["tool"], u["calls"]) for u in usage[:40]],
                      note="no tool calls")]
    if tools.get("catalog"):
        c = tools["catalog"]
        tool_figs.append(hbar("catalog_coverage", f"Catalog {c['name']}: {c['called']} of {c['tools']} tools called",
                              [("called", c["called"]), ("never called", c["tools"] - c["called"])], color="#8b5cf6"))
    if tools["never_called"]:
        tool_figs.append(f'<p class="meta">Offered but never called: {escape(", ".join(tools["never_called"]))}</p>')
    sections.append(("Tools", tool_figs))
    calls, turns = stats["calls_per_record"], stats["turns_per_record"]
    chars, words = stats["lengths"]["chars"], stats["lengths"]["words"]
    sections.append(("Shape", [
        histogram("calls_histogram", f"Calls per record (median {calls['median']}, p90 {calls['p90']})",
                  calls["histogram"], xlabel="calls"),
        histogram("turns_histogram", f"Messages per record (median {turns['messages']['median']}, p90 "
                  f"{turns['messages']['p90']})", turns["messages"]["histogram"], xlabel="messages"),
        histogram("length_histogram", f"Characters per record (median {chars['median']}, p90 {chars['p90']})",
                  chars["histogram"], xlabel="characters"),
        histogram("words_histogram", f"Words per record (median {words['median']}, p90 {words['p90']})",
                  words["histogram"], xlabel="words"),
    ]))
    sections.append(("Dedup", [hbar("duplicates_by_method", "Records marked per dedup method",
                                    [(r["method"], r["records"]) for r in dup["by_method"]], color="#a3a3a3",
                                    note="dedup has not marked anything")]))
    div = stats.get("diversity") or {}
    if div.get("available"):
        sections.append(("Diversity", _diversity_figures(div)))
    if audio.get("available"):
        sections.append(("Audio", [
            hbar("audio_by_voice", f"Audio hours per voice ({audio['clips']} clips, {audio['qc_failed']} failed QC)",
                 [(f"{v['engine']}:{v['voice']}", v["hours"]) for v in audio["by_voice"]], unit=" h", color="#14b8a6"),
        ]))
    if review.get("available"):
        sections.append(("Review", [hbar("review_verdicts", "Review verdicts",
                                         [(v["verdict"], v["records"]) for v in review["verdicts"]], color="#f59e0b")]))
    if gen.get("available"):
        sections.append(("Generation", [hbar("generation_failures", "Generation failures per reason",
                                             [(f"{r['outcome']}: {r['reason']}", r["attempts"])
                                              for r in gen["failure_reasons"][:25]],
                                             color="#ef4444", note="no failed attempts")]))
    body = "".join(f'<h2>{escape(name)}</h2><div class="grid">{"".join(figs)}</div>' for name, figs in sections)
    data = escape(json.dumps(stats, default=str, ensure_ascii=True))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class=\"meta\">store {escape(str(stats['store']))}</p>"
        f"<div class=\"cards\">{''.join(cards)}</div>{body}"
        f"<details><summary class=\"meta\">all figures (JSON)</summary><pre id=\"stats-json\">{data}</pre></details>"
        f"<script>{_CHECK}</script></body></html>\n"
    )


def write_report(store: Store, out: str | Path, selection: Selection | None = None, *,
                 catalog: str | None = None, embeddings: bool | None = None) -> dict[str, Any]:
    """Compute the stats and write the page; returns the stats."""
    from toolforge.errors import InputError
    from toolforge.stats import compute_stats

    out = Path(out)
    if out.is_dir():
        raise InputError(f"{out} is a folder", hint="pass a file name, e.g. --out report.html")
    if not out.parent.exists():
        raise InputError(f"folder {out.parent} does not exist")
    stats = compute_stats(store, selection, catalog=catalog, embeddings=embeddings)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render_report(stats), encoding="utf-8")
    tmp.replace(out)
    return stats
