"""`toolforge review serve|push|pull|status`: the Label Studio review loop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from toolforge.cli.common import DbOption, JsonOption, default_db, info, print_json, stdout_console

review_app = typer.Typer(
    name="review", help="Review records in Label Studio: serve, push tasks, pull verdicts and edits, status.",
    no_args_is_help=True,
)

UrlOption = Annotated[Optional[str], typer.Option(
    "--url", envvar="LABEL_STUDIO_URL",
    help="Label Studio URL (default http://127.0.0.1:8080); the token comes from LABEL_STUDIO_API_KEY.")]
ProjectOption = Annotated[Optional[str], typer.Option(
    "--project", help="Project title: found, or created by push (default 'toolforge review').")]
ProjectIdOption = Annotated[Optional[int], typer.Option("--project-id", min=1, help="Use this existing project.")]


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")


@review_app.command("serve")
def serve_cmd(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8080,
    data_dir: Annotated[Optional[Path], typer.Option(help="Label Studio data dir (default: .labelstudio beside the store).")] = None,
    files_root: Annotated[Optional[Path], typer.Option(help="LOCAL_FILES_DOCUMENT_ROOT (default: the store's folder, which holds its audio folder).")] = None,
    db: DbOption = default_db(),
) -> None:
    """Run Label Studio (from .venv-labelstudio) on 127.0.0.1 with a generated admin and token."""
    from toolforge.review.server import (
        LabelStudioServer,
        default_data_dir,
        find_label_studio,
        store_audio_root,
    )

    find_label_studio()  # a missing server fails here, with the fix
    server = LabelStudioServer(data_dir or default_data_dir(db), files_root or store_audio_root(Path(db)).parent, port=port)
    creds = server.credentials
    info(f"Label Studio at {server.url} (data {server.data_dir}, local files {server.files_root})")
    info(f"log in as {creds['username']}; password and API token are in {server.data_dir.resolve()}/toolforge-credentials.json")
    info("push/pull against this server find the token there; Ctrl-C stops it")
    server.start(foreground=True)


@review_app.command("push")
def push_cmd(
    status: Annotated[str, typer.Option(help="Which records: valid (default), any, curated, invalid, ...")] = "valid",
    scenario: Annotated[Optional[list[str]], typer.Option("--scenario", "-s", help="Only these scenarios.")] = None,
    include_reviewed: Annotated[bool, typer.Option("--include-reviewed", help="Also push records that already have a verdict.")] = False,
    limit: Annotated[Optional[int], typer.Option(min=1, help="At most this many records.")] = None,
    config: Annotated[str, typer.Option("--config", help="Labeling config for a new project: auto, text or audio.")] = "auto",
    label_config: Annotated[Optional[Path], typer.Option(help="Your own labeling config XML (same control names).")] = None,
    files_root: Annotated[Optional[Path], typer.Option(help="The server's LOCAL_FILES_DOCUMENT_ROOT (default: the store's folder, as `review serve` sets it).")] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Tasks per import request.")] = 1000,
    url: UrlOption = None,
    project: ProjectOption = None,
    project_id: ProjectIdOption = None,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Import records as Label Studio tasks (idempotent: a second push imports nothing new)."""
    from toolforge.cli.common import choice_check
    from toolforge.review import connect, push
    from toolforge.review.config import load_config
    from toolforge.store import make_selection, open_store

    choice_check(config, ("auto", "text", "audio"), "labeling config kind")
    if label_config is not None:
        load_config("text", label_config)  # a bad file fails before anything else
    sel = make_selection(status=status, scenarios=scenario, limit=limit)
    with open_store(db, create=False) as store:
        ls = connect(url)
        res = push(store, ls, selection=sel, unreviewed_only=not include_reviewed, project_title=project,
                   project_id=project_id, kind=config, label_config=label_config, files_root=files_root,
                   chunk_size=chunk_size)
    for w in res.warnings:
        info(f"warning: {w}")
    if as_json:
        print_json(res.to_dict())
    else:
        info(f"project {res.project_id} ({res.project_title}, {res.config_kind}) at {res.url}: "
             f"{res.selected} selected, {res.imported} imported, {res.updated} updated, {res.unchanged} unchanged"
             + (f", {res.adopted} found on the server" if res.adopted else ""))
        if not res.selected:
            info("nothing selected: validate first (`toolforge validate`) or pass --status any")


@review_app.command("pull")
def pull_cmd(
    url: UrlOption = None,
    project: ProjectOption = None,
    project_id: ProjectIdOption = None,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Read annotations back: verdicts, ratings, notes, and edits stored as new revisions."""
    from toolforge.review import connect, pull
    from toolforge.store import open_store

    with open_store(db, create=False) as store:
        ls = connect(url)
        res = pull(store, ls, project_title=project, project_id=project_id)
    if as_json:
        print_json(res.to_dict())
        return
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(res.verdicts.items())) or "no verdicts"
    info(f"project {res.project_id}: {res.annotations} annotations on {res.tasks} tasks -> {verdicts}; "
         f"{res.revisions} edited revisions, {len(res.invalid_edits)} invalid edits, {res.skipped} skipped, "
         f"{res.invalid_annotations} invalid annotations")
    for bad in res.invalid_edits:
        info(f"invalid edit by {bad['annotator']} on {bad['record_id']}: {bad['reason']}")
    for p in res.problems[:20]:
        info(f"warning: {p}")


@review_app.command("status")
def status_cmd(
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Counts per verdict and per annotator, and agreement where tasks have several annotations."""
    from toolforge.review import review_status
    from toolforge.store import open_store

    with open_store(db, read_only=True) as store:
        st = review_status(store)
    if as_json:
        print_json(st)
        return
    from rich.table import Table

    console = stdout_console()
    v = st["verdicts"]
    console.print(f"pushed {st['pushed']}, reviewed {st['reviewed']}: "
                  f"{v['accept']} accept, {v['reject']} reject, {v['needs_fix']} needs_fix")
    table = Table(title="annotators")
    for col in ("annotator", "annotations", "accept", "reject", "needs_fix", "skipped", "invalid"):
        table.add_column(col)
    for who, row in st["annotators"].items():
        table.add_row(who, *(str(row[c]) for c in ("annotations", "accept", "reject", "needs_fix", "skipped", "invalid")))
    console.print(table)
    a = st["agreement"]
    console.print(f"agreement: {a['records_with_several']} records with several annotations, {a['unanimous']} unanimous, "
                  f"pairwise {a['pairwise_agreement']}, Fleiss' kappa {a['fleiss_kappa']}")
    console.print(f"resolution: {st['resolution']}")
