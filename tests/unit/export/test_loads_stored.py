"""loads_stored (one shared decoder for str input) decodes exactly as json.loads(parse_constant=refuse)."""

from __future__ import annotations

import json

import pytest

from toolforge.io.safejson import loads_stored


@pytest.mark.parametrize("text", ['{"a": [1, 2.5, -0.0, 1e400, "x\\u00e9"], "b": null}', "[]", '"\\ud800"',
                                  '{"a": 1, "a": 2}', "12345678901234567890123", '  {"x": true} '])
def test_same_values_as_json_loads(text):
    assert repr(loads_stored(text)) == repr(json.loads(text))
    assert repr(loads_stored(text.encode())) == repr(json.loads(text))


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", "-Infinity", '{"a": 1', "", "\ufeff{}", '{"a": 1} x'])
def test_refuses_what_json_loads_refuses_and_non_finite(text):
    with pytest.raises(ValueError):
        loads_stored(text)
