"""`toolforge tools`: list, show and validate catalogs; build one from Python functions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from toolforge.cli.common import JsonOption, info, is_stdout_path, print_json

tools_app = typer.Typer(no_args_is_help=True, help="Tool catalogs: list, show, validate, from-python.")


def register(app: typer.Typer) -> None:
    app.add_typer(tools_app, name="tools")


@tools_app.command("list")
def list_tools(
    catalog: Annotated[Optional[list[str]], typer.Option("--catalog", "-c", help="Catalog name or .json path (default: all built-in).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List catalogs and their tools."""
    from toolforge.catalog import builtin_catalogs, load_catalog

    names = catalog or list(builtin_catalogs())
    cats = [load_catalog(n) for n in names]
    if as_json:
        print_json([{"catalog": c.name, "path": str(c.path),
                     "tools": [{"name": t.function.name, "description": t.function.description} for t in c.tools]}
                    for c in cats])
        return
    from toolforge.cli.display import Column, print_table

    print_table(["catalog", "tool", Column("description", fold=True)],
                [[c.name, t.function.name, t.function.description] for c in cats for t in c.tools])


@tools_app.command("show")
def show_tool(
    name: Annotated[str, typer.Argument(help="Tool name.")],
    catalog: Annotated[Optional[list[str]], typer.Option("--catalog", "-c", help="Catalogs to search (default: built-in).")] = None,
) -> None:
    """Print one tool's definition (its JSON Schema) as JSON."""
    from toolforge.catalog import find_tool

    _, tool = find_tool(name, list(catalog) if catalog else None)
    print_json(tool.model_dump(exclude_none=True))


@tools_app.command("validate")
def validate_catalog(
    file: Annotated[Path, typer.Argument(help="Catalog .json file.")],
    as_json: JsonOption = False,
) -> None:
    """Check a catalog: every parameters is a valid JSON Schema object; names unique and identifier-like."""
    from toolforge.catalog import validate_catalog_file
    from toolforge.errors import CatalogError

    problems = validate_catalog_file(file)
    if as_json:
        print_json([{"tool": p.tool, "message": p.message} for p in problems])
    if problems:
        first = problems[0]
        more = f" ({len(problems) - 1} more: see --json)" if len(problems) > 1 else ""
        raise CatalogError(f"{file}: tool {first.tool}: {first.message}{more}")
    if not as_json:
        info(f"{file}: ok")


@tools_app.command("from-python")
def from_python(
    module: Annotated[Path, typer.Argument(help="A .py file whose public functions become tools.")],
    functions: Annotated[Optional[list[str]], typer.Option("--function", help="Only these functions.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the catalog here instead of stdout ('-': stdout).")] = None,
    name: Annotated[Optional[str], typer.Option(help="Catalog name (default: module name).")] = None,
) -> None:
    """Turn typed, Google-docstring'd Python functions into a catalog JSON (HF get_json_schema conventions)."""
    from toolforge.catalog.from_python import catalog_from_module

    catalog = catalog_from_module(module, only=functions, name=name)
    from toolforge.cli.display import json_text

    text = json_text(catalog) + "\n"
    if out and not is_stdout_path(out):
        out.write_text(text, encoding="utf-8")
        info(f"wrote {len(catalog['tools'])} tools to {out}")
    else:
        typer.echo(text, nl=False)
