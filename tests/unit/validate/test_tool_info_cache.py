"""RecordValidator keeps each tool's grounding info across tool sets (generation mixes the same tools
per record): computed once per tool, and the issues equal a fresh validator's."""

from __future__ import annotations

import copy
import itertools

import toolforge.validate.record_checks as rc
from tests.unit.validate.records import OPEN, SEARCH, WEATHER, single


def test_info_computed_once_per_tool_with_the_same_issues(monkeypatch):
    calls = []
    real = rc.tool_info
    monkeypatch.setattr(rc, "tool_info", lambda t: calls.append(t["function"]["name"]) or real(t))
    shared = rc.RecordValidator()
    recs = []
    for extra in itertools.permutations([SEARCH, OPEN]):
        for k in range(3):
            rec = single()
            rec["tools"] = [copy.deepcopy(WEATHER), *copy.deepcopy(list(extra[:k]))]
            rec["messages"][4]["content"] = ["It is 4 °C in Oslo.", "It is 9 °C in Oslo.", "Sunny, 4 °C."][k]
            recs.append(rec)
    got = [[i.to_dict() for i in shared.validate(r)] for r in recs]
    assert sorted(calls) == ["get_weather", "log_event", "web_search"]  # once each, five distinct tool sets
    want = [[i.to_dict() for i in rc.RecordValidator().validate(r)] for r in recs]
    assert got == want
    assert any(got)  # the 9 °C answer is flagged: the cached info still feeds the grounding checks
