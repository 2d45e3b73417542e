"""`toolforge review serve|push|pull|status`: the Label Studio review loop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from toolforge.cli.choices import SELECT_SCENARIOS, ReviewConfig, Status, each_one_of
from toolforge.cli.common import DbOption, JsonOption, default_db, info, print_json

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
    feedback_port: Annotated[Optional[int], typer.Option(min=0, max=65535, help="Also run the feedback endpoint on this port (0: any free port): annotations are validated as they are submitted and the result is written to the task. Starts Label Studio with SSRF_PROTECTION_ENABLED=false so it may call 127.0.0.1.")] = None,
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
    server = LabelStudioServer(data_dir or default_data_dir(db), files_root or store_audio_root(Path(db)).parent, port=port,
                               allow_local_webhooks=feedback_port is not None)
    creds = server.credentials
    info(f"Label Studio at {server.url} (data {server.data_dir}, local files {server.files_root})")
    info(f"log in as {creds['username']}; password and API token are in {server.data_dir.resolve()}/toolforge-credentials.json")
    info("push/pull against this server find the token there; Ctrl-C stops it")
    if feedback_port is None:
        server.start(foreground=True)
        return
    _serve_with_feedback(server, feedback_port)


def _serve_with_feedback(server: object, feedback_port: int) -> None:
    import signal
    import time

    from toolforge.review.client import LabelStudio
    from toolforge.review.server import LabelStudioServer, save_feedback_endpoint
    from toolforge.review.webhook import FeedbackServer

    assert isinstance(server, LabelStudioServer)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    server.start()
    endpoint = FeedbackServer(LabelStudio(server.url, server.credentials["token"]), port=feedback_port).start()
    save_feedback_endpoint(server.data_dir, endpoint.url, endpoint.secret)
    info(f"feedback endpoint at {endpoint.url}: `review push` registers it on the projects it pushes to "
         "(Label Studio runs with SSRF_PROTECTION_ENABLED=false to reach it)")
    try:
        while not stopping and server.proc is not None and server.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        endpoint.stop()
        server.stop()


@review_app.command("push")
def push_cmd(
    status: Annotated[Status, typer.Option(help="Which records: valid (default), any, curated, invalid, ...")] = "valid",
    scenario: Annotated[Optional[list[str]], typer.Option("--scenario", "-s", callback=each_one_of(SELECT_SCENARIOS), metavar="SCENARIO", help="Only these scenarios (session: multi-turn sessions).")] = None,
    include_reviewed: Annotated[bool, typer.Option("--include-reviewed", help="Also push records that already have a verdict.")] = False,
    limit: Annotated[Optional[int], typer.Option(min=1, help="At most this many records.")] = None,
    config: Annotated[ReviewConfig, typer.Option("--config", help="Labeling config for a new project: auto, text or audio.")] = "auto",
    label_config: Annotated[Optional[Path], typer.Option(help="Your own labeling config XML (same control names).")] = None,
    files_root: Annotated[Optional[Path], typer.Option(help="The server's LOCAL_FILES_DOCUMENT_ROOT (default: the store's folder, as `review serve` sets it).")] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Tasks per import request.")] = 1000,
    overlap: Annotated[Optional[int], typer.Option(min=1, help="How many annotators see each task (Label Studio's maximum annotations per task, honoured by its labeling queue).")] = None,
    restore: Annotated[bool, typer.Option("--restore", help="Re-create tasks that were deleted on the server (by default a deleted task stays deleted).")] = False,
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
    from toolforge.cli.display import activity

    with open_store(db, create=False) as store, activity("review push"):
        ls = connect(url)
        res = push(store, ls, selection=sel, unreviewed_only=not include_reviewed, project_title=project,
                   project_id=project_id, kind=config, label_config=label_config, files_root=files_root,
                   chunk_size=chunk_size, restore=restore, overlap=overlap)
        hook = _register_feedback(ls, res.project_id)
    if hook:
        info(f"feedback endpoint {hook} registered on project {res.project_id}")
    for w in res.warnings:
        info(f"warning: {w}")
    if as_json:
        print_json(res.to_dict())
    else:
        info(f"project {res.project_id} ({res.project_title}, {res.config_kind}) at {res.url}: "
             f"{res.selected} selected, {res.imported} imported, {res.updated} updated, {res.unchanged} unchanged"
             + (f", {res.adopted} found on the server" if res.adopted else "")
             + (f", {res.revisions} revisions (marked, linked to their parent task)" if res.revisions else "")
             + (f", {res.superseded} old tasks marked superseded" if res.superseded else "")
             + (f", {res.deleted_skipped} deleted on the server and not re-created (--restore)" if res.deleted_skipped else ""))
        if not res.selected:
            info("nothing selected: validate first (`toolforge validate`) or pass --status any")


def _register_feedback(ls: object, project_id: int) -> str | None:
    """Point the project's webhook at the feedback endpoint of a server started by `review serve --feedback-port`."""
    from toolforge.review.client import LabelStudio
    from toolforge.review.server import feedback_endpoint_for_url
    from toolforge.review.webhook import register

    assert isinstance(ls, LabelStudio)
    endpoint = feedback_endpoint_for_url(ls.url)
    if not endpoint:
        return None
    register(ls, project_id, endpoint["url"], endpoint["secret"])
    return endpoint["url"]


@review_app.command("feedback")
def feedback_cmd(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")] = 8181,
    url: UrlOption = None,
    project: ProjectOption = None,
    project_id: ProjectIdOption = None,
) -> None:
    """Run the feedback endpoint for a project: each submitted annotation is validated and the result is
    written to its task within seconds. The Label Studio server must be allowed to call 127.0.0.1
    (SSRF_PROTECTION_ENABLED=false; `review serve --feedback-port` does both)."""
    import time

    from toolforge.review import connect
    from toolforge.review.push import open_project
    from toolforge.review.webhook import FeedbackServer, register

    ls = connect(url)
    proj = open_project(ls, title=project, project_id=project_id, kind="text", label_config=None, create=False)
    endpoint = FeedbackServer(ls, port=port).start()
    try:
        register(ls, proj.id, endpoint.url, endpoint.secret)
        info(f"feedback endpoint at {endpoint.url} for project {proj.id} ({proj.title}); Ctrl-C stops it")
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        endpoint.stop()


@review_app.command("pull")
def pull_cmd(
    url: UrlOption = None,
    project: ProjectOption = None,
    project_id: ProjectIdOption = None,
    lead: Annotated[Optional[list[str]], typer.Option("--lead", help="An annotator (email or username) whose annotations are ground truth and settle disagreements (repeatable); annotations marked ground truth in Label Studio count so too.")] = None,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Read annotations back: verdicts, ratings, notes, and edits stored as new revisions."""
    from toolforge.cli.display import activity
    from toolforge.review import connect, pull
    from toolforge.store import open_store

    with open_store(db, create=False) as store, activity("review pull"):
        ls = connect(url)
        res = pull(store, ls, project_title=project, project_id=project_id, leads=lead)
    if as_json:
        print_json(res.to_dict())
        return
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(res.verdicts.items())) or "no verdicts"
    info(f"project {res.project_id}: {res.annotations} annotations on {res.tasks} tasks -> {verdicts}; "
         f"{res.revisions} edited revisions, {len(res.invalid_edits)} invalid edits, {res.skipped} skipped, "
         f"{res.invalid_annotations} invalid annotations, {res.stale_annotations} on superseded tasks (not counted), "
         f"{res.pending} held back by an invalid edit")
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
    from toolforge.cli.display import Column, print_table, print_text

    v = st["verdicts"]
    print_text(f"pushed {st['pushed']}, reviewed {st['reviewed']}: "
               f"{v['accept']} accept, {v['reject']} reject, {v['needs_fix']} needs_fix")
    cols = ("annotations", "accept", "reject", "needs_fix", "skipped", "invalid", "stale")
    final = st["agreement"]["with_final_verdict"]
    rows = []
    for who, row in st["annotators"].items():  # annotator names are data: print_table cleans them
        agree = final.get(who)
        rows.append([who, *(row.get(c, 0) for c in cols),
                     f"{agree['agreement']:.2f} of {agree['records']}" if agree else "-"])
    print_table([Column("annotator"), *(Column(c, justify="right") for c in cols),
                 Column("agrees with final", justify="right")], rows, title="annotators")
    a = st["agreement"]
    alpha = "undefined" if a["alpha"] is None else f"{a['alpha']:.3f}"
    print_text(f"agreement: Krippendorff's alpha {alpha} over {a['alpha_records']} records with several annotations "
               f"({a['unanimous']} unanimous)")
    for name, part in (("scenario", a["per_scenario"]), ("pair", a["per_pair"])):
        for key, fig in part.items():
            val = "undefined" if fig["alpha"] is None else f"{fig['alpha']:.3f}"
            print_text(f"  {name} {key}: alpha {val} over {fig['records']} records")
    o = st["outcomes"]
    if o["by_basis"]:
        print_text("how verdicts were reached: " + ", ".join(f"{n} {b}" for b, n in o["by_basis"].items()))
    for p in o["pending"][:10]:
        print_text(f"  held back: {p['record_id']}: {p['detail']}")
    print_text(f"resolution: {st['resolution']}")
    for judge, j in (st.get("judge_agreement") or {}).get("judges", {}).items():
        kappa = "undefined" if j["kappa"] is None else f"{j['kappa']:.3f}"
        print_text(f"LLM judge {judge} vs review: agrees on {j['agreement']:.2f} of {j['records']} records "
                   f"(Cohen's kappa {kappa})")
