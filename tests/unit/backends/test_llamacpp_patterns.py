"""Regex patterns in response schemas must not crash llama.cpp's grammar parser.

llama-cpp-python copies escaped punctuation (``\\.``) from a pattern into a GBNF literal,
which llama.cpp rejects at sampling time, and the binding then segfaults the process.
The backend rewrites such escapes as one-character classes, which match the same strings.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from toolforge.backends.llamacpp import gbnf_safe_pattern, gbnf_safe_schema
from toolforge.generate.schema import EMAIL_PATTERN, URL_PATTERN

SAMPLES = ["https://ab.com/x", "https://ab.com", "ab.cd@ef.org", "a.b.5-", "a.bx5-", "https://", "aXb.5-",
           "a\\.b", "x-y", "x.y", "x]y", "a^b"]


@pytest.mark.parametrize("pattern", [URL_PATTERN, EMAIL_PATTERN, r"^a\.b[\.x]\d+\-$", r"^x\-y$", r"^x\]y$",
                                     r"^a\^b$", r"^https?://", r"^[a-z]{2}(-[A-Z]{2})?$"])
def test_rewritten_pattern_matches_the_same_strings(pattern):
    safe = gbnf_safe_pattern(pattern)
    assert "\\." not in re.sub(r"\[[^\]]*\]", "", safe)  # no escaped dot left outside a class
    for s in SAMPLES:
        assert bool(re.fullmatch(pattern, s)) == bool(re.fullmatch(safe, s)), (pattern, safe, s)


def test_schema_rewrite_touches_only_patterns():
    schema = {"type": "object", "properties": {"pattern": {"type": "string", "pattern": r"a\.b"},
                                               "u": {"type": "array", "items": {"pattern": r"\."}}}}
    out = gbnf_safe_schema(schema)
    assert out["properties"]["pattern"]["pattern"] == "a[.]b"
    assert out["properties"]["u"]["items"]["pattern"] == "[.]"
    assert "pattern" in out["properties"]  # a property *named* pattern is kept as a property
    assert schema["properties"]["pattern"]["pattern"] == r"a\.b"  # the input is not modified


def test_in_process_teacher_survives_a_url_pattern(smollm2_path):
    """A real SmolLM2 request under a schema with the URL pattern: no crash, and the output matches."""
    schema = {"type": "object", "properties": {"url": {"type": "string", "pattern": URL_PATTERN}},
              "required": ["url"], "additionalProperties": False}
    code = f"""
import asyncio, json
from toolforge.backends import load_teacher
from toolforge.backends.base import ChatRequest
async def main():
    t = load_teacher("llamacpp:{smollm2_path}")
    r = await t.chat(ChatRequest(messages=[{{"role": "user", "content": "Give me the DuckDB homepage URL as JSON."}}],
                                 response_schema=json.loads({json.dumps(json.dumps(schema))}), max_tokens=60,
                                 temperature=0.0, seed=1))
    await t.aclose()
    print(r.text)
asyncio.run(main())
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    url = json.loads(proc.stdout.strip().splitlines()[-1])["url"]
    assert re.fullmatch(URL_PATTERN, url), url
