"""Every command has help text, is listed by --help, and appears in the README."""

from __future__ import annotations

from pathlib import Path

import typer

from toolforge.cli import app

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def _walk(cmd, prefix):
    yield prefix, cmd
    for name, sub in (getattr(cmd, "commands", None) or {}).items():
        if not getattr(sub, "hidden", False):
            yield from _walk(sub, f"{prefix} {name}")


def _commands():
    return list(_walk(typer.main.get_command(app), "toolforge"))


def test_every_command_has_help():
    for path, cmd in _commands():
        assert (cmd.help or "").strip(), f"{path} has no help text"


def test_every_command_is_in_readme():
    missing = [path for path, _ in _commands()[1:] if f"`{path}" not in README and f"{path} " not in README]
    assert not missing, f"commands not documented in README.md: {missing}"


def test_help_lists_groups(run_cli):
    proc = run_cli("--help", check=True)
    top = typer.main.get_command(app)
    for name in top.commands:
        assert name in proc.stdout
