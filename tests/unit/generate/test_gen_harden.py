"""Grammar hardening: control characters excluded, strings bounded, keys named, for every dialect."""

from __future__ import annotations

import json
import re

from toolforge.generate.harden import harden_schema, has_control_chars, safe_pattern


def test_patterns_cannot_match_control_characters_quotes_or_backslashes():
    for pattern in ("^.{1,20}$", "^[^,]+$", "^\\S+$", "^\\W?x$", "^a\\sb$", "^\\D{2}$", "^[a-z\\t]+$", "^.*$"):
        safe = safe_pattern(pattern)
        rx = re.compile(safe)
        for bad in ("a\x01b", "tab\there", 'q"uote', "back\\slash", "nl\nx", "del\x7f"):
            assert not rx.fullmatch(bad), (pattern, safe, bad)
    assert re.fullmatch(safe_pattern("^[^,]+$"), "Oslo, Norway") is None
    assert re.fullmatch(safe_pattern("^[^,]+$"), "Oslo Norway")
    assert re.fullmatch(safe_pattern("^a\\sb$"), "a b")


def test_every_string_bounded_and_no_free_keys():
    s = harden_schema({"type": "object", "properties": {
        "free": {"type": "string"}, "kept": {"type": "string", "maxLength": 900},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "when": {"type": "string", "format": "date-time"}}})
    p = s["properties"]
    assert p["free"]["maxLength"] == 120 and p["kept"]["maxLength"] == 900
    assert p["headers"]["additionalProperties"] is False and s["additionalProperties"] is False
    assert "maxLength" not in p["when"]  # a format bounds itself


def test_control_characters_found_anywhere_in_a_reply():
    assert has_control_chars(json.loads('{"a": ["ok", {"b": "x\\u0001"}]}'))
    assert has_control_chars({"k\x02": 1})
    assert not has_control_chars({"a": "line one\nline two\ttab", "n": 3})


def test_llama_cpp_grammar_strings_exclude_raw_control_characters():
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from toolforge.backends.llamacpp import _CHAR_RULE, exclude_control_chars

    gbnf = json_schema_to_gbnf(json.dumps({"type": "object", "properties": {"a": {"type": "string"}}}))
    assert any(line.startswith(_CHAR_RULE) for line in gbnf.splitlines())  # the binding's rule this fix targets
    char = next(line for line in exclude_control_chars(gbnf).splitlines() if line.startswith("char ::="))
    assert "\\x00-\\x1F\\x7F]" in char
