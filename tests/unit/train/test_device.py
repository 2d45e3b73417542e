"""Device and precision choice (GPU path tested with a stand-in torch: no GPU on these machines)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from toolforge.errors import UsageError
from toolforge.train.device import plan_device


def fake_torch(*, cuda: bool = False, bf16: bool = False, mps: bool = False) -> SimpleNamespace:
    return SimpleNamespace(cuda=SimpleNamespace(is_available=lambda: cuda, is_bf16_supported=lambda: bf16),
                           backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)))


def test_a_gpu_with_bf16_trains_in_bf16_with_gradient_checkpointing():
    plan = plan_device("auto", torch=fake_torch(cuda=True, bf16=True))
    assert (plan.device, plan.dtype, plan.bf16, plan.fp16, plan.gradient_checkpointing) == \
        ("cuda", "bfloat16", True, False, True)


def test_an_older_gpu_falls_back_to_fp16():
    plan = plan_device("auto", torch=fake_torch(cuda=True, bf16=False))
    assert (plan.dtype, plan.fp16, plan.bf16) == ("float16", True, False)


def test_gradient_checkpointing_can_be_turned_off_on_a_gpu_and_on_for_the_cpu():
    assert not plan_device("cuda", gradient_checkpointing=False, torch=fake_torch(cuda=True)).gradient_checkpointing
    assert plan_device("cpu", gradient_checkpointing=True, torch=fake_torch()).gradient_checkpointing


def test_the_cpu_trains_in_float32_without_checkpointing():
    plan = plan_device("auto", torch=fake_torch())
    assert (plan.device, plan.dtype, plan.gradient_checkpointing) == ("cpu", "float32", False)


def test_mps_is_used_on_apple_machines():
    assert plan_device("auto", torch=fake_torch(mps=True)).device == "mps"


def test_asking_for_a_gpu_that_is_not_there_is_a_usage_error():
    with pytest.raises(UsageError, match="no CUDA GPU"):
        plan_device("cuda", torch=fake_torch())


def test_the_real_torch_here_plans_the_cpu():
    assert plan_device().device == "cpu"
