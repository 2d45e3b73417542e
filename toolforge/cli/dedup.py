"""`toolforge dedup`: mark exact, near and semantic duplicates, or records too close to an eval set."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from toolforge.cli.choices import SELECT_SCENARIOS, DedupEngine, DedupMethod, Status, each_one_of
from toolforge.cli.common import DbOption, JsonOption, default_db, info, print_json


def register(app: typer.Typer) -> None:
    app.command("dedup")(dedup_cmd)


def dedup_cmd(
    method: Annotated[DedupMethod, typer.Option("--method", help="exact, near (MinHash + LSH) or semantic (embeddings).")] = "exact",
    threshold: Annotated[Optional[float], typer.Option(help="near: Jaccard (default 0.8); semantic: cosine (default 0.85); in (0, 1].")] = None,
    against: Annotated[Optional[str], typer.Option("--against", help="Decontaminate: mark records too close to this eval file or folder (e.g. ../shared/bfcl), or split:NAME of the last export.")] = None,
    ngram: Annotated[Optional[int], typer.Option(help="near: shingles are word n-grams of length 1..N (default 1).")] = None,
    num_perm: Annotated[Optional[int], typer.Option("--num-perm", help="near: MinHash permutations (default 64).")] = None,
    engine: Annotated[Optional[DedupEngine], typer.Option(help="near: duckdb (default, faster) or datasketch.")] = None,
    scenario: Annotated[Optional[list[str]], typer.Option("--scenario", "-s", callback=each_one_of(SELECT_SCENARIOS), metavar="SCENARIO", help="Only these scenarios (session: multi-turn sessions).")] = None,
    status: Annotated[Status, typer.Option(help="Only records with this status (any, valid, curated, ...).")] = "any",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be marked; write nothing.")] = False,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Find duplicates; keep one record per cluster and mark the others (nothing is deleted)."""
    from toolforge.dedup import make_config, run_dedup
    from toolforge.store import open_store

    cfg = make_config(method=method, threshold=threshold, against=against, ngram=ngram, num_perm=num_perm,
                      engine=engine, scenarios=scenario, status=status, dry_run=dry_run)
    if cfg.method == "semantic":
        from toolforge.dedup.semantic import model_dir

        model_dir()  # a missing extra fails before the store is opened
    from toolforge.cli.display import activity

    with open_store(db, create=False) as store, activity(f"dedup {cfg.method}"):
        result = run_dedup(store, cfg)
    data = result.to_dict()
    if as_json:
        print_json(data)
        return
    verb = "would mark" if cfg.dry_run else "marked"
    if result.against:
        info(f"{result.method} decontamination against {result.against} ({result.reference_items} items): "
             f"{verb} {result.marked} of {result.records} records")
    else:
        info(f"{result.method} dedup: {result.records} records, {result.clusters} clusters, {verb} {result.marked} "
             f"duplicates ({result.seconds:.2f} s)")
    if result.largest:
        from toolforge.cli.display import Column, print_table

        cols = list(result.largest[0])
        print_table([Column(c, no_wrap=True) for c in cols], [[row[c] for c in cols] for row in result.largest],
                    title="closest matches" if result.against else "largest clusters")
