"""Validators: typed issues for records, from any source.

Public API (a contract other areas build on)::

    from toolforge.validate import Issue, validate_record, RecordValidator, validate_store
    issues = validate_record(record_or_dict)           # list[Issue]
    v = RecordValidator(); v.validate(d)              # compile tool schemas once, reuse
    summary = validate_store(store, selection, stage="schema")

Issue codes are listed in :data:`CODES` (and the README).
"""

from __future__ import annotations

from typing import Any

from toolforge.validate.dialect import bfcl_to_jsonschema
from toolforge.validate.issues import ARG_CODES, CODES, Issue, errors_only, generation_blockers
from toolforge.validate.record_checks import RecordValidator
from toolforge.validate.run import STAGES, LineResult, Summary, validate_file, validate_store

_DEFAULT: RecordValidator | None = None


def validate_record(data: Any, *, check_scenario: bool = True, check_grounding: bool = True,
                    check_provenance: bool = True) -> list[Issue]:
    """Issues of one record (a plain dict or a :class:`~toolforge.record.Record`).

    Uses a process-wide :class:`RecordValidator`, so tool schemas are compiled
    once per distinct tool. ``check_grounding`` runs the grounding checks
    (:mod:`toolforge.validate.grounding`: answers, arguments and steps that the
    conversation does not support); ``check_provenance`` the copy and prompt-leak
    checks (:mod:`toolforge.validate.provenance`). Generation's accept step gets them here.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = RecordValidator()
    return _DEFAULT.validate(data, check_scenario=check_scenario, check_grounding=check_grounding,
                             check_provenance=check_provenance)


__all__ = [
    "ARG_CODES", "CODES", "STAGES", "Issue", "LineResult", "RecordValidator", "Summary",
    "bfcl_to_jsonschema", "errors_only", "generation_blockers", "validate_file", "validate_record", "validate_store",
]
