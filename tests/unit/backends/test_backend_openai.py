"""Request shaping and response reading of the openai: backend (no network)."""

from __future__ import annotations

import asyncio

import pytest

from toolforge.backends import load_teacher
from toolforge.backends.base import ChatRequest, TransientError, parse_retry_after
from toolforge.backends.openai_compat import (
    build_payload,
    detect_dialect,
    parse_completion,
    parse_spec,
)
from toolforge.errors import BackendError, UsageError

SCHEMA = {"type": "object", "properties": {"user": {"type": "string"}}, "required": ["user"]}


def req(**kw):
    return ChatRequest(messages=[{"role": "user", "content": "hi"}], response_schema=SCHEMA, seed=3, **kw)


def test_json_schema_dialect_wraps_schema():
    body = build_payload(req(), model="m", dialect="json_schema")
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    assert body["seed"] == 3 and body["model"] == "m"


def test_json_object_dialect_for_llamacpp_server():
    body = build_payload(req(), model="m", dialect="json_object")
    assert body["response_format"] == {"type": "json_object", "schema": SCHEMA}


def test_none_dialect_sends_no_response_format_and_tools_pass_through():
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    body = build_payload(req(tools=tools, tool_choice="auto"), model="m", dialect="none", extra_body={"top_k": 5})
    assert "response_format" not in body
    assert body["tools"] == tools and body["tool_choice"] == "auto" and body["top_k"] == 5


def test_parse_completion_reads_text_and_tool_call_arguments():
    data = {"choices": [{"finish_reason": "stop", "message": {"content": "x", "tool_calls": [
        {"function": {"name": "f", "arguments": "{\"a\": 1}"}}]}}], "usage": {"total_tokens": 4}}
    r = parse_completion(data)
    assert r.text == "x" and r.tool_calls == [{"name": "f", "arguments": {"a": 1}}]
    assert r.usage["total_tokens"] == 4
    with pytest.raises(TransientError) as e:
        parse_completion({"choices": []})
    assert e.value.code == "bad_response"


def test_dialect_detection():
    assert detect_dialect({"data": [{"id": "m", "owned_by": "me"}]}) == "json_object"
    assert detect_dialect({"data": [{"id": "m", "owned_by": "vllm"}]}) == "json_schema"
    assert detect_dialect([]) == "json_schema"


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None


def test_spec_parsing():
    assert parse_spec("gpt-4o-mini") == ("gpt-4o-mini", None)
    assert parse_spec("m@http://127.0.0.1:8000/v1/") == ("m", "http://127.0.0.1:8000/v1")
    with pytest.raises(UsageError):
        parse_spec("m@ftp://x")
    with pytest.raises(UsageError):
        parse_spec("")


def test_key_only_from_env_and_not_sent_to_custom_url(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(BackendError) as e:
        load_teacher("openai:gpt-4o-mini")
    assert "OPENAI_API_KEY" in str(e.value)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    official = load_teacher("openai:gpt-4o-mini")
    assert official._headers()["Authorization"] == "Bearer sk-secret-value"
    custom = load_teacher("openai:m@http://127.0.0.1:1/v1")
    assert "Authorization" not in custom._headers()
    monkeypatch.setenv("MY_KEY", "k2")
    asked = load_teacher("openai:m@http://127.0.0.1:1/v1", api_key_env="MY_KEY")
    assert asked._headers()["Authorization"] == "Bearer k2"
    assert "sk-secret-value" not in repr(official.__dict__)  # SecretStr hides it


def test_unreachable_server_is_a_backend_error():
    t = load_teacher("openai:m@http://127.0.0.1:9/v1")

    async def go():
        try:
            await t.check()
        finally:
            await t.aclose()

    with pytest.raises(BackendError) as e:
        asyncio.run(go())
    assert "cannot reach" in str(e.value)


def test_encoded_payload_equals_plain_json_with_and_without_the_schema_cache():
    import json

    from toolforge.backends.openai_compat import encode_payload

    cache = {}
    for dialect in ("json_schema", "json_object", "none"):
        r = req()
        plain = build_payload(r, model="m", dialect=dialect)
        for _ in range(2):
            assert json.loads(encode_payload(r, model="m", dialect=dialect, cache=cache)) == plain
    other = ChatRequest(messages=[{"role": "user", "content": "x"}], response_schema={"type": "object", "properties": {}})
    assert json.loads(encode_payload(other, model="m", dialect="json_schema", cache=cache)) == \
        build_payload(other, model="m", dialect="json_schema")
