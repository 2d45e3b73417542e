from __future__ import annotations

import pytest

from toolforge.errors import InputError, UsageError
from toolforge.export import FORMATS, get_format, select_records, unavailable_reason
from toolforge.store import Selection, open_store


def test_every_format_is_registered_and_available_here():
    assert list(FORMATS) == ["openai", "trl", "sharegpt", "hermes", "lfm2-audio"]
    for name in FORMATS:
        assert unavailable_reason(name) is None, name
        assert callable(get_format(name).write)


def test_unknown_format_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown export format 'csv'"):
        get_format("csv")


def test_empty_selection_is_an_input_error(filled_db):
    with open_store(filled_db) as store:
        with pytest.raises(InputError, match="no records to export"):
            select_records(store, Selection(status="valid"))  # nothing validated yet
        assert len(select_records(store, Selection(status="any"))) == 8
