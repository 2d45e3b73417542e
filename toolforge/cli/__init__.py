"""Command-line interface (see :mod:`toolforge.cli.app`)."""

from toolforge.cli.app import app, main

__all__ = ["app", "main"]
