"""schemas/record.schema.json and the pydantic Record must accept and refuse the same things."""

from __future__ import annotations

import copy
import json

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from toolforge.canonical import content_id
from toolforge.record import SCENARIOS, Record
from toolforge.resources import schemas_dir

SCHEMA = json.loads((schemas_dir() / "record.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)


def _mutations(base: dict) -> list[tuple[str, dict]]:
    """Invalid variants of a valid record, each breaking one rule."""
    out = []

    def mut(name, fn):
        d = copy.deepcopy(base)
        fn(d)
        out.append((name, d))

    mut("no messages", lambda d: d.pop("messages"))
    mut("empty messages", lambda d: d.__setitem__("messages", []))
    mut("unknown top-level key", lambda d: d.__setitem__("extra", 1))
    mut("unknown scenario", lambda d: d.__setitem__("scenario", "chit_chat"))
    mut("bad role", lambda d: d["messages"][1].__setitem__("role", "robot"))
    mut("unknown message key", lambda d: d["messages"][1].__setitem__("mood", "happy"))
    mut("tool without name", lambda d: d["tools"][0]["function"].pop("name"))
    mut("tool type not function", lambda d: d["tools"][0].__setitem__("type", "retrieval"))
    mut("call without id", lambda d: d["messages"][2]["tool_calls"][0].pop("id"))
    mut("arguments a list", lambda d: d["messages"][2]["tool_calls"][0]["function"].__setitem__("arguments", [1]))
    mut("content a number", lambda d: d["messages"][1].__setitem__("content", 5))
    mut("meta a list", lambda d: d.__setitem__("meta", []))
    return out


def test_sample_records_valid_under_both(sample_dicts):
    for d in sample_dicts:
        VALIDATOR.validate(d)
        Record.model_validate(d)


def test_schema_scenarios_match_model():
    assert set(SCHEMA["properties"]["scenario"]["enum"]) - {None} == set(SCENARIOS)


@pytest.mark.parametrize("index", range(12))
def test_both_refuse_the_same_mutations(sample_dicts, index):
    base = next(d for d in sample_dicts if d["scenario"] == "single_tool")
    name, bad = _mutations(base)[index]
    assert not VALIDATOR.is_valid(bad), f"schema accepted: {name}"
    with pytest.raises(ValidationError):
        Record.model_validate(bad)


def test_dumped_record_validates_against_schema(sample_records):
    for rec in sample_records:
        VALIDATOR.validate(rec.to_dict())


def test_id_is_content_address(sample_dicts):
    d = sample_dicts[0]
    rec = Record.model_validate({**d, "id": "b2:wrong"})
    assert rec.id == content_id(rec.tools_dump(), rec.messages_dump())
    # meta and scenario are not part of the id
    other = Record.model_validate({**d, "meta": {"teacher": "x"}, "scenario": "no_tool_needed"})
    assert other.id == rec.id
    # a change of content changes the id
    changed = copy.deepcopy(d)
    changed["messages"][1]["content"] += "!"
    assert Record.model_validate(changed).id != rec.id


def test_string_arguments_are_parsed(sample_dicts):
    d = copy.deepcopy(next(x for x in sample_dicts if x["scenario"] == "single_tool"))
    args = d["messages"][2]["tool_calls"][0]["function"]["arguments"]
    d["messages"][2]["tool_calls"][0]["function"]["arguments"] = json.dumps(args)
    assert Record.model_validate(d).id == Record.model_validate(
        next(x for x in sample_dicts if x["scenario"] == "single_tool")).id
    d["messages"][2]["tool_calls"][0]["function"]["arguments"] = "{not json"
    with pytest.raises(ValidationError, match="not valid JSON"):
        Record.model_validate(d)
