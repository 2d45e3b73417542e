"""CLI conventions (as in `hf`, `llm`, `sqlite-utils`): --version, shell completion,
-q/-v everywhere, one meaning per short flag, choices shown and checked, `-o -`,
--no-include-duplicates, plain tables off a terminal, progress lines in logs, and a
`--help` that imports none of the heavy libraries."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from importlib.metadata import version
from typing import get_args

import pytest
import typer

from tests.conftest import EXAMPLES, ROOT
from toolforge.cli import app
from toolforge.cli import choices as ch

SAMPLE = [json.loads(line) for line in (EXAMPLES / "sample.jsonl").read_text().splitlines() if line.strip()]
HEAVY = ("pydantic", "duckdb", "rich", "jinja2", "numpy", "httpx", "yaml", "jsonschema", "openai", "aiohttp",
         "toolforge.record", "toolforge.store")


def _walk(cmd, path="toolforge"):
    yield path, cmd
    for name, sub in (getattr(cmd, "commands", None) or {}).items():
        yield from _walk(sub, f"{path} {name}")


def _commands():
    return list(_walk(typer.main.get_command(app)))


def test_each_short_flag_has_one_meaning_across_all_commands():
    meanings: dict[str, dict[str, list[str]]] = {}
    for path, cmd in _commands():
        for p in cmd.params:
            opts = [*getattr(p, "opts", []), *getattr(p, "secondary_opts", [])]
            longs = sorted(o for o in opts if o.startswith("--"))
            for o in opts:
                if len(o) == 2 and o[0] == "-" and o != "--":
                    meanings.setdefault(o, {}).setdefault(longs[0] if longs else p.name, []).append(path)
    clashes = {flag: where for flag, where in meanings.items() if len(where) > 1}
    assert not clashes, f"short flags with several meanings: {clashes}"
    meaning = {flag: next(iter(longs)) for flag, longs in meanings.items()}
    assert {"-o": "--out", "-f": "--format", "-m": "--model", "-q": "--quiet", "-v": "--verbose"}.items() <= meaning.items()


def test_every_command_takes_quiet_and_verbose():
    for path, cmd in _commands():
        if getattr(cmd, "commands", None):
            continue
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        assert {"-q", "--quiet", "-v", "--verbose"} <= opts, path


@pytest.mark.parametrize("args", [["--help"], ["export", "--help"], ["review", "push", "--help"]])
def test_help_imports_no_heavy_library(args):
    # typer (0.29) itself imports pydantic to coerce option values once a subcommand is named
    heavy = HEAVY if args == ["--help"] else tuple(m for m in HEAVY if m != "pydantic")
    code = ("import sys, io, contextlib\n"
            f"sys.argv = ['toolforge', *{args!r}]\n"
            "from toolforge.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main()\n    except SystemExit:\n        pass\n"
            "print(' '.join(sorted(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    assert not [m for m in heavy if m in loaded], f"`toolforge {' '.join(args)}` imports heavy modules"


def test_version(run_cli):
    proc = run_cli("--version", check=True)
    assert proc.stdout == f"toolforge {version('toolforge')}\n" and proc.stderr == ""


def test_shell_completion_script_and_answers(run_cli):
    script = run_cli("--show-completion", "bash", env={"SHELL": "/bin/bash"}, check=True).stdout
    assert "_TOOLFORGE_COMPLETE=complete_bash" in script and "complete -o default -F" in script
    env = {"_TOOLFORGE_COMPLETE": "complete_bash", "COMP_WORDS": "toolforge expo", "COMP_CWORD": "1"}
    assert run_cli(env=env, check=True).stdout.split() == ["export"]
    env = {"_TOOLFORGE_COMPLETE": "complete_bash", "COMP_WORDS": "toolforge dedup --method ", "COMP_CWORD": "3"}
    assert run_cli(env=env, check=True).stdout.split() == ["exact", "near", "semantic"]


def test_choice_lists_match_the_registries():
    from toolforge.audio.engines import ENGINES
    from toolforge.audio.lfm2 import MARKUPS
    from toolforge.audio.text import REPLIES
    from toolforge.backends.base import Dialect
    from toolforge.dedup import METHODS
    from toolforge.dedup.minhash import ENGINES as DEDUP_ENGINES
    from toolforge.evaluate.score import MATCH_MODES
    from toolforge.export import FORMATS as EXPORT_FORMATS
    from toolforge.export.convert import THINK_MODES
    from toolforge.formats import FAMILIES
    from toolforge.importers import FORMATS as IMPORT_FORMATS
    from toolforge.pipeline import STAGES
    from toolforge.record import SCENARIOS
    from toolforge.review.config import CONFIG_KINDS
    from toolforge.store import STATUSES

    want = {"Scenario": SCENARIOS, "Status": STATUSES, "ImportFormat": tuple(IMPORT_FORMATS),
            "ExportFormat": tuple(EXPORT_FORMATS), "ThinkMode": THINK_MODES, "ToolMarkup": MARKUPS,
            "Family": tuple(FAMILIES), "DedupMethod": METHODS, "DedupEngine": DEDUP_ENGINES,
            "MatchMode": MATCH_MODES, "TTSEngine": tuple(ENGINES), "AudioFormat": ("wav", "flac"),
            "Replies": REPLIES, "ReviewConfig": ("auto", *CONFIG_KINDS), "Dialect": get_args(Dialect),
            "Stage": STAGES}
    assert set(want) == set(ch.ALL)
    from toolforge.cli.common import DEFAULT_DB
    from toolforge.store import DEFAULT_DB as STORE_DEFAULT_DB

    assert DEFAULT_DB == STORE_DEFAULT_DB
    for name, values in want.items():
        assert set(ch.ALL[name]) == set(values), name


def test_choice_options_show_and_check_their_choices(run_cli, tmp_path):
    helptext = run_cli("dedup", "--help", check=True).stdout
    assert "<exact|near|semantic>" in helptext and "<duckdb|datasketch>" in helptext
    for args, msg in ((["dedup", "--method", "fuzzy"], "Invalid value for '--method': 'fuzzy' is not one of "
                                                       "'exact', 'near', 'semantic'."),
                      (["list", "-s", "chit_chat"], "Invalid value for '--scenario' / '-s': 'chit_chat' is not one of"),
                      (["tts", "--replies", "all"], "Invalid value for '--replies': 'all' is not one of")):
        proc = run_cli(*args, "--db", tmp_path / "none.duckdb")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        first, *rest = proc.stderr.splitlines()
        assert first.startswith(f"error: {msg}"), first
        assert rest == [f"hint: see `toolforge {args[0]} --help`"]
        assert not (tmp_path / "none.duckdb").exists()


def test_quiet_silences_status_lines_and_verbose_adds_logs(run_cli, tmp_path, sample_path):
    db = tmp_path / "q.duckdb"
    proc = run_cli("-q", "import", sample_path, "--db", db, check=True)
    assert proc.stderr == "" and proc.stdout == ""
    proc = run_cli("import", sample_path, "--db", db, "-q", check=True)  # after the command too
    assert proc.stderr == ""
    plain = run_cli("export", "-f", "openai", "-o", tmp_path / "a", "--status", "any", "--db", db, check=True)
    assert plain.stderr == f"exported train: {len(SAMPLE)} as openai to {tmp_path / 'a'}\n"
    loud = run_cli("export", "-f", "openai", "-o", tmp_path / "b", "--status", "any", "--db", db, "-v", check=True)
    assert f"exported {len(SAMPLE)} records as openai to {tmp_path / 'b'}\n" in loud.stderr  # an info log
    quiet = run_cli("-q", "export", "-f", "openai", "-o", tmp_path / "c", "--status", "any", "--db", db, check=True)
    assert quiet.stderr == "" and (tmp_path / "c" / "train.jsonl").exists()


def test_out_dash_writes_to_stdout(run_cli, tmp_path, sample_path):
    db = tmp_path / "o.duckdb"
    run_cli("import", sample_path, "--db", db, check=True)
    run_cli("export", "-f", "openai", "-o", tmp_path / "dir", "--status", "any", "--db", db, check=True)
    piped = run_cli("export", "-f", "openai", "-o", "-", "--status", "any", "--db", db, check=True)
    assert piped.stdout == (tmp_path / "dir" / "train.jsonl").read_text()
    assert not (tmp_path / "-").exists()
    refused = run_cli("export", "-f", "trl", "-o", "-", "--status", "any", "--db", db)
    assert refused.returncode == 2 and refused.stderr.startswith("error: --out - writes JSON Lines to stdout; trl")
    report = run_cli("report", "-o", "-", "--db", db, check=True)
    assert report.stdout.startswith("<!DOCTYPE html>") and not (tmp_path / "-").exists()
    catalog = run_cli("tools", "from-python", ROOT / "tests" / "fixtures" / "pytools" / "sample_tools.py", "-o", "-",
                      check=True)
    assert json.loads(catalog.stdout)["tools"]


def test_list_no_include_duplicates(run_cli, tmp_path):
    twin = copy.deepcopy(SAMPLE[0])  # the same request and calls, another final answer: an exact duplicate
    twin.pop("id", None)
    twin["messages"][-1]["content"] += " Anything else?"
    src = tmp_path / "dups.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in [*SAMPLE, twin]))
    db = tmp_path / "d.duckdb"
    run_cli("import", src, "--db", db, check=True)
    run_cli("dedup", "--method", "exact", "--db", db, check=True)
    every = json.loads(run_cli("list", "--db", db, "--json", check=True).stdout)
    kept = json.loads(run_cli("list", "--db", db, "--json", "--no-include-duplicates", check=True).stdout)
    assert len(every) == len(SAMPLE) + 1 and len(kept) == len(SAMPLE)


def test_tables_are_tab_separated_when_piped(run_cli):
    out = run_cli("tools", "list", "--catalog", "smol-tools", check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "catalog\ttool\tdescription"
    assert all(len(line.split("\t")) == 3 for line in lines[1:]) and len(lines) > 5
    assert not set("─━│┃┏┓└┘╭╮") & set(out)


def test_progress_lines_when_stderr_is_not_a_terminal(run_cli, tmp_path):
    args = ["generate", "-s", "no_tool_needed", "--n", "6", "--teacher", "fake:", "--teacher-option", "latency=0.25",
            "--concurrency", "1"]
    env = {"TOOLFORGE_PROGRESS_INTERVAL": "0.3"}
    proc = run_cli(*args, "--db", tmp_path / "p.duckdb", env=env, check=True)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("generate: ")]
    assert len(lines) >= 2, proc.stderr
    assert lines[-1].startswith("generate: 6/6 accepted"), lines
    quiet = run_cli(*args, "--db", tmp_path / "q.duckdb", "-q", env=env, check=True)
    assert quiet.stderr == ""
