"""`toolforge render` and `toolforge parse`: model-family chat formats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from toolforge.cli.choices import Family
from toolforge.cli.common import print_json

FamilyOption = Annotated[Family, typer.Option("--family", help="Model family (see README: Formats).")]


def register(app: typer.Typer) -> None:
    app.command("render")(render_cmd)
    app.command("parse")(parse_cmd)


def render_cmd(
    family: Annotated[Optional[Family], typer.Option("--family", help="Model family (see README: Formats).")] = None,
    chat_template: Annotated[Optional[Path], typer.Option("--chat-template", help="A model's own Hugging Face chat template: a .jinja file, a tokenizer_config.json, or a local tokenizer folder.")] = None,
    template_name: Annotated[Optional[str], typer.Option("--template-name", help="Which of a folder's named chat templates (default: tool_use with tools, else default).")] = None,
    think: Annotated[str, typer.Option("--think", help="--chat-template: reasoning as reasoning_content (field), <think> in content (tags), or dropped.")] = "field",
    var: Annotated[Optional[list[str]], typer.Option("--var", help="--chat-template: KEY=VALUE passed to the template (e.g. enable_thinking=false); repeatable.")] = None,
    generation_prompt: Annotated[bool, typer.Option("--generation-prompt", help="End with the assistant prompt.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="--chat-template: print [{id, ok, text, issues}] instead of the texts.")] = False,
) -> None:
    """Render a record (JSON or JSON Lines on stdin) as a model family's or a chat template's training text (stdout).

    With --chat-template the text is what transformers' apply_chat_template writes; a record
    the template cannot express (it refuses it, or leaves out a turn's text, a call or the
    tools) is reported on stderr with its issue code, its text is not written, and the exit
    status is 1.
    """
    import sys

    from toolforge.cli.display import clean, stdout_is_terminal
    from toolforge.errors import UsageError

    if (family is None) == (chat_template is None):
        raise UsageError("give either --family or --chat-template")
    if family is not None:
        from toolforge.formats.service import render_text

        text = render_text(sys.stdin.read(), family, add_generation_prompt=generation_prompt)
    else:
        from toolforge.chat_template import load_chat_template, read_records, render_record
        from toolforge.cli.common import key_values

        assert chat_template is not None
        variables = key_values(var, "--var")
        template = load_chat_template(chat_template)
        results = [render_record(template, rec, think=think, add_generation_prompt=generation_prompt,
                                 template_name=template_name, variables=variables)
                   for rec in read_records(sys.stdin.read())]
        if as_json:
            print_json([r.to_dict() for r in results])
        else:
            from toolforge.cli.common import info

            for r in results:
                for issue in r.issues:
                    info(f"record {r.id}: {issue.severity} {issue.code} {issue.path or '-'}: {issue.message}")
            text = "\n".join(r.text for r in results if r.ok and r.text is not None)
        if not all(r.ok for r in results):
            if not as_json:
                sys.stdout.write(clean(text, multiline=True) if stdout_is_terminal() else text)
            raise typer.Exit(1)
        if as_json:
            return
    # the text is data: exact into a file or a pipe, without escape sequences on a terminal
    sys.stdout.write(clean(text, multiline=True) if stdout_is_terminal() else text)


def parse_cmd(
    family: FamilyOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print {calls, content, reasoning, strict, repairs}.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on output that is readable only after repair.")] = False,
) -> None:
    """Parse model output (stdin) into a JSON list of {name, arguments} calls ([] when none).

    The text that is not a call (and any reasoning block) is printed on stderr, or with the
    calls under --json; a reading that needed repair (an unterminated call closed, trailing
    commas) is reported, and refused under --strict.
    """
    import sys

    from toolforge.cli.common import info
    from toolforge.formats import parse_output

    parsed = parse_output(str(getattr(family, "value", family)), sys.stdin.read(), strict=strict)
    if as_json:
        print_json(parsed.to_dict())
        return
    print_json(parsed.calls)
    if parsed.reasoning:
        info(f"reasoning: {parsed.reasoning}")
    if parsed.content:
        info(f"content: {parsed.content}")
    if parsed.repairs:
        info(f"repaired: {', '.join(parsed.repairs)} (toolforge eval counts this output as invalid JSON)")
