"""llamacpp: model resolution (packaged name, .gguf path, errors) and grammar compilation."""

from __future__ import annotations

import pytest

from toolforge.backends import load_teacher
from toolforge.backends.base import FatalBackendError
from toolforge.errors import InputError


def test_packaged_default_and_path(smollm2_path, tmp_path):
    t = load_teacher("llamacpp:smollm2")
    assert t.model_path == smollm2_path and smollm2_path.stat().st_size > 50_000_000
    assert load_teacher("llamacpp:").model_path == smollm2_path  # the default
    assert load_teacher(f"llamacpp:{smollm2_path}").name.startswith("llamacpp:")
    with pytest.raises(InputError):
        load_teacher("llamacpp:no-such-model")
    with pytest.raises(InputError):
        load_teacher(f"llamacpp:{tmp_path / 'missing.gguf'}")


def test_grammar_cache_and_uncompilable_schema(smollm2_path):
    t = load_teacher("llamacpp:smollm2")
    s = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 5}}, "required": ["a"]}
    assert t.grammar(s) is t.grammar(dict(s))  # compiled once per schema
    with pytest.raises(FatalBackendError):
        t.grammar({"type": "object", "properties": {"a": {"type": "string", "pattern": "^https?://"}}})
