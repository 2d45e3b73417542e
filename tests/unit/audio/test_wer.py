"""WER after normalisation (case, punctuation, numbers)."""

import pytest

from toolforge.audio.asr import normalize, number_words, wer


def test_number_words():
    assert number_words(0) == "zero"
    assert number_words(42) == "forty two"
    assert number_words(2500) == "two thousand five hundred"
    assert number_words(1_000_017) == "one million seventeen"


def test_normalize_makes_spoken_and_written_forms_agree():
    assert normalize("If I invest $2,500 at 4%?") == normalize("if i invest dollars two thousand five hundred at four percent")
    assert normalize("It's 3.5 degrees.") == ["its", "three", "point", "five", "degrees"]


def test_wer_counts_edits_over_reference_words():
    assert wer("What's the weather in Oslo?", "what's the weather in oslo") == 0.0
    assert wer("one two three four", "one two three") == pytest.approx(0.25)
    assert wer("one two three four", "one too three four five") == pytest.approx(0.5)
    assert wer("the cat sat", "a completely different sentence here") == pytest.approx(5 / 3)
    assert wer("", "") == 0.0
