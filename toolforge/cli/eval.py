"""`toolforge eval`: score a model's tool calls (given or generated) against references."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional, cast

import typer

from toolforge.cli.choices import Family, MatchMode
from toolforge.cli.common import JsonOption, info, print_json


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)


def eval_cmd(
    references: Annotated[Optional[Path], typer.Option("--references", "-r", help="Reference records (JSON Lines) or a split name of the store (--db), or BFCL question files/folder with --bfcl.")] = None,
    split: Annotated[Optional[str], typer.Option(help="Score a split of the store (--db) instead of a file.")] = None,
    predictions: Annotated[Optional[Path], typer.Option("--predictions", "-p", help='Predictions (JSON Lines of {"id", "turn", "output"|"tool_calls"}).')] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Generate the predictions with this teacher spec (openai:M@URL, vllm:M, llamacpp:NAME, fake:).")] = None,
    family: Annotated[Optional[Family], typer.Option(help="Parser family for raw outputs (see README: Formats).")] = None,
    match: Annotated[MatchMode, typer.Option(help="Argument matching: exact (after canonicalisation) or bfcl.")] = "exact",
    first_turn_only: Annotated[bool, typer.Option("--first-turn-only", help="Score only the first assistant message of each record.")] = False,
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Score turns without a prediction as empty outputs.")] = False,
    bfcl: Annotated[bool, typer.Option("--bfcl", help="References are BFCL files; score with BFCL's rules.")] = False,
    matching: Annotated[Optional[str], typer.Option(help="Pairing of parallel calls: greedy (official BFCL; the default with --bfcl) or maximum (the default otherwise).")] = None,
    category: Annotated[Optional[list[str]], typer.Option("--category", help="BFCL categories to score (default: all given).")] = None,
    include_inconsistent: Annotated[bool, typer.Option("--include-inconsistent", help="Also score the BFCL entries whose gold answer is known to be wrong.")] = False,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N references.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Folder for results.json, turns.jsonl and (with --model) predictions.jsonl.")] = None,
    temperature: Annotated[float, typer.Option(help="Sampling temperature with --model.")] = 0.0,
    max_tokens: Annotated[int, typer.Option(min=1, help="Token limit per answer with --model.")] = 512,
    seed: Annotated[int, typer.Option(help="Seed with --model.")] = 0,
    model_option: Annotated[Optional[list[str]], typer.Option("--model-option", help="Backend option KEY=VALUE (JSON values) with --model, e.g. --model-option chat_template=chatml_tools for hf:.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight with --model.")] = 4,
    compare: Annotated[Optional[tuple[Path, Path]], typer.Option(help="Show two eval results (results.json, --out folders, or eval run ids in --db) side by side.")] = None,
    db: Annotated[Optional[Path], typer.Option("--db", envvar="TOOLFORGE_DB", help="DuckDB store: the --split to read, and where the result is kept (eval_runs).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Score tool calls: precision/recall/F1 of tool selection, JSON validity, argument correctness,
    no-tool accuracy and exact match, overall and per scenario (or per BFCL category)."""
    from toolforge.cli.common import choice_check, key_values
    from toolforge.errors import UsageError

    if compare is not None:
        from toolforge.evaluate import compare_results, load_result

        cmp = compare_results(load_result(compare[0], db), load_result(compare[1], db))
        if as_json:
            print_json(cmp)
        else:
            _print_compare(cmp, compare)
        return

    from pydantic import ValidationError

    from toolforge.evaluate import EvalConfig, result_rows, run_eval
    from toolforge.evaluate.bfcl import CATEGORIES

    choice_check(match, ("exact", "bfcl"), "match mode")
    if matching is not None:
        choice_check(matching, ("greedy", "maximum"), "matching")
    if (references is not None and not bfcl and split is None and not references.exists()
            and references.suffix == "" and len(references.parts) == 1):
        # --references FILE_OR_SPLIT: a bare name that is not a file is a split of the store
        split, references = str(references), None
        if db is None:
            from toolforge.cli.common import default_db

            db = default_db()
    for c in category or []:
        choice_check(c, CATEGORIES, "BFCL category")
    try:
        cfg = EvalConfig(references=references, split=split, db=db, predictions=predictions, model=model,
                         family=family, match=cast(Any, match), first_turn_only=first_turn_only, allow_missing=allow_missing,
                         bfcl=bfcl, matching=cast(Any, matching), categories=category or None,
                         include_inconsistent=include_inconsistent,
                         limit=limit, out=out, temperature=temperature, max_tokens=max_tokens, seed=seed,
                         concurrency=concurrency, model_options=key_values(model_option, "--model-option"))
    except ValidationError as exc:
        raise UsageError(exc.errors()[0]["msg"].removeprefix("Value error, "), hint="see `toolforge eval --help`") from None
    if references is not None:
        from toolforge.io.jsonl import check_readable

        if not (bfcl and references.is_dir()):
            check_readable(references)
    if predictions is not None:
        from toolforge.io.jsonl import check_readable

        check_readable(predictions)
    from toolforge.cli.display import activity

    with activity("eval"):
        result = run_eval(cfg)
    if out is not None:
        info(f"wrote {out / 'results.json'}" + (f" and {out / 'predictions.jsonl'}" if model else ""))
    if result.get("run_id"):
        info(f"stored as eval run {result['run_id']} in {db}")
    if as_json:
        print_json({k: v for k, v in result.items() if k != "failures"} |
                   ({"failures": result["failures"][:50]} if "failures" in result else {}))
        return
    cols, rows = result_rows(result)
    _print_table(result, cols, rows)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _with_counts(metric: str, value: Any, c: dict[str, int]) -> str:
    frac = {
        "precision": (c["tp"], c["tp"] + c["fp"]),
        "recall": (c["tp"], c["tp"] + c["fn"]),
        "json_validity": (c["valid_outputs_with_calls"], c["outputs_with_calls"]),
        "argument_correctness": (c["argument_correct_calls"], c["selected_calls"]),
        "no_tool_accuracy": (c["no_call_turns_correct"], c["no_call_turns"]),
        "exact_match": (c["exact_turns"], c["turns"]),
    }.get(metric)
    return _fmt(value) + (f" {frac[0]}/{frac[1]}" if frac else "")


_HEADERS = {"scenario": "scenario", "turns": "turns", "precision": "precision", "recall": "recall", "f1": "F1",
            "json_validity": "JSON valid", "argument_correctness": "args correct", "no_tool_accuracy": "no-tool acc",
            "exact_match": "exact match"}


def _print_table(result: dict[str, Any], cols: list[str], rows: list[list[Any]]) -> None:
    from toolforge.cli.display import Column, print_table
    from toolforge.evaluate import METRICS

    if result["kind"] == "bfcl":
        print_table([Column(c, justify="left" if c == "category" else "right") for c in cols],
                    [[_fmt(v) for v in r] for r in rows], title="BFCL accuracy by category")
        return
    groups = {"overall": result["overall"], **result["by_scenario"]}
    table = []
    for r in rows:
        counts = groups[r[0]]["counts"]
        table.append([r[0], str(r[1]), *(_with_counts(m, v, counts) for m, v in zip(METRICS, r[2:], strict=True))])
    print_table([Column(_HEADERS.get(c, c), justify="left" if c == "scenario" else "right", no_wrap=True) for c in cols],
                table, title=f"eval: {result['overall']['counts']['turns']} scored turns")


def _print_compare(cmp: dict[str, Any], paths: tuple[Path, Path]) -> None:
    from toolforge.cli.display import Column, print_table

    table = []
    for r in cmp["rows"]:
        d = r["delta"]
        table.append([r["group"], r["metric"], _fmt(r["a"]), _fmt(r["b"]), "-" if d is None else f"{d:+.3f}"])
    print_table([Column(c, justify="left" if c in ("group", "metric") else "right")
                 for c in ("group", "metric", "A", "B", "B - A")], table, title=f"A = {paths[0]}   B = {paths[1]}")
