"""`toolforge generate` and `toolforge teachers`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from toolforge.cli.choices import SCENARIOS, Dialect, each_one_of
from toolforge.cli.common import DbOption, JsonOption, default_db, info, print_json


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_cmd)
    app.command("teachers")(teachers_cmd)


def generate_cmd(
    scenario: Annotated[Optional[list[str]], typer.Option("--scenario", "-s", callback=each_one_of((*SCENARIOS, "multi_turn")), metavar="SCENARIO", help="Scenario(s) to generate (default: all seven); multi_turn: sessions (--mode session).")] = None,
    n: Annotated[Optional[int], typer.Option("--n", "-n", min=0, help="Records per scenario (with --recipe: the total).")] = None,
    teacher: Annotated[Optional[list[str]], typer.Option(envvar="TOOLFORGE_TEACHER", help="openai:MODEL[@URL], vllm:MODEL, llamacpp:NAME_OR_PATH or fake: (default: llamacpp:smollm2). Repeat for a fleet: endpoints of one teacher, least-outstanding routing.")] = None,
    teacher_option: Annotated[Optional[list[str]], typer.Option("--teacher-option", help="Backend option KEY=VALUE (JSON values), e.g. --teacher-option n_threads=2.")] = None,
    catalog: Annotated[Optional[list[str]], typer.Option("--catalog", "-c", help="Tool catalog name or .json path (repeatable; default smol-tools).")] = None,
    recipe: Annotated[Optional[Path], typer.Option(help="Recipe YAML (datasets/*.yaml): scenario mix, catalog, teacher, seed.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed: the same seed gives the same requests.")] = None,
    concurrency: Annotated[Optional[int], typer.Option(min=1, help="Requests in flight at once (default 8).")] = None,
    max_attempts: Annotated[Optional[int], typer.Option(min=1, help="Teacher replies per record, re-asks included (default 3).")] = None,
    max_retries: Annotated[int, typer.Option(min=0, help="Retries of a failed request (429, 5xx, timeout).")] = 6,
    temperature: Annotated[Optional[float], typer.Option(min=0, max=2, help="Sampling temperature (default 0.7).")] = None,
    max_tokens: Annotated[Optional[int], typer.Option(min=16, help="Reply token limit (default 1024).")] = None,
    meaning_checks: Annotated[Optional[bool], typer.Option("--meaning-checks/--form-only", help="Accept records on the meaning checks too (grounding, provenance: the default for real teachers) or on form alone (schema, arguments, scenario shape: the default for the packaged SmolLM2 smoke-test model; `toolforge validate` applies every check afterwards).")] = None,
    dialect: Annotated[Optional[Dialect], typer.Option(help="openai: structured output dialect: auto, json_schema, json_object, none.")] = None,
    api_key_env: Annotated[Optional[str], typer.Option(help="openai: environment variable holding the API key (sent to a custom URL only when given).")] = None,
    run_name: Annotated[Optional[str], typer.Option(help="Name the run; re-running with the same name continues it.")] = None,
    resume: Annotated[Optional[str], typer.Option(help="Continue the generation run with this id until its targets are met.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Use the fake: teacher and a throw-away store; print the records.")] = False,
    mode: Annotated[Optional[str], typer.Option(help="stepwise (request, calls, tool results from the environment, answer: the default for real teachers), oneshot (one reply per record: fast) or session (--n multi-turn sessions: a simulated user with a goal and a persona, 3-20 rounds).")] = None,
    min_rounds: Annotated[Optional[int], typer.Option("--min-rounds", help="session: fewest user rounds of a stored session (3-20, default 5).")] = None,
    max_rounds: Annotated[Optional[int], typer.Option("--max-rounds", help="session: most user rounds of a session (3-20, default 8).")] = None,
    seeds: Annotated[Optional[Path], typer.Option(help="YAML of your own personas, user_styles, topics and per-tool tasks/keywords, merged over the packaged pools.")] = None,
    mock: Annotated[Optional[Path], typer.Option(help="stepwise: a Python module whose functions (named like the tools) answer tool calls.")] = None,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Generate validated conversations with a teacher model into the store (resumable)."""
    from pydantic import ValidationError

    from toolforge.cli.common import key_values
    from toolforge.errors import UsageError
    from toolforge.generate.config import GenerateConfig
    from toolforge.record import SCENARIOS

    opts = key_values(teacher_option, "--teacher-option")
    if dialect is not None:
        opts["dialect"] = dialect
    if api_key_env is not None:
        opts["api_key_env"] = api_key_env
    fields: dict[str, Any] = {"max_retries": max_retries, "run_name": run_name}
    if mode is not None:
        if mode not in ("oneshot", "stepwise", "session", "auto"):
            raise UsageError(f"--mode {mode!r}: choose oneshot, stepwise, session or auto")
        fields["mode"] = mode
    for flag, value in (("--min-rounds", min_rounds), ("--max-rounds", max_rounds)):
        if value is not None and not 3 <= value <= 20:
            raise UsageError(f"{flag} {value}: a session has 3 to 20 rounds")
    if min_rounds is not None and max_rounds is not None and min_rounds > max_rounds:
        raise UsageError(f"--min-rounds {min_rounds} is more than --max-rounds {max_rounds}")
    if seeds is not None:
        fields["seeds"] = str(seeds)
    if mock is not None:
        fields["mock"] = str(mock)
    if recipe is not None:
        from toolforge.recipe import load_recipe

        r = load_recipe(recipe)
        part = r.generate
        targets = part.targets(n)
        if scenario:
            targets = {s: c for s, c in targets.items() if s in scenario}
        fields.update(catalogs=r.resolve_catalogs(), teacher=part.teacher, seed=part.seed,
                      concurrency=part.concurrency, max_attempts=part.max_attempts, temperature=part.temperature,
                      max_tokens=part.max_tokens, teacher_options={**part.teacher_options},
                      teachers=getattr(part, "teachers", None) or None, tool_weights=dict(part.tool_weights),
                      meaning_checks=part.meaning_checks, min_rounds=part.min_rounds, max_rounds=part.max_rounds)
    else:
        targets = dict.fromkeys(scenario or SCENARIOS, 10 if n is None else n)
    if fields.get("mode") == "session" or "multi_turn" in targets:
        if fields.get("mode") not in (None, "session"):
            raise UsageError(f"--scenario multi_turn is session mode: do not combine it with --mode {fields['mode']}")
        others = sorted(set(targets) - {"multi_turn"}) if scenario or recipe is not None else []
        if others:
            raise UsageError(f"sessions are generated alone: drop --scenario {' '.join(others)} with multi_turn "
                             "or --mode session")
        fields["mode"] = "session"
        targets = {"session": targets.get("multi_turn", 10 if n is None else n)}
    elif min_rounds is not None or max_rounds is not None:
        raise UsageError("--min-rounds/--max-rounds are for sessions: add --mode session")
    if teacher:  # one spec, or several: a fleet of endpoints of one teacher
        fields.update(teacher=teacher[0], teachers=teacher if len(teacher) > 1 else None)
    if fields.get("teachers"):
        from toolforge.backends.fleet import endpoint_dicts

        fields["teachers"] = endpoint_dicts(fields["teachers"])
        fields["teacher"] = fields["teachers"][0]["spec"]
    given: list[tuple[str, Any]] = [("seed", seed), ("concurrency", concurrency),
                                    ("max_attempts", max_attempts), ("temperature", temperature),
                                    ("max_tokens", max_tokens), ("catalogs", catalog or None),
                                    ("meaning_checks", meaning_checks), ("min_rounds", min_rounds),
                                    ("max_rounds", max_rounds)]
    for key, value in given:
        if value is not None:
            fields[key] = value
    if opts:
        fields["teacher_options"] = {**fields.get("teacher_options", {}), **opts}
    if dry_run:
        fields["teacher"] = "fake:"
        fields["teacher_options"] = {}
        fields["teachers"] = []
    fields = {k: v for k, v in fields.items() if v is not None}
    try:
        cfg = GenerateConfig(targets=targets, **fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"] if p != "targets")
        msg = err["msg"].removeprefix("Value error, ")
        raise UsageError(f"{where}: {msg}" if where else msg) from None
    if resume is not None and (dry_run or recipe is not None):
        raise UsageError("--resume continues a stored run: do not combine it with --recipe or --dry-run")
    if dry_run:
        _dry_run(cfg, as_json)
        return
    summary = _run(db, cfg, resume)
    _report(summary, as_json)


def _run(db: Path, cfg: Any, resume: str | None) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from toolforge.cli.display import ProgressLines, is_quiet, stderr_is_terminal
    from toolforge.errors import Interrupted
    from toolforge.generate.runner import generate

    console = Console(stderr=True)
    on_terminal = console.is_terminal and stderr_is_terminal()
    bar = Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("rejected {task.fields[rejected]} retried {task.fields[transport]} "
                              "failed jobs {task.fields[gave_up]} {task.fields[rate]:.1f} rec/s"),
                   TimeElapsedColumn(), console=console, disable=not on_terminal or is_quiet())
    task = bar.add_task("generate", total=cfg.total, rejected=0, transport=0, gave_up=0, rate=0.0)

    last: dict[str, Any] = {}

    def on_progress(p: Any) -> None:
        last["p"] = p
        bar.update(task, completed=p.accepted, rejected=p.rejected, transport=p.transport, gave_up=p.gave_up,
                   rate=p.rate)

    def state() -> str:  # the line printed every few seconds when stderr is a log, not a terminal
        p = last.get("p")
        if p is None:
            return f"0/{cfg.total} accepted (waiting for the teacher)"
        return (f"{p.accepted}/{cfg.total} accepted, rejected {p.rejected}, retried {p.transport}, "
                f"failed jobs {p.gave_up}, {p.rate:.1f} rec/s")

    try:
        if on_terminal:
            with bar:
                return generate(db, cfg, resume=resume, on_progress=on_progress)
        with ProgressLines("generate", state):
            return generate(db, cfg, resume=resume, on_progress=on_progress)
    except KeyboardInterrupt:
        p = last.get("p")
        hint = None
        if p is not None and p.run_id:
            hint = (f"what was accepted is stored; continue with `toolforge generate --resume {p.run_id}"
                    f" --db {db}`")
        raise Interrupted(hint=hint) from None


def _report(summary: Any, as_json: bool) -> None:
    data = summary.to_dict()
    if as_json:
        print_json(data)
        return
    from toolforge.cli.display import print_table

    print_table(["scenario", "stored", "target"],
                [[s, summary.stored.get(s, 0), target] for s, target in summary.targets.items()],
                title=f"run {summary.run_id} ({summary.status})")
    fails = ", ".join(f"{k} {v}" for k, v in summary.failures.items()) or "none"
    info(f"{summary.new_this_session} new records in {summary.seconds:.1f}s ({summary.rate:.1f}/s); "
         f"failures: {fails}")


def _dry_run(cfg: Any, as_json: bool) -> None:
    import tempfile

    from toolforge.generate.runner import generate
    from toolforge.store import open_store

    with tempfile.TemporaryDirectory(prefix="toolforge-dry-") as tmp:
        db = Path(tmp) / "dry.duckdb"
        summary = generate(db, cfg)
        with open_store(db, read_only=True) as store:
            records = [r.to_dict() for r in store.iter_records()]
    if as_json:
        print_json({"summary": summary.to_dict(), "records": records})
        return
    import sys

    from toolforge.cli.display import json_text

    for r in records:
        sys.stdout.write(json_text(r, indent=None) + "\n")
    info(f"dry run: {len(records)} records from the fake: teacher (nothing stored)")


def teachers_cmd(as_json: JsonOption = False) -> None:
    """List teacher backends and whether each can run here (and why not)."""
    from toolforge.backends import list_backends

    rows = list_backends()
    if as_json:
        print_json(rows)
        return
    from toolforge.cli.display import print_table

    print_table(["spec", "available", "what"],
                [[r["prefix"] + ":", "yes" if r["available"] else f"no ({r['why']})", r["summary"]] for r in rows],
                title="teacher backends")
