"""The backend registry: spec parsing, availability with reasons, the fake teacher."""

from __future__ import annotations

import asyncio

import pytest

from toolforge.backends import (
    BACKENDS,
    BackendInfo,
    list_backends,
    load_teacher,
    unavailable_reason,
)
from toolforge.backends.base import ChatRequest, ChatResponse, Teacher, TransientError
from toolforge.errors import MissingExtraError, UsageError


def test_unknown_specs_are_usage_errors():
    for spec in ("nope:x", "gpt-4", ""):
        with pytest.raises(UsageError):
            load_teacher(spec)


def test_unavailable_backend_names_the_extra(monkeypatch):
    info = BackendInfo("ghost", "toolforge.backends.fake", "a backend needing a missing package",
                       ("surely-not-installed-dist",), "ghost")
    monkeypatch.setitem(BACKENDS, "ghost", info)
    assert "pip install 'toolforge[ghost]'" in unavailable_reason(info)
    rows = {r["prefix"]: r for r in list_backends()}
    assert rows["ghost"]["available"] is False and rows["fake"]["available"] is True
    with pytest.raises(MissingExtraError) as e:
        load_teacher("ghost:x")
    assert "toolforge[ghost]" in (e.value.hint or "")


def test_fake_teacher_is_a_teacher_and_scripts_replies():
    t = load_teacher("fake:")
    assert isinstance(t, Teacher)
    t.enqueue("one", ChatResponse(text="two"), TransientError("http_500", "boom"))
    r = ChatRequest(messages=[{"role": "user", "content": "x"}])

    async def go():
        a = await t.chat(r)
        b = await t.chat(r)
        with pytest.raises(TransientError):
            await t.chat(r)
        c = await t.chat(r)
        return a.text, b.text, c.text

    assert asyncio.run(go()) == ("one", "two", "ok")


def test_fake_teacher_answers_schemas_deterministically():
    t = load_teacher("fake:")
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3, "maximum": 4},
                                               "c": {"type": "string", "pattern": "^[a-z]{2}(-[A-Z]{2})?$"}},
              "required": ["n", "c"]}
    r = ChatRequest(messages=[{"role": "user", "content": "x"}], response_schema=schema, seed=5)
    a = asyncio.run(t.chat(r)).text
    assert a == asyncio.run(t.chat(r)).text
    import json
    import re

    d = json.loads(a)
    assert d["n"] in (3, 4) and re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", d["c"])
