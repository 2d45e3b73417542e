"""gc_paused turns the cyclic collector off for a bulk step and gives back its earlier state."""

from __future__ import annotations

import gc

import pytest

from toolforge.export.base import gc_paused


def test_state_comes_back_also_after_an_error():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("x")
    assert gc.isenabled()


def test_nested_and_already_disabled_stay_as_they_were():
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()

    @gc_paused()
    def bulk() -> bool:
        with gc_paused():
            pass
        return gc.isenabled()

    assert bulk() is False and bulk() is False  # usable as a decorator, again and again
    assert gc.isenabled()
