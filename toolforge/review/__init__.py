"""Review in Label Studio: push records as tasks, pull verdicts and edits back.

Library API (the CLI ``toolforge review`` is a thin layer over it)::

    from toolforge.review import connect, push, pull, review_status
    ls = connect("http://127.0.0.1:8080")          # token from LABEL_STUDIO_API_KEY
    with open_store("toolforge.duckdb") as store:
        push(store, ls)                              # idempotent; syncs by record id
        pull(store, ls)                              # verdicts, annotations, revisions
        review_status(store)

Tables: ``review_verdicts`` (core: the resolved verdict per record, also set on
an edited revision), ``review_outcomes`` (how each verdict was reached: majority,
tie, ground truth, a fix, an invalid edit holding it back), ``review_annotations``
(every annotation, stale ones included), ``review_tasks`` and ``review_projects``
(which record became which task where), ``review_retired_tasks`` (superseded and
deleted tasks).

Modules: ``tasks`` and ``guidance`` (what a task shows), ``edits`` (what an
annotator changed), ``resolution`` (how a verdict is reached), ``versions``
(superseded and deleted tasks), ``feedback`` and ``webhook`` (results written
back to the task, at pull and seconds after submission), ``agreement``
(Krippendorff's alpha), ``server`` (Label Studio from its own venv).
"""

from toolforge.review.client import DEFAULT_PROJECT, DEFAULT_URL, TOKEN_ENV, LabelStudio, connect
from toolforge.review.pull import PullResult, pull
from toolforge.review.push import PushResult, default_selection, push
from toolforge.review.status import review_status

__all__ = ["DEFAULT_PROJECT", "DEFAULT_URL", "TOKEN_ENV", "LabelStudio", "PullResult", "PushResult", "connect",
           "default_selection", "pull", "push", "review_status"]
