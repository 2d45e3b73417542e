"""Bad dedup options are one-line usage errors."""

from __future__ import annotations

import pytest

from toolforge.dedup import make_config
from toolforge.errors import UsageError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "fuzzy"}, "unknown dedup method 'fuzzy'"),
        ({"method": "near", "threshold": 1.5}, "threshold must be greater than 0 and at most 1"),
        ({"method": "near", "threshold": 0.0}, "threshold must be greater than 0 and at most 1"),
        ({"method": "semantic", "threshold": -0.2}, "threshold must be greater than 0 and at most 1"),
        ({"method": "exact", "threshold": 0.9}, "--threshold applies to the near and semantic methods"),
        ({"method": "near", "engine": "faiss"}, "unknown near-dedup engine 'faiss'"),
        ({"method": "near", "ngram": 9}, "ngram"),
        ({"method": "near", "scenarios": ["nope"]}, "unknown scenario 'nope'"),
        ({"method": "near", "status": "shiny"}, "unknown status 'shiny'"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(UsageError) as err:
        make_config(**kwargs)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_defaults():
    assert make_config(method="near").effective_threshold == 0.8
    assert make_config(method="semantic").effective_threshold == 0.85
    assert make_config(method="near", threshold=1.0).effective_threshold == 1.0
