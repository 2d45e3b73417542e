"""The seeded voice plan: same inputs give the same voice; the dataset does not have one speaker."""

import pytest
from pydantic import ValidationError

from toolforge.audio.voices import VoicePlan, VoiceSpec

PLAN = dict(voices=["en-us", "en-gb", "en-gb-scotland"], variants=["", "m3", "f2"], rate=(140, 185), pitch=(30, 70))


def test_same_seed_same_voice_and_seed_changes_it():
    a, b, c = VoicePlan(**PLAN, seed=1), VoicePlan(**PLAN, seed=1), VoicePlan(**PLAN, seed=2)
    ids = [f"b2:{i:032x}" for i in range(40)]
    assert [a.pick(i, "user") for i in ids] == [b.pick(i, "user") for i in ids]
    assert [a.pick(i, "user") for i in ids] != [c.pick(i, "user") for i in ids]


def test_plan_spreads_over_voices_and_ranges():
    plan = VoicePlan(**PLAN)
    ids = [f"b2:{i:032x}" for i in range(200)]
    dist = plan.distribution(ids, roles=("user",))
    assert dist["distinct_voices"] >= 7          # 3 voices x 3 variants = 9 possible
    assert 140 <= dist["rate"][0] < 150 and 175 < dist["rate"][1] <= 185
    assert 30 <= dist["pitch"][0] < 40 and 60 < dist["pitch"][1] <= 70
    assert max(dist["voices"].values()) < 60      # no single speaker dominates


def test_assistant_keeps_one_voice_unless_varied():
    fixed = VoicePlan(**PLAN, assistant_voice=VoiceSpec(voice="en-us", rate=165, pitch=50))
    ids = [f"b2:{i:032x}" for i in range(30)]
    assert {fixed.pick(i, "assistant") for i in ids} == {VoiceSpec(voice="en-us", rate=165, pitch=50)}
    varied = VoicePlan(**PLAN, vary_assistant=True)
    assert len({varied.pick(i, "assistant") for i in ids}) > 5
    # the user's and the assistant's voices are drawn independently
    assert any(varied.pick(i, "assistant") != varied.pick(i, "user") for i in ids)


def test_bad_plans_are_refused():
    with pytest.raises(ValidationError):
        VoicePlan(voices=[])
    with pytest.raises(ValidationError):
        VoicePlan(voices=["en-us"], rate=(190, 140))
