"""`toolforge stats` (tables or JSON) and `toolforge report` (a self-contained HTML page)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from toolforge.cli.choices import SELECT_SCENARIOS, Status, each_one_of
from toolforge.cli.common import DbOption, JsonOption, default_db, info, is_stdout_path, print_json

ScenarioOpt = Annotated[Optional[list[str]], typer.Option("--scenario", "-s", callback=each_one_of(SELECT_SCENARIOS), metavar="SCENARIO", help="Only these scenarios (session: multi-turn sessions).")]
StatusOpt = Annotated[Status, typer.Option(help="Which records (see README: Selection).")]
DupOpt = Annotated[bool, typer.Option("--include-duplicates/--no-include-duplicates", help="Also count records marked by dedup.")]
CatalogOpt = Annotated[Optional[str], typer.Option("--catalog", help="Also report coverage of this tool catalog (name or file).")]
EmbedOpt = Annotated[bool, typer.Option("--embeddings", help="Embed requests that `dedup --semantic` has not (semantic extra; loads the model) for the embedding spread per scenario.")]


def register(app: typer.Typer) -> None:
    app.command("stats")(stats_cmd)
    app.command("report")(report_cmd)


def _selection(scenario: list[str] | None, status: str, include_duplicates: bool) -> Any:
    from toolforge.store import make_selection

    return make_selection(scenarios=scenario, status=status, include_duplicates=include_duplicates)


def stats_cmd(
    scenario: ScenarioOpt = None,
    status: StatusOpt = "any",
    include_duplicates: DupOpt = False,
    catalog: CatalogOpt = None,
    embeddings: EmbedOpt = False,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Counts, pass rates, issue codes, tool coverage, lengths, duplicates, diversity, audio and review figures."""
    from toolforge.stats import compute_stats
    from toolforge.store import open_store

    sel = _selection(scenario, status, include_duplicates)
    if catalog:
        from toolforge.catalog import load_catalog

        load_catalog(catalog)  # an unknown catalog fails before the store is read
    with open_store(db, read_only=True) as store:
        stats = compute_stats(store, sel, catalog=catalog, embeddings=embeddings or None)
    if stats["records"]["total"] == 0:
        info(f"note: {db} holds no records yet (import or generate some first)")
    if as_json:
        print_json(stats)
        return
    _render(stats)


def report_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write ('-' for stdout).")] = Path("report.html"),
    scenario: ScenarioOpt = None,
    status: StatusOpt = "any",
    include_duplicates: DupOpt = False,
    catalog: CatalogOpt = None,
    embeddings: EmbedOpt = False,
    db: DbOption = default_db(),
) -> None:
    """Write the stats as one self-contained HTML page of charts (viewable offline)."""
    from toolforge.errors import InputError
    from toolforge.report import write_report
    from toolforge.store import open_store

    sel = _selection(scenario, status, include_duplicates)
    if catalog:
        from toolforge.catalog import load_catalog

        load_catalog(catalog)
    with open_store(db, read_only=True) as store:
        if store.count_records() == 0:
            raise InputError(f"{db} holds no records: nothing to report", hint="import or generate records first")
        if is_stdout_path(out):
            import sys

            from toolforge.report import render_report
            from toolforge.stats import compute_stats

            stats = compute_stats(store, sel, catalog=catalog, embeddings=embeddings or None)
            sys.stdout.write(render_report(stats))
            info(f"wrote the report to stdout ({stats['selected']} records selected of {stats['records']['total']})")
            return
        stats = write_report(store, out, sel, catalog=catalog, embeddings=embeddings or None)
    info(f"wrote {out} ({stats['selected']} records selected of {stats['records']['total']})")


def _render(stats: dict[str, Any]) -> None:
    from toolforge.cli.display import Column, print_table

    def table(title: str, cols: list[str], rows: list[list[Any]]) -> None:
        print_table([Column(c, justify="left" if i == 0 else "right") for i, c in enumerate(cols)], rows, title=title)

    rec = stats["records"]
    cols = ["scenario", "total", "valid", "invalid", "unvalidated", "duplicates"]
    table(f"Records ({rec['total']} latest revisions; {stats['selected']} selected)", cols,
          [[r[c] for c in cols] for r in rec["by_scenario"]] + [["all", *(rec[c] for c in cols[1:])]])
    val = stats["validation"]
    if val.get("available"):
        table(f"Validation (pass rate {val['pass_rate']})", ["scenario", "validated", "passed", "pass rate"],
              [[r["scenario"], r["validated"], r["passed"], r["pass_rate"]] for r in val["by_scenario"]])
        if val["issue_codes"]:
            table("Issue codes", ["scenario", "code", "severity", "records", "issues"],
                  [[r["scenario"], r["code"], r["severity"], r["records"], r["issues"]] for r in val["issue_codes"]])
    else:
        info(f"validation: {val['reason']}")
    tools = stats["tools"]
    table(f"Tools ({tools['called']} of {tools['offered']} offered tools called, coverage {tools['coverage']})",
          ["tool", "calls", "records", "offered in"],
          [[u["tool"], u["calls"], u["records"], u["offered_in"]] for u in tools["usage"]])
    if tools.get("catalog"):
        c = tools["catalog"]
        info(f"catalog {c['name']}: {c['called']} of {c['tools']} tools called; never called: "
             f"{', '.join(c['never_called']) or 'none'}")
    dists = [("calls per record", stats["calls_per_record"]),
             ("messages per record", stats["turns_per_record"]["messages"]),
             ("user turns per record", stats["turns_per_record"]["user_turns"]),
             ("characters per record", stats["lengths"]["chars"]),
             ("words per record", stats["lengths"]["words"])]
    table("Shape", ["figure", "mean", "median", "p90", "min", "max"],
          [[n, d["mean"], d["median"], d["p90"], d["min"], d["max"]] for n, d in dists])
    dup = stats["duplicates"]
    table(f"Dedup ({dup['total']} records marked)", ["method", "records", "clusters"],
          [[r["method"], r["records"], r["clusters"]] for r in dup["by_method"]])
    div = stats.get("diversity") or {}
    if div.get("available"):
        req, ans = div["requests"], div["answers"]
        table("Diversity (distinct n-grams / all n-grams)", ["text", "distinct-1", "distinct-2", "distinct-3"],
              [[name, *(part[f"distinct_{n}"]["ratio"] for n in (1, 2, 3))] for name, part in
               (("requests", req), ("answers", ans))])
        table("Most repeated openings", ["text", "opening", "records", "share"],
              [[name, o["opening"], o["records"], o["share"]] for name, part in (("request", req), ("answer", ans))
               for o in part["top_openings"][:5]])
        for key in ("personas", "topics"):
            part = div[key]
            if part.get("available"):
                info(f"{key}: {part['distinct']} distinct over {part['records']} records, evenness {part['evenness']}")
        emb = div["embedding_spread"]
        if emb.get("available"):
            table(f"Embedding spread ({emb['model']})", ["scenario", "embedded", "mean distance", "centroid spread"],
                  [[s, e["embedded"], e["mean_distance"], e["centroid_spread"]] for s, e in emb["by_scenario"].items()])
        else:
            info(f"embedding spread: {emb['reason']}")
    audio = stats["audio"]
    if audio.get("available"):
        table(f"Audio ({audio['hours']} h, {audio['clips']} clips, {audio['voices']} voices, "
              f"{audio['qc_failed']} failed QC)", ["engine", "voice", "clips", "hours"],
              [[v["engine"], v["voice"], v["clips"], v["hours"]] for v in audio["by_voice"]])
    review = stats["review"]
    if review.get("available"):
        table(f"Review ({review['reviewed']} reviewed)", ["verdict", "records"],
              [[v["verdict"], v["records"]] for v in review["verdicts"]])
    gen = stats["generation"]
    if gen.get("available") and gen["failure_reasons"]:
        table("Generation failures", ["outcome", "reason", "attempts"],
              [[r["outcome"], r["reason"], r["attempts"]] for r in gen["failure_reasons"]])
