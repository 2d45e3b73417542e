"""`toolforge render` and `toolforge parse`: model-family chat formats."""

from __future__ import annotations

from typing import Annotated

import typer

from toolforge.cli.common import print_json

FamilyOption = Annotated[str, typer.Option("--family", "-f", help="hermes, llama3_json, pythonic, mistral, lfm2, phi4_mini, deepseek_v3, xlam.")]


def register(app: typer.Typer) -> None:
    app.command("render")(render_cmd)
    app.command("parse")(parse_cmd)


def render_cmd(
    family: FamilyOption,
    generation_prompt: Annotated[bool, typer.Option("--generation-prompt", help="End with the assistant prompt.")] = False,
) -> None:
    """Render a record (JSON on stdin) as a model family's training text (stdout)."""
    import sys

    from toolforge.formats.service import render_text

    sys.stdout.write(render_text(sys.stdin.read(), family, add_generation_prompt=generation_prompt))


def parse_cmd(family: FamilyOption) -> None:
    """Parse model output (stdin) into a JSON list of {name, arguments} calls ([] when none)."""
    import sys

    from toolforge.formats import get_parser

    parser = get_parser(family)
    print_json(parser(sys.stdin.read()))
