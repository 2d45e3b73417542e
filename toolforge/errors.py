"""One error hierarchy for the whole toolkit.

Library code raises these; the CLI turns them into a one-line ``error: ...``
on stderr, the hint on the next line, and a non-zero exit (2 for user
mistakes). Messages must never contain secrets: callers pass names of
environment variables, never their values.
"""

from __future__ import annotations


class ToolforgeError(Exception):
    """Base class. ``hint`` says how to fix it; ``exit_code`` is what the CLI returns."""

    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        from toolforge.redact import redact_text

        message = redact_text(message)  # credentials in a URL or value never reach an error line
        super().__init__(message)
        self.message = message
        self.hint = redact_text(hint) if hint else hint

    def __str__(self) -> str:
        return self.message


class UsageError(ToolforgeError):
    """Bad options or arguments (unknown scenario, format, method, ...)."""


class InputError(ToolforgeError):
    """A file or value given by the user cannot be read or parsed."""


class CatalogError(InputError):
    """A tool catalog is missing or invalid."""


class StoreError(ToolforgeError):
    """The DuckDB store cannot be opened, migrated or written."""


class BackendError(ToolforgeError):
    """A teacher backend is unavailable or failed in a way retries cannot fix."""


class MissingExtraError(ToolforgeError):
    """An optional dependency is not installed."""

    def __init__(self, what: str, *, extra: str | None = None, apt: str | None = None) -> None:
        fixes = []
        if extra:
            fixes.append(f"pip install 'toolforge[{extra}]'")
        if apt:
            fixes.append(f"apt-get install {apt}")
        super().__init__(f"{what} is not available", hint=("install it: " + " or ".join(fixes)) if fixes else None)
        self.extra = extra
        self.apt = apt


class ExternalServiceError(ToolforgeError):
    """A server toolforge talks to (Label Studio, the Hub, S3) refused or is down."""


class Interrupted(ToolforgeError):
    """Ctrl-C: the CLI prints ``error: interrupted`` (and the hint, e.g. how to resume) and exits 130."""

    exit_code = 130

    def __init__(self, message: str = "interrupted", *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
